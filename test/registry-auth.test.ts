/**
 * Registry credentials: where envctl finds a login (the environment for the
 * configured registry, then the files buildah, podman and docker write), the
 * one auth file it hands to builders, and the Bearer token flow against a
 * stand-in token server in this process (as GHCR and Docker Hub do it). The
 * 401 challenge against a real Distribution registry with htpasswd is in
 * registry-auth.builder.test.ts.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { authFiles, authFileText, credentialLookup, type Credentials } from '../src/registry/auth.js';
import { errorLine } from '../src/model/errors.js';
import { registryAccess, RegistryError, type RegistryAccess } from '../src/registry/client.js';
import { layerCount } from '../src/registry/manifest.js';
import { resolveDigest, tagManifest } from '../src/registry/tag.js';
import { config, removeDir, tempDir } from './helpers.js';
import { refusedWith } from './fixtures/registry-errors.js';
import { LoopbackServer } from './fixtures/loopback.js';


const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** Writes `{ auths }` as JSON to `path`, creating its directory. */
async function writeAuths(path: string, auths: Record<string, unknown>): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, JSON.stringify({ auths }));
}

const login = (user: string, password = `${user}-pw`) => ({ auth: b64(`${user}:${password}`) });

describe('registry auth: credentialLookup', () => {
  const dirs: string[] = [];
  const dir = async () => {
    const d = await tempDir('envctl-auth-');
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await removeDir(d);
  });

  it('gives the environment login to the configured registry host only, never to a base image\'s registry', async () => {
    const home = await dir();
    const env = { HOME: home, ENVCTL_REGISTRY_USERNAME: 'ci', ENVCTL_REGISTRY_PASSWORD: 'ci-secret' };
    const lookup = credentialLookup('registry.example.com:5000/team/envs', env);
    expect(lookup('registry.example.com:5000')).to.deep.equal({ username: 'ci', password: 'ci-secret' });
    expect(lookup('registry.example.com')).to.equal(undefined);
    expect(lookup('ghcr.io')).to.equal(undefined);
    expect(lookup('registry-1.docker.io')).to.equal(undefined);
  });

  it('ignores an environment username without a password', async () => {
    const home = await dir();
    expect(credentialLookup('ghcr.io', { HOME: home, ENVCTL_REGISTRY_USERNAME: 'ci' })('ghcr.io')).to.equal(undefined);
    expect(credentialLookup('ghcr.io', { HOME: home, ENVCTL_REGISTRY_PASSWORD: 'x' })('ghcr.io')).to.equal(undefined);
  });

  it('prefers the environment login over the files for the configured host, and reads the files for other hosts', async () => {
    const home = await dir();
    await writeAuths(join(home, '.docker', 'config.json'), { 'ghcr.io': login('file-user'), 'quay.io': login('quay-user') });
    const lookup = credentialLookup('ghcr.io/acme', { HOME: home, ENVCTL_REGISTRY_USERNAME: 'ci', ENVCTL_REGISTRY_PASSWORD: 'ci-secret' });
    expect(lookup('ghcr.io')).to.deep.equal({ username: 'ci', password: 'ci-secret' });
    expect(lookup('quay.io')).to.deep.equal({ username: 'quay-user', password: 'quay-user-pw' });
    // Without the environment login, the file's login serves the configured host too.
    expect(credentialLookup('ghcr.io/acme', { HOME: home })('ghcr.io')).to.deep.equal({ username: 'file-user', password: 'file-user-pw' });
  });

  it('lists the auth files in the order buildah and docker read them, defaulting under HOME', async () => {
    expect(authFiles({ HOME: '/h' })).to.deep.equal(['/h/.config/containers/auth.json', '/h/.docker/config.json']);
    expect(authFiles({ HOME: '/h', REGISTRY_AUTH_FILE: '/a.json', XDG_RUNTIME_DIR: '/run/u', XDG_CONFIG_HOME: '/cfg', DOCKER_CONFIG: '/dk' }))
      .to.deep.equal(['/a.json', '/run/u/containers/auth.json', '/cfg/containers/auth.json', '/dk/config.json']);
  });

  it('takes each host from the first file that has it: REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME, DOCKER_CONFIG', async () => {
    const root = await dir();
    const env = {
      HOME: join(root, 'home'),
      REGISTRY_AUTH_FILE: join(root, 'explicit.json'),
      XDG_RUNTIME_DIR: join(root, 'run'),
      XDG_CONFIG_HOME: join(root, 'config'),
      DOCKER_CONFIG: join(root, 'docker'),
    };
    await writeAuths(env.REGISTRY_AUTH_FILE, { 'a.example': login('explicit') });
    await writeAuths(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'), { 'a.example': login('runtime'), 'b.example': login('runtime') });
    await writeAuths(join(env.XDG_CONFIG_HOME, 'containers', 'auth.json'), { 'a.example': login('config'), 'b.example': login('config'), 'c.example': login('config') });
    await writeAuths(join(env.DOCKER_CONFIG, 'config.json'), { 'a.example': login('docker'), 'b.example': login('docker'), 'c.example': login('docker'), 'd.example': login('docker') });
    // Files under HOME are not read when XDG_CONFIG_HOME and DOCKER_CONFIG point elsewhere.
    await writeAuths(join(env.HOME, '.docker', 'config.json'), { 'e.example': login('home') });
    const lookup = credentialLookup('a.example', env);
    expect(['a', 'b', 'c', 'd', 'e'].map((h) => lookup(`${h}.example`)?.username)).to.deep.equal(['explicit', 'runtime', 'config', 'docker', undefined]);
  });

  it('reads containers auth.json and docker config.json under HOME when nothing else is set', async () => {
    const home = await dir();
    await writeAuths(join(home, '.config', 'containers', 'auth.json'), { 'a.example': login('containers') });
    await writeAuths(join(home, '.docker', 'config.json'), { 'a.example': login('docker'), 'b.example': login('docker') });
    const lookup = credentialLookup('x.example', { HOME: home });
    expect(lookup('a.example')?.username).to.equal('containers');
    expect(lookup('b.example')?.username).to.equal('docker');
  });

  it('normalises keys: schemes, paths, docker hub\'s legacy names', async () => {
    const home = await dir();
    await writeAuths(join(home, '.docker', 'config.json'), {
      'https://index.docker.io/v1/': login('hub'),
      'http://insecure.example:5000': login('insecure'),
      'https://ghcr.io/v1/': login('gh'),
      'quay.io/acme/team': login('quay'),
    });
    const lookup = credentialLookup('x.example', { HOME: home });
    expect(lookup('registry-1.docker.io')?.username).to.equal('hub');
    expect(lookup('insecure.example:5000')?.username).to.equal('insecure');
    expect(lookup('ghcr.io')?.username).to.equal('gh');
    expect(lookup('quay.io')?.username).to.equal('quay');
    expect(lookup('https://index.docker.io/v1/')).to.equal(undefined);

    const other = await dir();
    await writeAuths(join(other, '.docker', 'config.json'), { 'index.docker.io': login('hub2') });
    expect(credentialLookup('x.example', { HOME: other })('registry-1.docker.io')?.username).to.equal('hub2');
  });

  it('finds a Docker Hub login stored under `docker.io` (what buildah login / podman login write)', async () => {
    const home = await dir();
    await writeAuths(join(home, '.config', 'containers', 'auth.json'), { 'docker.io': login('hub') });
    // parseReference puts Docker Hub images on registry-1.docker.io: that is the name envctl asks for.
    expect(credentialLookup('x.example', { HOME: home })('registry-1.docker.io')).to.deep.equal({ username: 'hub', password: 'hub-pw' });
  });

  it('gives the environment login to Docker Hub when the configured registry is docker.io', async () => {
    const home = await dir();
    const env = { HOME: home, ENVCTL_REGISTRY_USERNAME: 'ci', ENVCTL_REGISTRY_PASSWORD: 'ci-secret' };
    expect(credentialLookup('docker.io/acme', env)('registry-1.docker.io')).to.deep.equal({ username: 'ci', password: 'ci-secret' });
    expect(credentialLookup('index.docker.io/acme', env)('registry-1.docker.io')).to.deep.equal({ username: 'ci', password: 'ci-secret' });
  });

  it('decodes base64 `auth` (keeping colons in the password) and username/password entries', async () => {
    const home = await dir();
    await writeAuths(join(home, '.docker', 'config.json'), {
      'a.example': { auth: b64('alice:pa:ss:word') },
      'b.example': { username: 'bob', password: 'hunter2' },
      'c.example': { auth: b64('carol:'), username: 'ignored', password: 'ignored' },
      'd.example': { auth: b64('no-colon'), username: 'dave', password: 'fallback' },
      'e.example': { auth: '' },
      'f.example': { username: 'frank' },
      'g.example': { identitytoken: 'opaque' },
    });
    const lookup = credentialLookup('x.example', { HOME: home });
    expect(lookup('a.example')).to.deep.equal({ username: 'alice', password: 'pa:ss:word' });
    expect(lookup('b.example')).to.deep.equal({ username: 'bob', password: 'hunter2' });
    expect(lookup('c.example')).to.deep.equal({ username: 'carol', password: '' });
    expect(lookup('d.example')).to.deep.equal({ username: 'dave', password: 'fallback' });
    expect(lookup('e.example')).to.equal(undefined);
    expect(lookup('f.example')).to.equal(undefined);
    expect(lookup('g.example')).to.equal(undefined);
  });

  it('skips a file it cannot read or parse and takes the next one', async () => {
    const root = await dir();
    const home = join(root, 'home');
    await writeAuths(join(home, '.docker', 'config.json'), { 'a.example': login('docker') });
    await mkdir(join(root, 'run', 'containers', 'auth.json'), { recursive: true }); // a directory, not a file
    await writeFile(join(root, 'broken.json'), '{ "auths": { "a.example": ');
    await mkdir(join(home, '.config', 'containers'), { recursive: true });
    await writeFile(join(home, '.config', 'containers', 'auth.json'), 'null');
    const env = { HOME: home, REGISTRY_AUTH_FILE: join(root, 'broken.json'), XDG_RUNTIME_DIR: join(root, 'run') };
    expect(credentialLookup('x.example', env)('a.example')).to.deep.equal({ username: 'docker', password: 'docker-pw' });
    const missing = { HOME: home, REGISTRY_AUTH_FILE: join(root, 'no-such-file.json') };
    expect(credentialLookup('x.example', missing)('a.example')?.username).to.equal('docker');
    expect(credentialLookup('x.example', missing)('b.example')).to.equal(undefined);
  });
});

describe('registry auth: authFileText', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await removeDir(d);
  });

  const parse = (text: string | undefined): Record<string, Credentials> => {
    expect(text).to.be.a('string');
    expect(text!.endsWith('\n')).to.equal(true);
    const auths = (JSON.parse(text!) as { auths: Record<string, { auth: string }> }).auths;
    return Object.fromEntries(Object.entries(auths).map(([k, v]) => {
      const d = unb64(v.auth);
      const i = d.indexOf(':');
      return [k, { username: d.slice(0, i), password: d.slice(i + 1) }];
    }));
  };

  it('is undefined without an environment login, even when files hold logins', async () => {
    const home = await tempDir('envctl-auth-');
    dirs.push(home);
    await writeAuths(join(home, '.docker', 'config.json'), { 'ghcr.io': login('file') });
    expect(authFileText('ghcr.io/acme', { HOME: home })).to.equal(undefined);
    expect(authFileText('ghcr.io/acme', { HOME: home, ENVCTL_REGISTRY_USERNAME: 'ci' })).to.equal(undefined);
  });

  it('merges every file\'s logins, the first file winning, with the environment login for the configured host', async () => {
    const root = await tempDir('envctl-auth-');
    dirs.push(root);
    const env = {
      HOME: join(root, 'home'),
      REGISTRY_AUTH_FILE: join(root, 'explicit.json'),
      ENVCTL_REGISTRY_USERNAME: 'ci',
      ENVCTL_REGISTRY_PASSWORD: 'ci:secret',
    };
    await writeAuths(env.REGISTRY_AUTH_FILE, { 'quay.io': login('explicit'), 'registry.example.com:5000': login('explicit') });
    await writeAuths(join(env.HOME, '.config', 'containers', 'auth.json'), { 'quay.io': login('containers'), 'ghcr.io': { username: 'gh', password: 'gh-pw' } });
    await writeAuths(join(env.HOME, '.docker', 'config.json'), { 'ghcr.io': login('docker'), 'https://other.example/v1/': login('other') });
    const auths = parse(authFileText('registry.example.com:5000/team', env));
    expect(auths).to.deep.equal({
      'registry.example.com:5000': { username: 'ci', password: 'ci:secret' },
      'quay.io': { username: 'explicit', password: 'explicit-pw' },
      'ghcr.io': { username: 'gh', password: 'gh-pw' },
      'other.example': { username: 'other', password: 'other-pw' },
    });
    // What it writes, credentialLookup reads back the same way.
    const back = credentialLookup('x.example', { HOME: join(root, 'empty'), REGISTRY_AUTH_FILE: join(root, 'merged.json') });
    await writeFile(join(root, 'merged.json'), authFileText('registry.example.com:5000/team', env)!);
    expect(back('registry.example.com:5000')).to.deep.equal({ username: 'ci', password: 'ci:secret' });
    expect(back('ghcr.io')).to.deep.equal({ username: 'gh', password: 'gh-pw' });
  });

  it('keeps a Docker Hub login under a key buildah and docker both resolve for Docker Hub', async () => {
    const home = await tempDir('envctl-auth-');
    dirs.push(home);
    await writeAuths(join(home, '.docker', 'config.json'), { 'https://index.docker.io/v1/': login('hub') });
    const auths = parse(authFileText('ghcr.io/acme', { HOME: home, ENVCTL_REGISTRY_USERNAME: 'ci', ENVCTL_REGISTRY_PASSWORD: 'pw' }));
    // containers/image maps `https://index.docker.io/v1/` to docker.io; docker looks that exact key up.
    // `registry-1.docker.io` is neither tool's name for Docker Hub: the login would be lost.
    expect(auths['https://index.docker.io/v1/']).to.deep.equal({ username: 'hub', password: 'hub-pw' });
    expect(Object.keys(auths)).to.not.include('registry-1.docker.io');
    expect(auths['ghcr.io']).to.deep.equal({ username: 'ci', password: 'pw' });
    // The environment login for a registry configured as docker.io goes under the same key.
    const hub = parse(authFileText('docker.io/acme', { HOME: home, ENVCTL_REGISTRY_USERNAME: 'ci', ENVCTL_REGISTRY_PASSWORD: 'pw' }));
    expect(hub).to.deep.equal({ 'https://index.docker.io/v1/': { username: 'ci', password: 'pw' } });
  });
});

describe('registry auth: registryAccess', () => {
  it('speaks http to an insecure configured registry and takes the environment login for it', () => {
    const cfg = config({ registry: { address: 'registry.internal:5000/team', insecure: true } });
    const access = registryAccess(cfg, { HOME: '/nonexistent-envctl-home', ENVCTL_REGISTRY_USERNAME: 'u', ENVCTL_REGISTRY_PASSWORD: 'p' });
    expect(access.insecure).to.deep.equal(['registry.internal:5000']);
    expect(access.credentials!('registry.internal:5000')).to.deep.equal({ username: 'u', password: 'p' });
    expect(access.credentials!('ghcr.io')).to.equal(undefined);
    expect(registryAccess(config({ registry: { address: 'ghcr.io/acme' } }), { HOME: '/nonexistent-envctl-home' }).insecure).to.deep.equal([]);
  });
});

// A stand-in for GHCR / Docker Hub: 401 with a Bearer challenge, a token endpoint, manifests only for the token.
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const BODY = JSON.stringify({
  schemaVersion: 2,
  mediaType: MANIFEST,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 2 },
  layers: [1, 2, 3].map((i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${String(i).repeat(64)}`, size: 1 })),
});
const BODY_DIGEST = `sha256:${createHash('sha256').update(BODY).digest('hex')}`;

interface Seen {
  path: string;
  method: string;
  authorization: string | undefined;
  query: URLSearchParams;
}

class TokenRegistry extends LoopbackServer {
  readonly seen: Seen[] = [];
  /** Basic credentials /token demands; undefined: anonymous tokens. */
  expect: Credentials | undefined;
  /** Bumped to invalidate every token issued so far. */
  generation = 1;
  readonly tags = new Map<string, string>();

  constructor(expect?: Credentials) {
    super();
    this.expect = expect;
  }


  /** Tokens name what they grant: `token-<generation>-<scope>`. */
  token(scope: string): string {
    return `token-${this.generation}-${scope}`;
  }

  tokenRequests(): Seen[] {
    return this.seen.filter((s) => s.path === '/token');
  }



  protected override handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.address}`);
    this.seen.push({ path: url.pathname, method: req.method ?? '', authorization: req.headers.authorization, query: url.searchParams });
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (url.pathname === '/token') {
      if (this.expect && req.headers.authorization !== `Basic ${b64(`${this.expect.username}:${this.expect.password}`)}`) {
        return send(401, JSON.stringify({ errors: [{ code: 'UNAUTHORIZED' }] }), { 'content-type': 'application/json' });
      }
      return send(200, JSON.stringify({ token: this.token(url.searchParams.get('scope') ?? ''), expires_in: 300 }), { 'content-type': 'application/json' });
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!m) return send(404, '{}');
    const [, name, reference] = m;
    // A pull token serves reads only; a PUT wants a token for pull,push (as GHCR and Docker Hub do).
    const scope = `repository:${name}:${req.method === 'PUT' ? 'pull,push' : 'pull'}`;
    const granted = [this.token(scope), this.token(`repository:${name}:pull,push`)].map((t) => `Bearer ${t}`);
    if (!granted.includes(req.headers.authorization ?? '')) {
      return send(401, JSON.stringify({ errors: [{ code: 'UNAUTHORIZED' }] }), {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="http://${this.address}/token",service="test",scope="${scope}"`,
      });
    }
    if (req.method === 'PUT') {
      this.tags.set(`${name}:${reference}`, BODY_DIGEST);
      return send(201, '', { 'docker-content-digest': BODY_DIGEST });
    }
    if (name !== 'x/y' || (reference !== '1' && reference !== BODY_DIGEST)) return send(404, '{}');
    return send(200, BODY, { 'content-type': MANIFEST, 'docker-content-digest': BODY_DIGEST });
  }
}

describe('registry auth: the Bearer token flow', () => {
  const CREDS = { username: 'robot', password: 'ghp_token' };
  const servers: TokenRegistry[] = [];
  const start = async (expect?: Credentials) => {
    const server = new TokenRegistry(expect);
    await server.start();
    servers.push(server);
    return server;
  };
  const access = (server: TokenRegistry, creds: Credentials | undefined): RegistryAccess => ({
    insecure: [],
    credentials: (registry) => (registry === server.address ? creds : undefined),
  });
  after(async () => {
    for (const s of servers) await s.stop();
  });

  it('exchanges the credentials for a token with the challenge\'s service and scope, then reuses the token', async () => {
    const server = await start(CREDS);
    const a = access(server, CREDS);
    expect(await layerCount(`${server.address}/x/y:1`, { platform: 'linux/amd64', timeoutMs: 5000, access: a })).to.equal(3);
    const tokens = server.tokenRequests();
    expect(tokens).to.have.length(1);
    expect(tokens[0]!.query.get('service')).to.equal('test');
    expect(tokens[0]!.query.get('scope')).to.equal('repository:x/y:pull');
    expect(tokens[0]!.authorization).to.equal(`Basic ${b64('robot:ghp_token')}`);
    const manifests = server.seen.filter((s) => s.path.startsWith('/v2/'));
    expect(manifests.map((s) => s.authorization)).to.deep.equal([undefined, 'Bearer token-1-repository:x/y:pull']);

    server.seen.length = 0;
    expect(await resolveDigest(`${server.address}/x/y:1`, a)).to.equal(BODY_DIGEST);
    // The cached token goes with the first request: no second challenge, no second token.
    expect(server.seen.map((s) => [s.method, s.path, s.authorization])).to.deep.equal([['HEAD', '/v2/x/y/manifests/1', 'Bearer token-1-repository:x/y:pull']]);
    expect(server.tokenRequests()).to.have.length(0);
  });

  it('asks for an anonymous token when there are no credentials', async () => {
    const server = await start();
    expect(await resolveDigest(`${server.address}/x/y:1`, access(server, undefined))).to.equal(BODY_DIGEST);
    const tokens = server.tokenRequests();
    expect(tokens).to.have.length(1);
    expect(tokens[0]!.authorization).to.equal(undefined);
    expect(tokens[0]!.query.get('scope')).to.equal('repository:x/y:pull');
  });

  it('fetches a new token when the cached one is refused', async () => {
    const server = await start(CREDS);
    const a = access(server, CREDS);
    expect(await resolveDigest(`${server.address}/x/y:1`, a)).to.equal(BODY_DIGEST);
    server.generation = 2;
    expect(await resolveDigest(`${server.address}/x/y:1`, a)).to.equal(BODY_DIGEST);
    expect(server.tokenRequests()).to.have.length(2);
    expect(server.seen.at(-1)!.authorization).to.equal('Bearer token-2-repository:x/y:pull');
  });

  it('asks for a push token when a PUT is challenged for pull,push (tagManifest)', async () => {
    const server = await start(CREDS);
    expect(await tagManifest(`${server.address}/x/y:1`, BODY_DIGEST, '2', access(server, CREDS))).to.equal(BODY_DIGEST);
    expect(server.tags.get('x/y:2')).to.equal(BODY_DIGEST);
    expect(server.tokenRequests().map((t) => t.query.get('scope'))).to.deep.equal(['repository:x/y:pull', 'repository:x/y:pull,push']);
    expect(server.tokenRequests().every((t) => t.authorization === `Basic ${b64('robot:ghp_token')}`)).to.equal(true);
    const put = server.seen.filter((s) => s.method === 'PUT');
    expect(put.map((s) => s.authorization)).to.deep.equal(['Bearer token-1-repository:x/y:pull', 'Bearer token-1-repository:x/y:pull,push']);
  });

  it('a token endpoint refusing the credentials leaves the request refused, with words naming the registry', async () => {
    const server = await start(CREDS);
    const wrong = access(server, { username: 'robot', password: 'nope' });
    await refusedWith(resolveDigest(`${server.address}/x/y:1`, wrong), 'registry-auth-required');
    await refusedWith(layerCount(`${server.address}/x/y:1`, { platform: 'linux/amd64', timeoutMs: 5000, access: wrong }), 'registry-auth-required');
    const err = await tagManifest(`${server.address}/x/y:1`, BODY_DIGEST, '2', wrong).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RegistryError);
    expect(errorLine(err)).to.contain(`registry ${server.address}`).and.contain('ENVCTL_REGISTRY_USERNAME');
    expect(server.tags.size).to.equal(0);
    expect(server.tokenRequests().every((t) => t.authorization === `Basic ${b64('robot:nope')}`)).to.equal(true);
  });

  it('does not hand a token got with one login to a request made without it (or with another)', async () => {
    const server = await start(CREDS);
    expect(await resolveDigest(`${server.address}/x/y:1`, access(server, CREDS))).to.equal(BODY_DIGEST);
    await refusedWith(resolveDigest(`${server.address}/x/y:1`, access(server, undefined)), 'registry-auth-required');
    await refusedWith(resolveDigest(`${server.address}/x/y:1`, access(server, { username: 'robot', password: 'nope' })), 'registry-auth-required');
    const err = await tagManifest(`${server.address}/x/y:1`, BODY_DIGEST, '3', access(server, undefined)).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(RegistryError);
    expect(server.tags.size).to.equal(0);
  });
});
