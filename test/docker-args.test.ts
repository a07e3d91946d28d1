import { expect } from 'chai';
import { readDockerArguments, type Reading } from '../src/check/docker-args.js';
import { csvRecord, mount, network, volume } from '../src/check/docker-values.js';
import { byRule, check, config, yaml } from './helpers.js';

/** Each reading in short: `--long=value@word`, `?--unknown@word`, `!why@word`. */
const read = (...words: string[]) => readDockerArguments(words).map(short);
function short(r: Reading): string {
  if (r.kind === 'flag') return `--${r.flag.long}=${r.value}@${r.at}`;
  if (r.kind === 'unknown') return `?${r.long}@${r.at}`;
  return `!${r.why}@${r.at}`;
}

type Policy = NonNullable<Parameters<typeof config>[0]>['policy'];
/** The docker-argument problems of environment `a` with `args`, as [rule, first quoted word] pairs. */
function refusals(args: string[], policy: Policy = {}) {
  const r = check({ 'environments/a.yaml': yaml('owner: alice', `dockerArguments: ${JSON.stringify(args)}`) },
    { config: config({ policy: { administratorFields: ['*'], ...policy } }) });
  return r.all.filter((p) => p.rule === 'policy-docker-argument' || p.rule === 'docker-argument-syntax');
}
const refusedEach = (variants: string[][], policy: Policy = {}) => {
  for (const args of variants) expect(refusals(args, policy), JSON.stringify(args)).to.have.length.greaterThan(0);
};

describe('docker arguments: read as pflag reads docker run', () => {
  it('long flags with = or the next word as value; booleans never take the next word', () => {
    expect(read('--network=host', '--network', 'host', '--env=A=b c')).to.deep.equal(['--network=host@0', '--network=host@1', '--env=A=b c@3']);
    expect(read('--rm', '--init=TRUE', '--read-only=0')).to.deep.equal(['--rm=true@0', '--init=TRUE@1', '--read-only=0@2']);
    expect(read('--privileged', 'false')).to.deep.equal(['--privileged=true@0', '!positional@1']);
    expect(read('--init=yes')).to.deep.equal(['!not-boolean@0']);
    expect(read('--network=')).to.deep.equal(['--network=@0']);
  });

  it('shorthands: -v value, -vvalue, -v=value, and clusters of booleans ending in one flag that eats the rest', () => {
    expect(read('-v', '/etc:/x')).to.deep.equal(['--volume=/etc:/x@0']);
    expect(read('-v/etc:/x', '-v=/etc:/y')).to.deep.equal(['--volume=/etc:/x@0', '--volume=/etc:/y@1']);
    expect(read('-itv/etc:/x')).to.deep.equal(['--interactive=true@0', '--tty=true@0', '--volume=/etc:/x@0']);
    expect(read('-tiv', '/:/host')).to.deep.equal(['--tty=true@0', '--interactive=true@0', '--volume=/:/host@0']);
    expect(read('-vit')).to.deep.equal(['--volume=it@0']);
    expect(read('-i=false', '-eFOO=1')).to.deep.equal(['--interactive=false@0', '--env=FOO=1@1']);
    expect(read('-Pp', '80:80')).to.deep.equal(['--publish-all=true@0', '--publish=80:80@0']);
  });

  it('stops where docker stops reading flags: a bare word or -- becomes the image and its command', () => {
    expect(read('--rm', 'ubuntu', '--privileged')).to.deep.equal(['--rm=true@0', '!positional@1']);
    expect(read('--', '--privileged')).to.deep.equal(['!end-of-flags@0']);
    expect(read('-')).to.deep.equal(['!positional@0']);
    expect(read(' --privileged')).to.deep.equal(['!positional@0']);
    expect(read('--network')).to.deep.equal(['!missing-value@0']);
    expect(read('-itv')).to.deep.equal(['--interactive=true@0', '--tty=true@0', '!missing-value@0']);
  });

  it('unknown and malformed flags; an unknown flag never hides the word after it', () => {
    expect(read('--foo', '-v/etc:/x')).to.deep.equal(['?--foo@0', '--volume=/etc:/x@1']);
    expect(read('--NETWORK=host', '--Privileged')).to.deep.equal(['?--NETWORK@0', '?--Privileged@1']);
    expect(read('-X', '-iX')).to.deep.equal(['!unknown-shorthand@0', '--interactive=true@1', '!unknown-shorthand@1']);
    expect(read('---privileged', '--=x')).to.deep.equal(['!syntax@0', '!syntax@1']);
    expect(read('--cap-add SYS_ADMIN', '-v /etc:/x')).to.deep.equal(['!spaced@0', '!spaced@1']);
  });
});

describe('docker arguments: values read as docker reads them', () => {
  it('volume specs: host paths in every form docker binds, named and anonymous volumes not', () => {
    for (const spec of ['/etc:/x', './d:/x', '../d:/x', '.:/x', '~/x:/x', '~:/x', 'C:\\x:/x', 'c:/x:/y:ro', '\\\\srv\\share:/x', 'a/b:/x', '/:/host:rshared', '/etc::/x', 'a:b:c:d', '']) {
      expect(volume(spec), spec).to.deep.include({ class: 'hostMounts' });
    }
    for (const spec of ['data:/data', 'cache:/c:ro', 'my_vol.1:/x:rw,nocopy', '/scratch', 'ab']) expect(volume(spec), spec).to.equal(undefined);
  });

  it('CSV as Go encoding/csv reads it', () => {
    expect(csvRecord('"type=bind",src=/etc')).to.deep.equal(['type=bind', 'src=/etc']);
    expect(csvRecord('"a,b""c",d')).to.deep.equal(['a,b"c', 'd']);
    expect(csvRecord('a,,b,')).to.deep.equal(['a', '', 'b', '']);
    for (const bad of ['type="bind"', '"open', '"x"y']) expect(csvRecord(bad), bad).to.equal(undefined);
  });

  it('--mount: bind in any case or quoting, volume driver options, the last type, unreadable ones', () => {
    for (const m of [
      'type=bind,src=/etc,dst=/e', 'type=BIND,source=/,target=/h', 'Type=Bind,src=/,dst=/h', '"type=bind",src=/,dst=/h',
      'type=volume,src=v,dst=/x,volume-opt=type=none,volume-opt=o=bind,volume-opt=device=/etc', 'type=volume,dst=/x,volume-driver=local',
      'type=tmpfs,dst=/t,type=bind,src=/', 'src=/etc,dst=/x', 'type=npipe,src=\\\\.\\pipe\\docker_engine,dst=/p', 'type=image,src=alpine,dst=/i',
      'type="bind",src=/,dst=/h', ' type =bind,src=/', '', 'type=volume,src=../up,dst=/x',
    ]) expect(mount(m), m).to.deep.include({ class: 'hostMounts' });
    for (const m of ['type=volume,src=data,dst=/data', 'type=tmpfs,dst=/t,tmpfs-size=1g', 'dst=/x', 'type=bind,src=/,type=volume,src=vol,dst=/v', 'TYPE=TMPFS,dst=/t']) {
      expect(mount(m), m).to.equal(undefined);
    }
  });

  it('--network: host, another container, a named network, and the long form naming any of them', () => {
    for (const n of ['host', 'container:db', 'name=host', 'name=host,alias=x', 'NAME=HOST', '"name=host"', 'alias=x,name=host', 'corp-vlan', 'ns:/proc/1/ns/net']) {
      expect(network(n), n).to.deep.include({ class: 'hostNetwork' });
    }
    for (const n of ['bridge', 'none', 'default', 'name=bridge,alias=x']) expect(network(n), n).to.equal(undefined);
  });
});

describe('docker arguments: policy per flag', () => {
  it('privileged: every spelling of privileges, capabilities, devices rules, confinement, namespaces, runtimes', () => {
    const privileged = [
      ['--privileged'], ['--privileged=true'], ['--privileged=1'], ['--privileged=false'], ['--cap-add=ALL'], ['--cap-add', 'sys_admin'],
      ['--device-cgroup-rule=a *:* rwm'], ['--security-opt=label=disable'], ['--security-opt', 'label:disable'], ['--security-opt=label=type:spc_t'],
      ['--security-opt=seccomp=unconfined'], ['--security-opt=seccomp:unconfined'], ['--security-opt=seccomp=/tmp/lax.json'],
      ['--security-opt=apparmor=unconfined'], ['--security-opt=APPARMOR=unconfined'], ['--security-opt=systempaths=unconfined'],
      ['--security-opt=no-new-privileges=false'], ['--security-opt=no-new-privileges:false'], ['--security-opt=writable-cgroups=true'],
      ['--cgroupns=host'], ['--cgroup-parent=/'], ['--runtime=runsc'], ['--userns=host'], ['--use-api-socket'],
    ];
    refusedEach(privileged);
    refusedEach(privileged, { hostNetwork: ['*'], hostMounts: ['*'] });
    for (const args of privileged) expect(refusals(args, { privileged: ['a'] }), JSON.stringify(args)).to.deep.equal([]);
  });

  it('hostNetwork: the host network, container networks, long forms, host namespaces, published ports', () => {
    const net = [
      ['--network=host'], ['--net=host'], ['--network', 'host'], ['--network=container:db'], ['--net', 'container:db'], ['--network=name=host'],
      ['--network=alias=a,name=host'], ['--network="name=host"'], ['--pid=host'], ['--pid', 'container:x'], ['--ipc=host'], ['--ipc=container:x'],
      ['--uts=host'], ['-p', '8080:80'], ['-p8080:80'], ['--publish=0.0.0.0:22:22'], ['-P'], ['-itP'],
    ];
    refusedEach(net, { privileged: ['*'], hostMounts: ['*'] });
    for (const args of net) expect(refusals(args, { hostNetwork: ['a'] }), JSON.stringify(args)).to.deep.equal([]);
  });

  it('hostMounts: host paths in -v and --mount, volume drivers, other containers, host files, devices', () => {
    const mounts = [
      ['-v/etc:/x'], ['-v=/etc:/x'], ['-itv/etc:/x'], ['-v', './data:/x'], ['--volume', '~/x:/x'], ['--volume=C:\\x:/x'], ['-v', '/:/host:rshared'],
      ['--mount=type=BIND,src=/,dst=/h'], ['--mount', 'Type=Bind,src=/etc,dst=/e'], ['--mount="type=bind",src=/,dst=/h'],
      ['--mount=type=volume,src=v,dst=/x,volume-opt=o=bind,volume-opt=device=/etc'], ['--mount=src=/etc,dst=/x'],
      ['--volumes-from=other'], ['--volumes-from', 'other:ro'], ['--volume-driver=local'], ['--env-file=/etc/shadow'], ['--label-file', '/x'],
      ['--cidfile=/tmp/id'], ['--device=/dev/sda'], ['--device', '/dev/fuse'],
    ];
    refusedEach(mounts, { privileged: ['*'], hostNetwork: ['*'] });
    for (const args of mounts) expect(refusals(args, { hostMounts: ['a'] }), JSON.stringify(args)).to.deep.equal([]);
  });

  it('refuses flags envctl does not know or does not judge harmless, naming the flag, unless policy.arguments names it', () => {
    const all = { privileged: ['*'], hostNetwork: ['*'], hostMounts: ['*'] };
    const cases: [string[], string][] = [
      [['--foo'], '--foo'], [['--foo=1'], '--foo'], [['--NETWORK=host'], '--NETWORK'], [['--entrypoint=/bin/sh'], '--entrypoint'],
      [['--oom-kill-disable'], '--oom-kill-disable'], [['-u', 'root'], '--user'], [['--annotation=run.oci.x=1'], '--annotation'], [['-d'], '--detach'],
    ];
    for (const [args, flag] of cases) {
      const found = refusals(args, all);
      expect(found.map((p) => p.rule), JSON.stringify(args)).to.deep.equal(['policy-docker-argument']);
      expect(found[0]!.message).to.contain(`policy.arguments["${flag}"]`);
      expect(refusals(args, { arguments: { [flag]: ['a'] } }), JSON.stringify(args)).to.deep.equal([]);
      expect(refusals(args, { arguments: { [flag]: ['b*'] } })).to.have.length(1);
    }
    // By name, one risky flag without its whole class; the name allows that flag only.
    expect(refusals(['--runtime=nvidia'], { arguments: { '--runtime': ['a'] } })).to.deep.equal([]);
    expect(refusals(['--runtime=nvidia', '--privileged'], { arguments: { '--runtime': ['a'] } }).map((p) => p.message.split('"')[1])).to.deep.equal(['--privileged']);
    // A shorthand envctl does not know cannot be named: its long form can.
    expect(refusals(['-X'], { arguments: { '--foo': ['*'] } }).map((p) => p.rule)).to.deep.equal(['docker-argument-syntax']);
  });

  it('refuses what would change the image or its command, or what docker reads otherwise than intended, whatever the policy', () => {
    const all = { privileged: ['*'], hostNetwork: ['*'], hostMounts: ['*'], arguments: { '--foo': ['*'] } };
    for (const args of [['ubuntu'], ['--rm', 'bash'], ['--', '--privileged'], ['--network'], ['-v'], ['--cap-add SYS_ADMIN'], ['-v /etc:/x'], ['---x'], ['--init=yes'], ['--privileged', 'false'], ['\u001b[2J']]) {
      const found = refusals(args, all);
      expect(found.map((p) => p.rule), JSON.stringify(args)).to.deep.equal(['docker-argument-syntax']);
      expect(found[0]!.message).to.not.match(/[\u0000-\u001f]/);
    }
  });

  it('gives real-world harmless arguments no error', () => {
    const fine = [
      '-e', 'FOO=bar', '--env=A=b c', '-eX=1', '--shm-size=2g', '--shm-size', '1g', '--gpus=all', '--gpus', '"device=0,1"', '--memory=4g', '-m', '4g',
      '--cpus=2', '--ulimit', 'nofile=4096', '--ulimit=memlock=-1:-1', '--tmpfs=/scratch:size=1g', '--workdir=/mnt', '-w', '/mnt', '--hostname=ws',
      '-h', 'ws', '--add-host=db:10.0.0.2', '--label=a=b', '-l', 'x=y', '-it', '--init', '--rm', '--read-only=false', '-v', 'data:/data',
      '-v=cache:/cache:ro', '--volume=/scratch', '--mount=type=volume,src=data,dst=/data', '--mount', 'type=tmpfs,dst=/t', '--network=bridge',
      '--network=none', '--ipc=private', '--ipc=shareable', '--cgroupns=private', '--security-opt=no-new-privileges', '--security-opt',
      'no-new-privileges:true', '--security-opt=seccomp=builtin', '--cap-drop=ALL', '--sysctl=net.core.somaxconn=1024', '--dns=10.0.0.53',
      '--pids-limit=512', '--group-add=users', '--health-cmd=curl -f localhost', '--stop-timeout=30', '--publish-all=false', '--use-api-socket=f',
      '--expose=8888', '--memory-swap=-1', '--cpu-shares=512', '-c', '512', '--device-read-bps=/dev/sda:1mb',
    ];
    expect(refusals(fine)).to.deep.equal([]);
  });

  it('locates each refusal at its own list item', () => {
    const r = check({ 'environments/a.yaml': yaml('owner: alice', 'dockerArguments:', '  - --shm-size=1g', '  - -itv/etc:/x', '  - --network', '  - host', '  - --foo') },
      { config: config({ policy: { administratorFields: ['a'] } }) });
    expect(byRule(r, 'policy-docker-argument').map((p) => [p.line, p.col, p.message.split('"')[1]])).to.deep.equal([
      [4, 5, '-itv/etc:/x'], [5, 5, '--network'], [7, 5, '--foo'],
    ]);
    expect(byRule(r, 'policy-docker-argument')[0]!.message).to.contain('-v (--volume) mounts host path /etc').and.contain('policy.hostMounts');
  });
});
