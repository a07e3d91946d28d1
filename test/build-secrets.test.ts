import { expect } from 'chai';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buildahArgs } from '../src/builder/buildah.js';
import { dockerBuildxArgs } from '../src/builder/docker.js';
import { BuildSecretMissing, masker, requireSecrets, secretArgs, writeSecretFiles } from '../src/builder/secrets.js';
import { runMounts, secretMount, splitCsv } from '../src/check/build-secrets.js';
import { renderEnvironment } from '../src/render/index.js';
import { byRule, check, config, removeDir, tempDir, yaml, type Run } from './helpers.js';

const env = (...lines: string[]) => yaml('owner: alice', ...lines);
const only = (r: Run, rule: string) => byRule(r, rule).map((p) => ({ line: p.line, col: p.col, severity: p.severity }));
const errors = (r: Run) => r.all.filter((p) => p.severity === 'error');
const TOKEN = 'buildSecrets: { token: { env: PIP_TOKEN, description: the index login } }';

describe('build secrets: schema', () => {
  it('takes ids as BuildKit allows and a variable name', () => {
    const r = check({ 'environments/a.yaml': env('buildSecrets:', '  pip.token-1_x: { env: PIP_TOKEN }', 'instructions: |', '  RUN --mount=type=secret,id=pip.token-1_x cat /run/secrets/pip.token-1_x') });
    expect(r.all).to.deep.equal([]);
  });

  it('refuses a bad id, a bad variable name, a missing env and unknown fields', () => {
    const r = check({ 'environments/a.yaml': env('buildSecrets:', '  "a/b": { env: X }', '  c: { env: 1X }', '  d: { description: x }', '  e: { env: X, value: leaked }') });
    const messages = errors(r).map((p) => `${p.line}:${p.message}`).join('\n');
    expect(messages).to.match(/^3:.*secret ids hold only/m);
    expect(messages).to.match(/^4:.*a variable name/m);
    expect(messages).to.match(/^5:.*env/m);
    expect(messages).to.match(/^6:.*value/m);
  });
});

describe('build secrets: reading RUN --mount', () => {
  it('reads the mount flags before the command, across continuations, as CSV', () => {
    const text = 'RUN --network=none --mount=type=cache,target=/root/.cache \\\n    --mount="type=secret,id=tok,target=/a b" pip install x --mount=type=secret,id=no';
    const mounts = runMounts(text);
    expect(mounts.map((m) => [m.type, m.offset])).to.deep.equal([['cache', 19], ['secret', 64]]);
    expect(secretMount(mounts[1]!)).to.deep.equal({ id: 'tok', target: '/a b', env: undefined, required: undefined });
  });

  it('resolves the id as BuildKit does: source, else id, else the basename of target', () => {
    const id = (v: string) => secretMount(runMounts(`RUN --mount=${v} true`)[0]!).id;
    expect(id('type=secret,target=/run/secrets/pw')).to.equal('pw');
    expect(id('type=secret,dst=/x/y/')).to.equal('y');
    expect(id('type=secret,id=a,src=b')).to.equal('b');
    expect(id('TYPE=Secret,ID=a')).to.equal('a');
    expect(runMounts('RUN --mount=id=a true')[0]!.type).to.equal('bind');
  });

  it('splits as Go encoding/csv', () => {
    expect(splitCsv('a,"b,c",d=""x""')).to.deep.equal(['a', 'b,c', 'd=""x""']);
    expect(splitCsv('"x""y",')).to.deep.equal(['x"y', '']);
  });
});

describe('build secrets: check', () => {
  it('a declared secret read by a RUN is clean, with buildah and docker', () => {
    for (const builder of ['buildah', 'docker', 'auto'] as const) {
      const r = check({ 'environments/a.yaml': env(TOKEN, 'instructions: |', '  RUN --mount=type=cache,target=/root/.cache \\', '      --mount=type=secret,id=token,required=true,mode=0400,uid=0,gid=0 cat /run/secrets/token') }, { config: config({ builder }) });
      expect(r.all, builder).to.deep.equal([]);
    }
  });

  it('an undeclared secret is an error at its --mount', () => {
    const r = check({ 'environments/a.yaml': env(TOKEN, 'instructions: |', '  RUN echo hi', '  RUN true && \\', '    true', '  RUN --mount=type=cache,target=/c \\', '      --mount=type=secret,id=other cat /run/secrets/other', '  RUN --mount=type=secret,id=token true') });
    expect(only(r, 'build-secret-undeclared')).to.deep.equal([{ line: 8, col: 7, severity: 'error' }]);
    expect(byRule(r, 'build-secret-undeclared')[0]!.message).to.contain('"other"').and.contain('declared: token');
  });

  it('a declared secret no RUN reads is a warning at its key', () => {
    const r = check({ 'environments/a.yaml': env('buildSecrets:', '  token: { env: T }', '  unused: { env: U }', 'instructions: |', '  RUN --mount=type=secret,id=token true') });
    expect(only(r, 'build-secret-unused')).to.deep.equal([{ line: 4, col: 3, severity: 'warning' }]);
  });

  it('buildah 1.28 forms: an id is needed, env= and a bare required are refused; BuildKit takes them', () => {
    const ins = ['instructions: |', '  RUN --mount=type=secret,target=/run/secrets/token true', '  RUN --mount=type=secret,id=token,env=TOKEN true', '  RUN --mount=type=secret,id=token,required true'];
    const buildah = check({ 'environments/a.yaml': env(TOKEN, ...ins) }, { config: config({ builder: 'buildah' }) });
    expect(only(buildah, 'build-secret-mount').map((p) => p.line)).to.deep.equal([4, 5, 6]);
    expect(byRule(buildah, 'build-secret-mount').map((p) => p.message).join('\n')).to.contain('needs the secret named with id=').and.contain('"env"').and.contain('required=true');
    const docker = check({ 'environments/a.yaml': env(TOKEN, ...ins) }, { config: config({ builder: 'docker' }) });
    expect(docker.all.filter((p) => p.rule.startsWith('build-'))).to.deep.equal([]);
    const auto = check({ 'environments/a.yaml': env(TOKEN, ...ins) });
    expect(only(auto, 'build-secret-mount').map((p) => p.line)).to.deep.equal([4, 5, 6]);
  });

  it('cache, bind and tmpfs mounts are left alone; ssh is a warning', () => {
    const r = check({ 'environments/a.yaml': env('instructions: |', '  RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=bind,source=x,target=/x --mount=type=tmpfs,target=/t true', '  RUN --mount=type=ssh git clone git@example.com:x') });
    expect(errors(r)).to.deep.equal([]);
    expect(only(r, 'build-mount-ssh')).to.deep.equal([{ line: 4, col: 7, severity: 'warning' }]);
  });
});

describe('build secrets: content key', () => {
  const key = (...lines: string[]) => {
    const r = check({ 'environments/a.yaml': env(...lines) });
    const a = r.environments[0]!;
    return renderEnvironment(a, { config: config(), all: new Map([['a', a]]) }).contentKey;
  };
  const RUN = ['instructions: |', '  RUN --mount=type=secret,id=token true'];

  it('covers the ids and variables, never a value; an environment without secrets keeps its key', () => {
    const plain = key('instructions: |', '  RUN --mount=type=secret,id=token true');
    const declared = key('buildSecrets: { token: { env: A } }', ...RUN);
    expect(declared).to.not.equal(plain);
    expect(key('buildSecrets: { token: { env: B } }', ...RUN)).to.not.equal(declared);
    expect(key('buildSecrets: { token: { env: A, description: changed } }', ...RUN)).to.equal(declared);
    expect(key('buildSecrets: {}', ...RUN)).to.equal(plain);
    process.env.ENVCTL_TEST_SECRET_A = 'one';
    const first = key('buildSecrets: { token: { env: ENVCTL_TEST_SECRET_A } }', ...RUN);
    process.env.ENVCTL_TEST_SECRET_A = 'two';
    expect(key('buildSecrets: { token: { env: ENVCTL_TEST_SECRET_A } }', ...RUN)).to.equal(first);
    delete process.env.ENVCTL_TEST_SECRET_A;
  });
});

describe('build secrets: builder arguments and values', () => {
  const req = { contextDir: '/c', dockerfile: '/d', tag: 'r/a:1', platform: 'linux/amd64', insecure: true, logFile: '/l', secrets: [{ id: 'token', env: 'T' }] };

  it('files 0600 in the given folder, the value nowhere in the arguments', async () => {
    const dir = await tempDir('envctl-secret-test-');
    try {
      const { files, values } = await writeSecretFiles(dir, 'a', req.secrets, { T: 'hunter2-value' });
      expect(files).to.deep.equal([{ id: 'token', file: join(dir, 'secret-0') }]);
      expect(values).to.deep.equal(['hunter2-value']);
      expect(await readFile(files[0]!.file, 'utf8')).to.equal('hunter2-value');
      expect((await stat(files[0]!.file)).mode & 0o777).to.equal(0o600);
      const bud = buildahArgs(req, '/digest', { storage: 'vfs', root: true, secrets: files }).bud;
      expect(bud.slice(bud.indexOf('--secret'), bud.indexOf('--secret') + 2)).to.deep.equal(['--secret', `id=token,src=${files[0]!.file}`]);
      const docker = dockerBuildxArgs(req, '/m', { secrets: files });
      expect(docker).to.include(`id=token,src=${files[0]!.file}`);
      expect([...bud, ...docker].join(' ')).to.not.contain('hunter2');
    } finally {
      await removeDir(dir);
    }
  });

  it('a missing or empty variable is an error naming the variable, never a value', () => {
    expect(() => requireSecrets('a', req.secrets, {})).to.throw(BuildSecretMissing, /variable T, which is not set/);
    expect(() => requireSecrets('a', req.secrets, { T: '' })).to.throw(BuildSecretMissing);
    expect(() => requireSecrets('a', req.secrets, { T: 'x' })).to.not.throw();
  });

  it('refuses a path the builders would split', () => {
    expect(() => secretArgs([{ id: 'token', file: '/tmp/a,b/secret-0' }])).to.throw(/cannot be passed/);
  });

  it('masks each value and each line of a multi-line one', () => {
    const mask = masker(['hunter2', 'line-one\nline-two\nx']);
    expect(mask('got hunter2 and line-two, x')).to.equal('got *** and ***, x');
  });
});
