/**
 * Builders: the argument arrays handed to buildah and docker buildx, and
 * sync's progress lines for terminals. What the machine's builders answer
 * (buildah installed, a docker client without the buildx plugin) is in
 * builder.builder.test.ts.
 */
import { expect } from 'chai';
import { buildahArgs } from '../src/builder/buildah.js';
import { builderEnv } from '../src/builder/run.js';
import { dockerBuildxArgs } from '../src/builder/docker.js';
import { progressFor, progressLine } from '../src/cli/progress.js';
import type { SyncEvent } from '../src/sync/index.js';

const req = {
  contextDir: '/b/context', dockerfile: '/b/Dockerfile', tag: 'reg.example:5000/envctl/a b:3', platform: 'linux/arm64',
  insecure: true, logFile: '/b/log', authFile: '/tmp/auth.json',
};

describe('builder: the arguments for buildah and docker buildx', () => {
  it('buildah builds with RUN steps in an OCI container (runc), the chosen storage and a layer per step, and pushes with a digest file', () => {
    const args = buildahArgs({ ...req, noCache: true }, '/tmp/digest', { storage: 'vfs', root: true });
    expect(args.bud).to.deep.equal(['--storage-driver', 'vfs', 'bud', '--isolation', 'oci', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--layers', '--force-rm', '--platform', 'linux/arm64', '--tls-verify=false', '--authfile', '/tmp/auth.json',
      '-f', '/b/Dockerfile', '-t', 'reg.example:5000/envctl/a b:3', '--no-cache', '/b/context']);
    expect(args.push).to.deep.equal(['--storage-driver', 'vfs', 'push', '--tls-verify=false', '--authfile', '/tmp/auth.json', '--digestfile', '/tmp/digest', 'reg.example:5000/envctl/a b:3']);
    const chroot = buildahArgs({ ...req, isolation: 'chroot' }, '/tmp/digest', { storage: 'overlay', root: true });
    expect(chroot.bud.slice(0, 5)).to.deep.equal(['--storage-driver', 'overlay', 'bud', '--isolation', 'chroot']);
    expect(chroot.bud).to.not.include('--runtime');
    const secure = buildahArgs({ ...req, insecure: false, authFile: undefined } as never, '/d', { storage: 'vfs' });
    expect(secure.push).to.include('--tls-verify=true').and.not.include('--authfile');
  });

  it('buildah runs RUN steps rootless (an OCI runtime in a user namespace) when envctl is not root', () => {
    const bud = buildahArgs(req, '/d', { storage: 'overlay', root: false }).bud;
    expect(bud.slice(bud.indexOf('--isolation'), bud.indexOf('--isolation') + 6)).to.deep.equal(['--isolation', 'rootless', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs']);
  });

  it('buildah reads every cache repository given and writes its own; noCache reads and writes none', () => {
    const cached = { ...req, cacheFrom: ['r/envctl/b/cache', 'r/envctl/a/cache'], cacheTo: 'r/envctl/b/cache' };
    const bud = buildahArgs(cached, '/d', { storage: 'vfs', root: true }).bud;
    const pairs = bud.flatMap((a, i) => (a.startsWith('--cache-') ? [[a, bud[i + 1]]] : []));
    expect(pairs).to.deep.equal([['--cache-from', 'r/envctl/b/cache'], ['--cache-from', 'r/envctl/a/cache'], ['--cache-to', 'r/envctl/b/cache']]);
    expect(bud.indexOf('--cache-to')).to.be.below(bud.indexOf('-f'));
    expect(buildahArgs({ ...cached, noCache: true }, '/d', { storage: 'vfs' }).bud.some((a) => a.startsWith('--cache'))).to.equal(false);
    expect(buildahArgs(cached, '/d', { storage: 'vfs', cache: false }).bud.some((a) => a.startsWith('--cache'))).to.equal(false);
  });

  it('a builder process gets the variables it needs to run, never the registry password or a token', () => {
    const env = builderEnv({ BUILDAH_ISOLATION: 'oci' }, {
      PATH: '/usr/bin', HOME: '/home/runner', XDG_RUNTIME_DIR: '/run/user/1001', CONTAINERS_STORAGE_CONF: '/s.conf', https_proxy: 'http://proxy:3128',
      ENVCTL_REGISTRY_PASSWORD: 'ghp_secret', ENVCTL_REGISTRY_USERNAME: 'bot', GITHUB_TOKEN: 'ghs_token', ACTIONS_RUNTIME_TOKEN: 'x', AWS_SECRET_ACCESS_KEY: 'y',
    });
    expect(env).to.deep.equal({ PATH: '/usr/bin', HOME: '/home/runner', XDG_RUNTIME_DIR: '/run/user/1001', CONTAINERS_STORAGE_CONF: '/s.conf', https_proxy: 'http://proxy:3128', BUILDAH_ISOLATION: 'oci' });
  });

  it('docker buildx builds and pushes in one call for the configured platform, without attestations', () => {
    const args = dockerBuildxArgs(req, '/tmp/meta.json');
    expect(args.slice(0, 2)).to.deep.equal(['buildx', 'build']);
    expect(args).to.include('--provenance=false');
    expect(args[args.indexOf('--platform') + 1]).to.equal('linux/arm64');
    expect(args[args.indexOf('--output') + 1]).to.equal('type=image,push=true,registry.insecure=true');
    expect(args[args.indexOf('--tag') + 1]).to.equal('reg.example:5000/envctl/a b:3');
    expect(args[args.indexOf('--metadata-file') + 1]).to.equal('/tmp/meta.json');
    expect(args.at(-1)).to.equal('/b/context');
    expect(dockerBuildxArgs({ ...req, insecure: false, noCache: true }, '/m')).to.include('--no-cache')
      .and.satisfy((a: string[]) => !a.some((x) => x.includes('registry.insecure')));
  });

});

describe('sync progress', () => {
  const e = (state: SyncEvent['state'], message: string): SyncEvent => ({ environment: 'python-datascience', revision: 12, state, message });

  it('plain lines outside a terminal, prefixed with environment@revision', () => {
    const out: string[] = [];
    const p = progressFor({ out: (t) => out.push(t), err: () => undefined, cwd: '/', env: {} });
    p.event(e('building', 'building (new revision)'));
    p.end();
    expect(out).to.deep.equal(['[python-datascience@12] building (new revision)']);
  });

  it('in a terminal, one line per environment redrawn in place, with the time spent in its state', () => {
    const raw: string[] = [];
    let clock = 0;
    const p = progressFor({ out: () => undefined, err: () => undefined, cwd: '/', env: {}, terminal: { write: (t) => raw.push(t), columns: 60 } }, () => clock);
    p.event(e('queued', 'queued'));
    p.event({ ...e('queued', 'queued'), environment: 'r' });
    clock = 7_000;
    p.event(e('building', 'building (new revision)'));
    clock = 19_000;
    p.end();
    const last = raw.at(-1)!;
    expect(last.startsWith('\x1b[2F')).to.equal(true); // back up over the two lines drawn before
    const lines = last.slice(4).split('\x1b[K\n').filter(Boolean);
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^▶ python-datascience@12 +12s {2}building/);
    expect(lines[1]).to.match(/^· r@12 +19s {2}queued/);
  });

  it('cuts a line to the terminal width and shows no clock once a build has ended', () => {
    const line = progressLine(e('succeeded', `succeeded sha256:${'a'.repeat(64)}`), 5000, 50);
    expect(line).to.have.length(50);
    expect(line.endsWith('…')).to.equal(true);
    expect(line).to.not.match(/\ds/);
  });
});
