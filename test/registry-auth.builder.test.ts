/**
 * Registry credentials against a real Distribution registry (Debian's
 * docker-registry) with htpasswd: the 401 Basic challenge answered, images
 * pushed with buildah through the auth file envctl writes. Where logins are
 * found, and the Bearer token flow, are in registry-auth.test.ts.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authFileText, credentialLookup } from '../src/registry/auth.js';
import { errorLine } from '../src/model/errors.js';
import { registryAccess, RegistryError, type RegistryAccess } from '../src/registry/client.js';
import { layerCount } from '../src/registry/manifest.js';
import { resolveDigest, tagManifest } from '../src/registry/tag.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { config, freePort, removeDir, tempDir, yaml } from './helpers.js';
import { refusedWith } from './fixtures/registry-errors.js';


const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Writes `{ auths }` as JSON to `path`, creating its directory. */
async function writeAuths(path: string, auths: Record<string, unknown>): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, JSON.stringify({ auths }));
}

const login = (user: string, password = `${user}-pw`) => ({ auth: b64(`${user}:${password}`) });

// A real Distribution registry with htpasswd auth (Basic challenges).
// A port of this run's own: two test runs on one machine never share a registry.
const PORT = await freePort();
const REGISTRY = `127.0.0.1:${PORT}`;
const USER = 'envctl';
const PASSWORD = 's3cret-envctl';
// bcrypt (cost 10) of the test password "s3cret-envctl", made once with bcryptjs: Distribution's htpasswd reads bcrypt only.
const HASH = '$2b$10$XdBnsn9qZCwWDHetmqTY2.EmrIZnsdsdgX41xa.A8/w2VyyTIBUDi';

async function answers401(): Promise<boolean> {
  try {
    const res = await fetch(`http://${REGISTRY}/v2/`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 401;
  } catch {
    return false;
  }
}

describe('registry auth: a Distribution registry with htpasswd', function () {
  this.timeout(300_000);
  let root: string;
  let emptyHome: string;
  let child: ChildProcess | undefined;
  let exited: Promise<void>;
  let digest: string;
  const image = `${REGISTRY}/test/busybox`;
  const env = () => ({ HOME: emptyHome, ENVCTL_REGISTRY_USERNAME: USER, ENVCTL_REGISTRY_PASSWORD: PASSWORD });
  const withLogin = (): RegistryAccess => ({ insecure: [], credentials: credentialLookup(REGISTRY, env()) });
  const anonymous = (): RegistryAccess => ({ insecure: [], credentials: credentialLookup(REGISTRY, { HOME: emptyHome }) });
  const wrongPassword = (): RegistryAccess => ({ insecure: [], credentials: credentialLookup(REGISTRY, { ...env(), ENVCTL_REGISTRY_PASSWORD: 'wrong' }) });

  before(async () => {
    if (await fetch(`http://${REGISTRY}/v2/`, { signal: AbortSignal.timeout(1000) }).then(() => true, () => false)) {
      throw new Error(`something already listens on ${REGISTRY}`);
    }
    root = await tempDir('envctl-auth-registry-');
    emptyHome = join(root, 'home');
    await mkdir(emptyHome);
    await writeFile(join(root, 'htpasswd'), `${USER}:${HASH}\n`);
    await writeFile(join(root, 'config.yml'), yaml(
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(join(root, 'data'))} }, delete: { enabled: true } }`,
      `http: { addr: "${REGISTRY}" }`,
      `auth: { htpasswd: { realm: envctl-test, path: ${JSON.stringify(join(root, 'htpasswd'))} } }`,
    ));
    const log = openSync(join(root, 'registry.log'), 'a');
    child = spawn('docker-registry', ['serve', join(root, 'config.yml')], { stdio: ['ignore', log, log] });
    closeSync(log);
    exited = new Promise<void>((r) => child!.once('exit', () => r()));
    let up = false;
    for (let i = 0; i < 100 && !up && child.exitCode === null; i++) {
      up = await answers401();
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) throw new Error(`docker-registry did not start: ${await readFile(join(root, 'registry.log'), 'utf8')}`);

    const text = authFileText(REGISTRY, env());
    await writeFile(join(root, 'auth.json'), text!, { mode: 0o600 });
    digest = await pushBusybox(`${image}:1`, 'registry-auth\n', join(root, 'auth.json'));
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (root) await removeDir(root);
  });

  it('refuses anonymous requests with a Basic challenge', async () => {
    const res = await fetch(`http://${REGISTRY}/v2/test/busybox/manifests/1`);
    await res.body?.cancel();
    expect(res.status).to.equal(401);
    expect(res.headers.get('www-authenticate')).to.match(/^Basic realm="envctl-test"/);
    expect(digest).to.match(/^sha256:[0-9a-f]{64}$/);
  });

  it('resolveDigest and layerCount answer the challenge with the environment login', async () => {
    expect(await resolveDigest(`${image}:1`, withLogin())).to.equal(digest);
    expect(await layerCount(`${image}:1`, { platform: 'linux/amd64', timeoutMs: 10_000, access: withLogin() })).to.equal(1);
  });

  it('registryAccess(config) carries the login for the configured registry', async () => {
    const access = registryAccess(config({ registry: { address: `${REGISTRY}/test` } }), env());
    expect(await resolveDigest(`${image}:1`, access)).to.equal(digest);
  });

  it('tagManifest tags the pushed manifest under a new tag', async () => {
    expect(await tagManifest(`${image}:1`, digest, 'tagged', withLogin())).to.equal(digest);
    expect(await resolveDigest(`${image}:tagged`, withLogin())).to.equal(digest);
  });

  it('without credentials: resolveDigest and layerCount throw a RegistryError (could not ask), never undefined (absent)', async () => {
    const err = await refusedWith(resolveDigest(`${image}:1`, anonymous()), 'registry-auth-required');
    expect(err).to.include({ kind: 'external', host: `registry ${REGISTRY}`, status: 401 });
    await refusedWith(resolveDigest(`${image}:1`, { insecure: [] }), 'registry-auth-required');
    await refusedWith(layerCount(`${image}:1`, { platform: 'linux/amd64', timeoutMs: 10_000, access: anonymous() }), 'registry-auth-required');
  });

  it('without credentials: tagManifest throws a RegistryError naming the registry and how to log in', async () => {
    const err = await tagManifest(`${image}:1`, digest, 'anon', anonymous()).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RegistryError);
    const message = (err as Error).message;
    expect(errorLine(err)).to.contain(`registry ${REGISTRY}`).and.contain('log in').and.contain('ENVCTL_REGISTRY_USERNAME');
    expect(message).to.contain('log in');
    expect(await resolveDigest(`${image}:anon`, withLogin())).to.equal(undefined);
  });

  it('the environment login for another registry is not sent here', async () => {
    const access: RegistryAccess = { insecure: [], credentials: credentialLookup('ghcr.io/acme', env()) };
    const err = await tagManifest(`${image}:1`, digest, 'elsewhere', access).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RegistryError);
    expect(errorLine(err)).to.contain(`registry ${REGISTRY}`).and.contain('ENVCTL_REGISTRY_USERNAME');
  });

  it('a wrong password is refused the same way', async () => {
    const err = await tagManifest(`${image}:1`, digest, 'wrong', wrongPassword()).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RegistryError);
    expect(errorLine(err)).to.contain(`registry ${REGISTRY}`).and.contain('log in').and.contain('ENVCTL_REGISTRY_USERNAME');
    await refusedWith(resolveDigest(`${image}:1`, wrongPassword()), 'registry-auth-required');
    expect(await resolveDigest(`${image}:wrong`, withLogin())).to.equal(undefined);
  });

  it('a login from a docker config.json under HOME serves as well as the environment', async () => {
    const home = join(root, 'docker-home');
    await writeAuths(join(home, '.docker', 'config.json'), { [`http://${REGISTRY}`]: login(USER, PASSWORD) });
    const access: RegistryAccess = { insecure: [], credentials: credentialLookup(REGISTRY, { HOME: home }) };
    expect(await resolveDigest(`${image}:1`, access)).to.equal(digest);
  });

  it('envctl build (a review build) pulls a private base with the login, as sync does, and fails without one', async () => {
    const repo = join(root, 'review-repo');
    await mkdir(repo);
    await git(repo, 'init', '-q', '-b', 'main');
    await commit(repo, {
      'envctl.yaml': yaml(`registry: { address: "${REGISTRY}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }', 'cache: { registry: false }'),
      '.gitignore': '.envctl/\n', 'environments/a.yaml': yaml('owner: a', 'instructions: |', '  RUN echo reviewed > /a'),
    }, 'a');
    const bin = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');
    const build = (extra: Record<string, string>) => execa(process.execPath, [bin, 'build'], { cwd: repo, reject: false, all: true, env: { PATH: process.env.PATH!, HOME: emptyHome, ...extra }, extendEnv: false });
    const ok = await build({ ENVCTL_REGISTRY_USERNAME: USER, ENVCTL_REGISTRY_PASSWORD: PASSWORD });
    expect(ok.exitCode, ok.all).to.equal(0);
    const anonymous = await build({});
    expect(anonymous.exitCode, anonymous.all).to.equal(1);
    expect(anonymous.all).to.match(/unauthorized|authentication required/);
  });
});
