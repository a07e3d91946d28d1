/**
 * An environment's own `platform:` (else envctl.yaml's): it is part of the
 * content key, the builder is asked to build for it, the registry is asked
 * for its base image's layers on it (an index holds a manifest per
 * platform), and a change of it alone is a new revision key.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildahArgs } from '../src/builder/buildah.js';
import type { BuildRequest } from '../src/builder/types.js';
import { loadConfig } from '../src/config/index.js';
import type { BuildRecord } from '../src/ledger/model.js';
import { checkBuild } from '../src/ledger/results.js';
import { planBuilds } from '../src/plan/index.js';
import { renderEnvironment } from '../src/render/index.js';
import { revisionKeys } from '../src/repository/history.js';
import { openRepository, validateRepository } from '../src/repository/index.js';
import type { HeadPlan } from '../src/repository/plan.js';
import { registryAccess } from '../src/registry/client.js';
import { revisionsOf } from '../src/store/revision-index.js';
import { buildStep } from '../src/sync/build-step.js';
import { commit, git } from './fixtures/repo.js';
import { check, config, removeDir, tempDir, writeTree, yaml } from './helpers.js';
import { LoopbackServer } from './fixtures/loopback.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
/** Pinned by digest: rendering and building ask no registry for it. */
const PINNED = `127.0.0.1:1/busybox:1@${DIGEST}`;

function env(...head: string[]): string {
  return yaml('owner: "@acme/team"', ...head, `base: { image: "${PINNED}" }`, 'instructions: |', '  RUN echo one');
}

const keyOf = (text: string) => {
  const run = check({ 'environments/e.yaml': text });
  const e = run.environments[0]!;
  return renderEnvironment(e, { config: config(), all: new Map([['e', e]]) }).contentKey;
};

describe('platform: an environment builds for its own platform', () => {
  it('the content key differs by platform; naming envctl.yaml\'s own platform keys as leaving it out', () => {
    const plain = keyOf(env());
    expect(keyOf(env('platform: linux/arm64'))).to.not.equal(plain);
    expect(keyOf(env('platform: linux/arm64'))).to.not.equal(keyOf(env('platform: linux/arm64/v8')));
    expect(keyOf(env('platform: linux/amd64'))).to.equal(plain);
  });

  it('an environment on its own platform is tagged with it; one on envctl.yaml\'s platform by its revision alone', () => {
    const run = check({ 'environments/arm.yaml': env('platform: linux/arm64/v8'), 'environments/site.yaml': env('platform: linux/amd64'), 'environments/plain.yaml': env() });
    const latest = new Map(['arm', 'site', 'plain'].map((n) => [n, { number: 2, commit: 'c'.repeat(40) }])) as never;
    const plan = planBuilds({ config: config(), environments: run.environments, latest, ledger: new Map() });
    expect(Object.fromEntries(plan.builds.map((b) => [b.environment, b.tag]))).to.deep.equal({ arm: '2-linux-arm64-v8', site: '2', plain: '2' });
  });

  it('a results entry may carry the platform after the revision in its tag, and nothing else', () => {
    const entry = (image: string) => ({ id: `2-${new Date().toISOString()}-abcdef`, revision: 2, commit: 'c'.repeat(40), contentKey: DIGEST, status: 'succeeded', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z', image, digest: DIGEST });
    expect(checkBuild({ environment: 'arm', record: entry('r.example/envctl/arm:2-linux-arm64') }, true)).to.not.be.a('string');
    expect(checkBuild({ environment: 'arm', record: entry('r.example/envctl/arm:2') }, true)).to.not.be.a('string');
    for (const bad of ['r.example/envctl/arm:3-linux-arm64', 'r.example/envctl/arm:2-latest', 'r.example/envctl/arm:2-linux-arm64-v8-x', 'r.example/envctl/other:2-linux-arm64']) {
      expect(checkBuild({ environment: 'arm', record: entry(bad) }, true), bad).to.be.a('string');
    }
  });

  it('the build step asks the builder for the environment\'s platform, and buildah is run with it', async () => {
    const root = await tempDir('envctl-platform-');
    try {
      const requests: BuildRequest[] = [];
      const run = check({ 'environments/e.yaml': env('platform: linux/arm64') });
      // The registry is a closed loopback port: the image size is left out, not a failure.
      const cfg = config({ registry: { address: '127.0.0.1:1' } });
      const plan = { environments: run.environments, ledger: new Map(), imageDigests: new Map() } as unknown as HeadPlan;
      const record = { id: 'x', revision: 1, commit: 'c', contentKey: '', status: 'building', startedAt: new Date().toISOString(), image: '127.0.0.1:1/envctl/e:1' } as BuildRecord;
      const builder = { version: 'fake 1', buildAndPush: async (req: BuildRequest) => { requests.push(req); return DIGEST; } };
      const ctx = { root, config: cfg, plan, done: new Map(), progress: () => undefined, access: registryAccess(cfg) };
      await buildStep({ environment: 'e', revision: 1, commit: 'c', action: 'build', reason: 'new revision', contentKey: null, after: [] } as never, ctx as never, record, builder, new AbortController().signal);
      expect(requests.map((r) => r.platform)).to.deep.equal(['linux/arm64']);
      expect(record.digest).to.equal(DIGEST);
      const bud = buildahArgs(requests[0]!, '/d', { storage: 'vfs', root: true }).bud;
      expect(bud[bud.indexOf('--platform') + 1]).to.equal('linux/arm64');
    } finally {
      await removeDir(root);
    }
  });
});

/** An OCI distribution stand-in on loopback serving one image as an index of two platforms with different layer counts, anonymously. */
class IndexRegistry extends LoopbackServer {
  private readonly blobs = new Map<string, { type: string; body: string }>();
  readonly asked: string[] = [];

  constructor(tag: string, platforms: { os: string; architecture: string; layers: number }[]) {
    super();
    const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
    const manifests = platforms.map(({ os, architecture, layers }) => {
      const body = JSON.stringify({
        schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(`${os}/${architecture}`), size: 2 },
        layers: Array.from({ length: layers }, (_, i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(`${architecture} ${i}`), size: 1 })),
      });
      this.blobs.set(sha(body), { type: 'application/vnd.oci.image.manifest.v1+json', body });
      return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(body), size: body.length, platform: { os, architecture } };
    });
    this.blobs.set(tag, { type: 'application/vnd.oci.image.index.v1+json', body: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }) });
  }




  protected override handle(req: IncomingMessage, res: ServerResponse): void {
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '');
    const blob = m ? this.blobs.get(decodeURIComponent(m[2]!)) : undefined;
    if (m) this.asked.push(decodeURIComponent(m[2]!));
    if (!blob) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      return;
    }
    res.writeHead(200, { 'content-type': blob.type, 'content-length': Buffer.byteLength(blob.body) });
    res.end(blob.body);
  }
}

describe('platform: base image layers are counted for each environment\'s platform', function () {
  this.timeout(20_000);
  const registry = new IndexRegistry('1', [{ os: 'linux', architecture: 'amd64', layers: 3 }, { os: 'linux', architecture: 'arm64', layers: 120 }]);
  let dir = '';

  before(async () => {
    await registry.start();
    dir = await tempDir('envctl-platform-layers-');
  });

  after(async () => {
    await registry.stop();
    if (dir) await removeDir(dir);
  });

  it('two environments on one image, one for arm64: each counts its own platform\'s layers', async () => {
    const image = `${registry.address}/py/img:1`;
    const on = (...head: string[]) => yaml('owner: "@acme/team"', ...head, `base: { image: "${image}" }`, 'instructions: |', '  RUN echo one', '  RUN echo two');
    await writeTree(dir, {
      'envctl.yaml': yaml(`registry: { address: "${registry.address}" }`),
      'environments/x86.yaml': on(),
      'environments/arm.yaml': on('platform: linux/arm64'),
    });
    const result = await validateRepository(await openRepository(dir));
    const layers = (name: string) => result.environments.find((e) => e.name === name)!.layers;
    expect(layers('x86')).to.include({ base: 3, total: 5 });
    expect(layers('arm')).to.include({ base: 120, total: 122 });
    expect(result.problems.filter((p) => p.rule === 'layer-limit-near').map((p) => p.file)).to.deep.equal(['environments/arm.yaml']);
    expect(result.problems.filter((p) => p.rule === 'layer-count-unknown' && p.file.startsWith('environments/'))).to.deep.equal([]);
  });
});

describe('platform: a change of an environment\'s platform alone is a new revision key', function () {
  this.timeout(20_000);

  it('keys differ when only platform: changes, and return when it is changed back', async () => {
    const dir = await tempDir('envctl-platform-rev-');
    try {
      const text = yaml('registry: { address: "127.0.0.1:1" }');
      await git(dir, 'init', '-q', '-b', 'main');
      await commit(dir, { 'envctl.yaml': text, '.gitignore': '.envctl/\n' }, 'Initial commit');
      await commit(dir, { 'environments/e.yaml': env() }, 'Add e');
      await commit(dir, { 'environments/e.yaml': env('platform: linux/arm64') }, 'e: arm64');
      await commit(dir, { 'environments/e.yaml': env() }, 'e: back');
      const cfg = loadConfig(new TextEncoder().encode(text)).config;
      const list = await revisionsOf(dir, cfg, 'e');
      expect(list.map((r) => r.number)).to.deep.equal([1, 2, 3]);
      const keys = (await revisionKeys(dir, cfg, list)).map((k) => k?.contentKey);
      expect(keys[0]).to.match(/^sha256:[0-9a-f]{64}$/);
      expect(keys[1]).to.not.equal(keys[0]);
      expect(keys[2]).to.equal(keys[0]);
      // Asked again, from the key memo under .envctl/cache: the same answers.
      expect((await revisionKeys(dir, cfg, list)).map((k) => k?.contentKey)).to.deep.equal(keys);
    } finally {
      await removeDir(dir);
    }
  });
});
