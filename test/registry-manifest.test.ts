/**
 * Registry look-ups against a local OCI distribution registry stand-in on
 * 127.0.0.1: the anonymous bearer-token handshake, an image index resolved
 * to the platform's manifest, and what validation makes of the layer count.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { RegistryError } from '../src/registry/client.js';
import { imageSize, layerCount } from '../src/registry/manifest.js';
import { resolveDigest } from '../src/registry/tag.js';
import { isLoopback, parseReference } from '../src/registry/reference.js';
import { openRepository, validateRepository } from '../src/repository/index.js';
import { removeDir, tempDir, writeTree, yaml } from './helpers.js';
import { LoopbackServer } from './fixtures/loopback.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG_MEDIA = 'application/vnd.oci.image.config.v1+json';
const LAYER_MEDIA = 'application/vnd.oci.image.layer.v1.tar+gzip';
const TOKEN = 'test-token-8f2c';

const sha256 = (data: string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** One image in the stand-in: per-platform layer counts, served as an index; or a single manifest. */
interface Image {
  platforms?: { platform: Platform; layers: number }[];
  single?: number;
}

interface Blob {
  mediaType: string;
  body: string;
}

function descriptor(mediaType: string, body: string) {
  return { mediaType, digest: sha256(body), size: Buffer.byteLength(body) };
}

/** An OCI image manifest (image-spec manifest.md) with `layers` layers. */
function imageManifest(layers: number, tag: string): string {
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, tag });
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: descriptor(CONFIG_MEDIA, config),
    layers: Array.from({ length: layers }, (_, i) => descriptor(LAYER_MEDIA, `${tag} layer ${i}`)),
  });
}

interface Request {
  method: string;
  path: string;
  authorization: string | undefined;
  accept: string | undefined;
  query: URLSearchParams;
}

class FakeRegistry extends LoopbackServer {
  readonly images = new Map<string, Image>();
  readonly requests: Request[] = [];
  /** When false, /token refuses and tokens handed out before are revoked, so no manifest can be read. */
  issueTokens = true;
  /** Set: every manifest request after the token is answered with this status (a registry in trouble). */
  failWith: number | undefined;
  private readonly blobs = new Map<string, Blob>();




  manifestRequests(): Request[] {
    return this.requests.filter((r) => r.path.includes('/manifests/'));
  }

  protected override handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.address}`);
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      authorization: req.headers.authorization,
      accept: req.headers.accept,
      query: url.searchParams,
    });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };

    if (url.pathname === '/token') {
      if (!this.issueTokens) return json(403, { errors: [{ code: 'DENIED', message: 'no anonymous pulls' }] });
      return json(200, { token: TOKEN, expires_in: 300, issued_at: new Date().toISOString() });
    }
    if (this.failWith !== undefined) return json(this.failWith, { errors: [{ code: 'UNAVAILABLE', message: 'try later' }] });
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!m || req.method !== 'GET') return json(404, { errors: [{ code: 'NAME_UNKNOWN', message: 'not here' }] });
    const name = m[1]!;
    const reference = decodeURIComponent(m[2]!);
    if (req.headers.authorization !== `Bearer ${TOKEN}` || !this.issueTokens) {
      return json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, {
        'www-authenticate': `Bearer realm="http://${this.address}/token",service="test",scope="repository:${name}:pull"`,
      });
    }
    const blob = reference.startsWith('sha256:') ? this.blobs.get(`${name}@${reference}`) : this.tagged(name, reference);
    if (!blob) return json(404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
    res.writeHead(200, {
      'content-type': blob.mediaType,
      'docker-content-digest': sha256(blob.body),
      'content-length': Buffer.byteLength(blob.body),
    });
    res.end(blob.body);
  }

  /** The tag's top-level document, registering every manifest it points to by digest. */
  private tagged(name: string, tag: string): Blob | undefined {
    const image = this.images.get(`${name}:${tag}`);
    if (!image) return undefined;
    if (image.single !== undefined) return { mediaType: MANIFEST, body: imageManifest(image.single, `${name}:${tag}`) };
    const manifests = (image.platforms ?? []).map(({ platform, layers }) => {
      const body = imageManifest(layers, `${name}:${tag}:${JSON.stringify(platform)}`);
      this.blobs.set(`${name}@${sha256(body)}`, { mediaType: MANIFEST, body });
      return { ...descriptor(MANIFEST, body), platform };
    });
    return { mediaType: INDEX, body: JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests }) };
  }
}

/** Accepts connections and never answers: a registry that hangs. */
async function blackHole(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const PLATFORMS = (amd64: number) => [
  { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layers: 7 },
  { platform: { os: 'linux', architecture: 'amd64' }, layers: amd64 },
  { platform: { os: 'windows', architecture: 'amd64' }, layers: 11 },
];

describe('registry: parseReference', () => {
  const hub = 'registry-1.docker.io';

  it('puts Docker Hub short names under registry-1.docker.io and library/', () => {
    expect(parseReference('debian')).to.deep.equal({ registry: hub, repository: 'library/debian', tag: 'latest' });
    expect(parseReference('debian:bookworm')).to.deep.equal({ registry: hub, repository: 'library/debian', tag: 'bookworm' });
    expect(parseReference('jupyter/base-notebook:2024-01-01')).to.deep.equal({ registry: hub, repository: 'jupyter/base-notebook', tag: '2024-01-01' });
    expect(parseReference('docker.io/debian:12')).to.deep.equal({ registry: hub, repository: 'library/debian', tag: '12' });
    expect(parseReference('docker.io/library/debian')).to.deep.equal({ registry: hub, repository: 'library/debian', tag: 'latest' });
    expect(parseReference('index.docker.io/acme/tool:1')).to.deep.equal({ registry: hub, repository: 'acme/tool', tag: '1' });
  });

  it('keeps a registry host, with or without a port', () => {
    expect(parseReference('ghcr.io/acme/tools/python:3.12')).to.deep.equal({ registry: 'ghcr.io', repository: 'acme/tools/python', tag: '3.12' });
    expect(parseReference('127.0.0.1:5115/envctl/debian:bookworm')).to.deep.equal({ registry: '127.0.0.1:5115', repository: 'envctl/debian', tag: 'bookworm' });
    expect(parseReference('localhost:5000/foo')).to.deep.equal({ registry: 'localhost:5000', repository: 'foo', tag: 'latest' });
    expect(parseReference('localhost/foo:1')).to.deep.equal({ registry: 'localhost', repository: 'foo', tag: '1' });
    expect(parseReference('registry:5000/team/img:v2')).to.deep.equal({ registry: 'registry:5000', repository: 'team/img', tag: 'v2' });
  });

  it('splits off digests, with or without a tag', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`debian@${digest}`)).to.deep.equal({ registry: hub, repository: 'library/debian', digest });
    expect(parseReference(`127.0.0.1:5115/envctl/x:3@${digest}`)).to.deep.equal({ registry: '127.0.0.1:5115', repository: 'envctl/x', tag: '3', digest });
    expect(parseReference(`ghcr.io/acme/x@${digest}`)).to.deep.equal({ registry: 'ghcr.io', repository: 'acme/x', digest });
  });

  it('isLoopback recognises loopback registries only', () => {
    expect(isLoopback('127.0.0.1:5115')).to.equal(true);
    expect(isLoopback('127.1.2.3')).to.equal(true);
    expect(isLoopback('localhost:5000')).to.equal(true);
    expect(isLoopback('[::1]:5000')).to.equal(true);
    expect(isLoopback('ghcr.io')).to.equal(false);
    expect(isLoopback('127.0.0.1.example.com')).to.equal(false);
    expect(isLoopback(hub)).to.equal(false);
  });
});

describe('registry: layerCount against a local OCI registry', function () {
  this.timeout(20_000);
  const registry = new FakeRegistry();

  before(async () => {
    await registry.start();
    registry.images.set('multi/arch:1', { platforms: PLATFORMS(5) });
    registry.images.set('single/image:2', { single: 4 });
    registry.images.set('no/amd64:1', { platforms: [{ platform: { os: 'linux', architecture: 'arm64' }, layers: 3 }] });
  });

  after(async () => {
    await registry.stop();
  });

  beforeEach(() => {
    registry.requests.length = 0;
    registry.issueTokens = true;
    registry.failWith = undefined;
  });

  /** The RegistryError a look-up rejects with (fails the test when it resolves). */
  async function refused(p: Promise<unknown>): Promise<RegistryError> {
    const got = await p.then((v) => ({ resolved: v }), (e: unknown) => e);
    expect(got, 'the look-up resolved instead of throwing').to.be.instanceOf(RegistryError);
    return got as RegistryError;
  }

  it('does the token handshake, follows the index to linux/amd64 and counts its layers', async () => {
    const n = await layerCount(`${registry.address}/multi/arch:1`, { platform: 'linux/amd64', timeoutMs: 5000, access: { insecure: [] } });
    expect(n).to.equal(5);

    const paths = registry.requests.map((r) => r.path);
    expect(paths[0]).to.equal('/v2/multi/arch/manifests/1');
    expect(registry.requests[0]!.authorization).to.equal(undefined);
    expect(registry.requests[0]!.accept).to.contain(INDEX).and.contain(MANIFEST);
    const token = registry.requests.find((r) => r.path === '/token')!;
    expect(token.query.get('service')).to.equal('test');
    expect(token.query.get('scope')).to.equal('repository:multi/arch:pull');
    const authed = registry.manifestRequests().filter((r) => r.authorization === `Bearer ${TOKEN}`);
    expect(authed.map((r) => r.path)).to.have.length(2);
    expect(authed[1]!.path).to.match(/^\/v2\/multi\/arch\/manifests\/sha256:[0-9a-f]{64}$/);
    // One token for the session: the per-digest request does not start another handshake.
    expect(registry.requests.filter((r) => r.path === '/token')).to.have.length(1);
  });

  it('picks other platforms by os, architecture and variant', async () => {
    expect(await layerCount(`${registry.address}/multi/arch:1`, { platform: 'linux/arm64/v8', timeoutMs: 5000, access: { insecure: [] } })).to.equal(7);
    expect(await layerCount(`${registry.address}/multi/arch:1`, { platform: 'linux/arm64', timeoutMs: 5000, access: { insecure: [] } })).to.equal(7);
    expect(await layerCount(`${registry.address}/multi/arch:1`, { platform: 'windows/amd64', timeoutMs: 5000, access: { insecure: [] } })).to.equal(11);
  });

  it('counts a tag that points straight at an image manifest', async () => {
    expect(await layerCount(`${registry.address}/single/image:2`, { platform: 'linux/amd64', timeoutMs: 5000, access: { insecure: [] } })).to.equal(4);
  });

  it('reads a manifest by digest', async () => {
    await layerCount(`${registry.address}/multi/arch:1`, { platform: 'linux/amd64', timeoutMs: 5000, access: { insecure: [] } });
    const digest = registry.manifestRequests().at(-1)!.path.split('/manifests/')[1]!;
    expect(await layerCount(`${registry.address}/multi/arch@${digest}`, { platform: 'linux/amd64', timeoutMs: 5000, access: { insecure: [] } })).to.equal(5);
  });

  it('is undefined when the index has no manifest for the platform', async () => {
    expect(await layerCount(`${registry.address}/no/amd64:1`, { platform: 'linux/amd64', timeoutMs: 5000, access: { insecure: [] } })).to.equal(undefined);
  });

  it('is undefined for 404 (unknown tag or repository)', async () => {
    expect(await layerCount(`${registry.address}/multi/arch:nosuchtag`, { platform: 'linux/amd64', timeoutMs: 5000, access: { insecure: [] } })).to.equal(undefined);
    expect(await layerCount(`${registry.address}/no/such:1`, { platform: 'linux/amd64', timeoutMs: 5000, access: { insecure: [] } })).to.equal(undefined);
    expect(registry.manifestRequests().some((r) => r.authorization !== undefined)).to.equal(true);
  });

  it('throws a RegistryError (the login was refused: could not ask) when the token endpoint refuses', async () => {
    registry.issueTokens = false;
    const err = await refused(layerCount(`${registry.address}/multi/arch:1`, { platform: 'linux/amd64', timeoutMs: 5000, access: { insecure: [] } }));
    expect(err).to.include({ kind: 'external', code: 'registry-auth-required', host: `registry ${registry.address}`, status: 401 });
    expect(err.message).to.contain('log in');
  });

  it('throws a RegistryError for a registry answering 503, for every look-up; 404 stays absent', async () => {
    registry.failWith = 503;
    const ref = `${registry.address}/multi/arch:1`;
    for (const p of [layerCount(ref, { platform: 'linux/amd64', timeoutMs: 5000, access: { insecure: [] } }), resolveDigest(ref, { insecure: [] }), imageSize(ref, { platform: 'linux/amd64', access: { insecure: [] } })]) {
      expect(await refused(p)).to.include({ code: 'registry-status', status: 503, host: `registry ${registry.address}` });
    }
    registry.failWith = undefined;
    expect(await resolveDigest(`${registry.address}/multi/arch:nosuchtag`, { insecure: [] })).to.equal(undefined);
    expect(await imageSize(`${registry.address}/no/such:1`, { platform: 'linux/amd64', access: { insecure: [] } })).to.equal(undefined);
  });

  it('throws a RegistryError naming the registry as not reachable, at once, for a closed loopback port', async () => {
    const port = await closedPort();
    const started = Date.now();
    const err = await refused(layerCount(`127.0.0.1:${port}/multi/arch:1`, { platform: 'linux/amd64', timeoutMs: 10_000, access: { insecure: [] } }));
    expect(err).to.include({ code: 'registry-unreachable', host: `registry 127.0.0.1:${port}` });
    expect(err.message).to.match(/^not reachable: ECONNREFUSED/);
    expect(await refused(resolveDigest(`127.0.0.1:${port}/multi/arch:1`, { insecure: [] }))).to.include({ code: 'registry-unreachable' });
    expect(Date.now() - started).to.be.below(2000);
  });

  it('throws a RegistryError (timeout) within the timeout for a loopback port that never answers', async () => {
    const hole = await blackHole();
    try {
      const started = Date.now();
      expect(await refused(layerCount(`127.0.0.1:${hole.port}/multi/arch:1`, { platform: 'linux/amd64', timeoutMs: 300, access: { insecure: [] } }))).to.include({ code: 'registry-timeout' });
      const took = Date.now() - started;
      expect(took).to.be.at.least(250);
      expect(took).to.be.below(2000);
    } finally {
      await hole.close();
    }
  });

  it('gives up within the timeout when a registry sends headers and then stalls', async () => {
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': MANIFEST, 'content-length': '1000' });
      res.write('{"schemaVersion": 2, "layers": [');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const started = Date.now();
      expect(await refused(layerCount(`127.0.0.1:${port}/x/y:1`, { platform: 'linux/amd64', timeoutMs: 300, access: { insecure: [] } }))).to.include({ code: 'registry-timeout' });
      expect(Date.now() - started).to.be.below(2000);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('registry: layer counts in validateRepository', function () {
  this.timeout(20_000);
  const registry = new FakeRegistry();
  const dirs: string[] = [];

  before(async () => {
    await registry.start();
  });

  after(async () => {
    await registry.stop();
    for (const d of dirs) await removeDir(d);
  });

  async function repoOn(image: string): Promise<string> {
    const dir = await tempDir('envctl-registry-');
    dirs.push(dir);
    await writeTree(dir, {
      // The deployment default image also lives on the stand-in (which lacks it): nothing leaves loopback.
      'envctl.yaml': yaml(`registry: { address: "${registry.address}" }`),
      'environments/big.yaml': yaml(
        'owner: "@acme/team"',
        `base: { image: "${image}" }`,
        'instructions: |',
        '  RUN echo one',
        '  ENV A=1',
        '  RUN echo two',
        '  WORKDIR /opt',
        '  RUN echo three',
      ),
    });
    return dir;
  }

  it('reports layer-limit when the registry says the base has 125 layers and 3 RUNs follow', async () => {
    registry.images.set('big/image:1', { platforms: PLATFORMS(125) });
    const dir = await repoOn(`${registry.address}/big/image:1`);
    const result = await validateRepository(await openRepository(dir));
    const limit = result.problems.filter((p) => p.rule === 'layer-limit');
    expect(limit, JSON.stringify(result.problems, null, 2)).to.have.length(1);
    expect(limit[0]).to.include({ file: 'environments/big.yaml', line: 3, col: 1, severity: 'error' });
    expect(limit[0]!.message).to.contain('128 layers').and.contain('125 from the base').and.contain('the limit is 127');
    // The RUNs are not consecutive, so there is nothing to combine.
    expect(limit[0]!.message).to.contain('Remove instructions or build on a base with fewer layers');
    expect(result.environments.find((e) => e.name === 'big')!.layers).to.include({ own: 3, base: 125, total: 128 });
    expect(registry.manifestRequests().some((r) => r.path === '/v2/big/image/manifests/1')).to.equal(true);
  });

  it('reports nothing about layers when the base has 2', async () => {
    registry.images.set('big/image:1', { platforms: PLATFORMS(2) });
    const dir = await repoOn(`${registry.address}/big/image:1`);
    const result = await validateRepository(await openRepository(dir));
    expect(result.problems.filter((p) => p.rule.startsWith('layer')), JSON.stringify(result.problems, null, 2)).to.deep.equal([]);
    expect(result.problems.filter((p) => p.severity === 'error')).to.deep.equal([]);
    expect(result.environments.find((e) => e.name === 'big')!.layers).to.include({ own: 3, base: 2, total: 5 });
  });

  it('a registry that cannot be asked leaves the count unknown, with a warning that says so (not that the image is absent)', async () => {
    const dir = await repoOn('127.0.0.1:1/big/image:1');
    const result = await validateRepository(await openRepository(dir));
    const unknown = result.problems.filter((p) => p.rule === 'layer-count-unknown');
    expect(unknown, JSON.stringify(result.problems, null, 2)).to.have.length(1);
    expect(unknown[0]).to.include({ severity: 'warning', file: 'environments/big.yaml' });
    expect(unknown[0]!.message).to.contain('could not be asked').and.contain('registry 127.0.0.1:1: not reachable');
    // An image the registry answers it lacks is a different sentence.
    const absent = await validateRepository(await openRepository(await repoOn(`${registry.address}/no/such:9`)));
    const said = absent.problems.find((p) => p.rule === 'layer-count-unknown')!.message;
    expect(said).to.contain('does not have it').and.not.contain('could not be asked');
  });

  it('offline, asks nothing and warns that the count is unknown', async () => {
    registry.images.set('big/image:1', { platforms: PLATFORMS(125) });
    const dir = await repoOn(`${registry.address}/big/image:1`);
    registry.requests.length = 0;
    const result = await validateRepository(await openRepository(dir), { offline: true });
    expect(registry.requests).to.deep.equal([]);
    expect(result.problems.map((p) => p.rule)).to.deep.equal(['layer-count-unknown']);
  });
});
