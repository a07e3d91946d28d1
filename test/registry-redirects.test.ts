/**
 * Where registry credentials go: real loopback servers on different ports
 * (each its own origin) stand in for a registry, the storage it redirects
 * blobs and manifests to, and token services. Credentials reach the
 * configured registry's own origin and the realm its own challenge names,
 * nothing reached by a redirect to another origin.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Credentials } from '../src/registry/auth.js';
import { realmUrl, RegistryError, registryFetch, type RegistryAccess } from '../src/registry/client.js';
import { layerCount } from '../src/registry/manifest.js';
import { refusedWith } from './fixtures/registry-errors.js';

const CREDS: Credentials = { username: 'robot', password: 'hunter2' };
const BASIC = `Basic ${Buffer.from('robot:hunter2').toString('base64')}`;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const BODY = JSON.stringify({
  schemaVersion: 2,
  mediaType: MANIFEST,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'c'.repeat(64)}`, size: 2 },
  layers: [1, 2].map((i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${String(i).repeat(64)}`, size: 1 })),
});
const DIGEST = `sha256:${createHash('sha256').update(BODY).digest('hex')}`;

interface Seen { path: string; authorization: string | undefined }
type Handler = (req: IncomingMessage, url: URL, send: (status: number, body?: string, headers?: Record<string, string>) => void) => void;

/** One loopback HTTP server that records every request's path and Authorization header. */
class Host {
  readonly seen: Seen[] = [];
  private server: Server | undefined;
  port = 0;
  handler: Handler = (_req, _url, send) => send(404, '{}');

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.address}`);
    this.seen.push({ path: url.pathname, authorization: req.headers.authorization });
    this.handler(req, url, (status, body = '', headers = {}) => {
      res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  }
}

const manifest = (send: Parameters<Handler>[2]) => send(200, BODY, { 'content-type': MANIFEST, 'docker-content-digest': DIGEST });
const unauthorized = (send: Parameters<Handler>[2], challenge: string) => send(401, '{"errors":[{"code":"UNAUTHORIZED"}]}', { 'www-authenticate': challenge });
const access = (registry: Host, creds: Credentials | undefined = CREDS): RegistryAccess => ({ insecure: [], credentials: (r) => (r === registry.address ? creds : undefined) });
const count = (registry: Host, a = access(registry)) => layerCount(`${registry.address}/x/y:1`, { platform: 'linux/amd64', timeoutMs: 5000, access: a });

describe('registry credentials: redirects and realms', () => {
  const hosts: Host[] = [];
  const host = async () => {
    const h = await new Host().start();
    hosts.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.stop();
  });

  it('follows a redirect to another origin (blob storage) without the Basic login', async () => {
    const registry = await host();
    const storage = await host();
    registry.handler = (req, _url, send) => {
      if (req.headers.authorization !== BASIC) return unauthorized(send, 'Basic realm="registry"');
      send(307, '', { location: `http://${storage.address}/bucket/manifest?sig=abc` });
    };
    storage.handler = (_req, _url, send) => manifest(send);
    expect(await count(registry)).to.equal(2);
    expect(registry.seen.map((s) => s.authorization)).to.deep.equal([undefined, BASIC]);
    expect(storage.seen).to.deep.equal([{ path: '/bucket/manifest', authorization: undefined }]);
  });

  it('follows a redirect to another origin without the Bearer token, and one to the same host on another port is another origin', async () => {
    const registry = await host();
    const tokens = await host();
    const other = await host();
    tokens.handler = (_req, _url, send) => send(200, JSON.stringify({ token: 'secret-token' }), { 'content-type': 'application/json' });
    registry.handler = (req, _url, send) => {
      if (req.headers.authorization !== 'Bearer secret-token') return unauthorized(send, `Bearer realm="http://${tokens.address}/token",service="reg",scope="repository:x/y:pull"`);
      send(302, '', { location: `//${other.address}/elsewhere` });
    };
    other.handler = (_req, _url, send) => manifest(send);
    expect(await count(registry)).to.equal(2);
    // Docker Hub's shape: the realm on another host, named by the registry's own challenge, gets the login.
    expect(tokens.seen.map((s) => s.authorization)).to.deep.equal([BASIC]);
    expect(other.seen.map((s) => s.authorization)).to.deep.equal([undefined]);
  });

  it('does not answer a challenge from a redirect target: its realm gets nothing and the request stays refused', async () => {
    const registry = await host();
    const evil = await host();
    const evilTokens = await host();
    registry.handler = (req, _url, send) => {
      if (req.headers.authorization !== BASIC) return unauthorized(send, 'Basic realm="registry"');
      send(301, '', { location: `http://${evil.address}/v2/x/y/manifests/1` });
    };
    evil.handler = (_req, _url, send) => unauthorized(send, `Bearer realm="http://${evilTokens.address}/token",service="evil"`);
    evilTokens.handler = (_req, _url, send) => send(200, '{"token":"t"}', { 'content-type': 'application/json' });
    await refusedWith(count(registry), 'registry-auth-required');
    expect(evilTokens.seen).to.deep.equal([]);
    expect(evil.seen.every((s) => s.authorization === undefined)).to.equal(true);
  });

  it('does not follow a token service\'s redirect (it would carry the login on to a host nobody named)', async () => {
    const registry = await host();
    const tokens = await host();
    const thief = await host();
    registry.handler = (_req, _url, send) => unauthorized(send, `Bearer realm="http://${tokens.address}/token"`);
    tokens.handler = (_req, _url, send) => send(302, '', { location: `http://${thief.address}/steal` });
    await refusedWith(count(registry), 'registry-auth-required');
    expect(tokens.seen.map((s) => s.authorization)).to.deep.equal([BASIC]);
    expect(thief.seen).to.deep.equal([]);
  });

  it('keeps the login on a redirect within the registry\'s own origin', async () => {
    const registry = await host();
    registry.handler = (req, url, send) => {
      if (req.headers.authorization !== BASIC) return unauthorized(send, 'Basic realm="registry"');
      if (url.pathname === '/v2/x/y/manifests/1') return send(308, '', { location: `/v2/x/y/manifests/${DIGEST}` });
      manifest(send);
    };
    expect(await count(registry)).to.equal(2);
    expect(registry.seen.map((s) => [s.path, s.authorization])).to.deep.equal([
      ['/v2/x/y/manifests/1', undefined], ['/v2/x/y/manifests/1', BASIC], [`/v2/x/y/manifests/${DIGEST}`, BASIC],
    ]);
  });

  it('refuses a realm that is not http(s) before sending it anything', async () => {
    const registry = await host();
    for (const realm of ['file:///etc/passwd', 'ftp://127.0.0.1/token', 'javascript:alert(1)']) {
      registry.handler = (_req, _url, send) => unauthorized(send, `Bearer realm="${realm}"`);
      const err = await refusedWith(count(registry), 'registry-realm-refused');
      expect(err.message).to.not.contain('hunter2');
    }
    registry.handler = (_req, _url, send) => unauthorized(send, 'Bearer realm="not a url"');
    await refusedWith(count(registry), 'registry-bad-answer');
  });

  it('wants an https realm from a registry spoken to over https (loopback servers here are http, so the rule itself)', () => {
    expect(realmUrl('ghcr.io', 'https://ghcr.io/token', false).href).to.equal('https://ghcr.io/token');
    expect(realmUrl('registry-1.docker.io', 'https://auth.docker.io/token', false).host).to.equal('auth.docker.io');
    for (const realm of ['http://auth.docker.io/token', 'HTTP://ghcr.io/token', 'ws://ghcr.io/token']) {
      const err = (() => { try { realmUrl('ghcr.io', realm, false); } catch (e) { return e; } return undefined; })();
      expect(err, realm).to.be.instanceOf(RegistryError);
      expect((err as RegistryError).code).to.equal('registry-realm-refused');
    }
    // registry.insecure (or loopback): the registry itself is plain http, so may its token service be.
    expect(realmUrl('registry.internal:5000', 'http://registry.internal:5001/token', true).protocol).to.equal('http:');
  });

  it('stops after a few redirects instead of following a loop', async () => {
    const registry = await host();
    registry.handler = (_req, url, send) => send(302, '', { location: `${url.pathname}x` });
    await refusedWith(count(registry), 'registry-status');
    expect(registry.seen.length).to.be.at.most(7);
  });

  it('drops an Authorization header the caller put in and gives the registry only its own', async () => {
    const registry = await host();
    const storage = await host();
    registry.handler = (_req, _url, send) => send(307, '', { location: `http://${storage.address}/blob` });
    storage.handler = (_req, _url, send) => send(200, 'bytes');
    const res = await registryFetch(registry.address, 'x/y/blobs/sha256:1', { headers: { Authorization: 'Bearer caller' }, signal: AbortSignal.timeout(5000) }, access(registry, undefined));
    expect(await res.text()).to.equal('bytes');
    expect([...registry.seen, ...storage.seen].map((s) => s.authorization)).to.deep.equal([undefined, undefined]);
  });
});
