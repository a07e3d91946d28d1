/**
 * Build secrets with real buildah and a real registry: a RUN reads the
 * secret (and writes its hash into the image, and prints it), and the value
 * is in no layer, not in the config or history, the build log, the ledger
 * or the content key. A missing variable fails the step before building.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadConfig } from '../src/config/index.js';
import { readLedger } from '../src/git/ledger.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { sync } from '../src/sync/index.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';
import { storageConf } from './fixtures/storage.js';

const PORT = await freePort();
const CONFIG_TEXT = yaml(`registry: { address: "127.0.0.1:${PORT}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }', 'storage: vfs');
const config = loadConfig(new TextEncoder().encode(CONFIG_TEXT)).config;
const VARIABLE = 'ENVCTL_TEST_BUILD_TOKEN';
const VALUE = `s3cret-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 16)}`;
const HASH = createHash('sha256').update(VALUE).digest('hex');

const spec = (extra: string) => yaml(
  'owner: a',
  'buildSecrets:',
  `  token: { env: ${VARIABLE}, description: the index login }`,
  'instructions: |',
  `  RUN --mount=type=secret,id=token sha256sum /run/secrets/token | cut -d" " -f1 > /token.sha256 && echo "printed $(cat /run/secrets/token)" && echo ${extra}`,
);

const manifestTypes = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

async function blob(repo: string, digest: string): Promise<Buffer> {
  const res = await fetch(`http://127.0.0.1:${PORT}/v2/${repo}/blobs/${digest}`);
  expect(res.status).to.equal(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('build secrets: with buildah and a real registry', function () {
  this.timeout(300_000);
  let registry: RunningRegistry;
  let dir: string;
  let registryData: string;
  let storage: string;
  const saved = { conf: process.env.CONTAINERS_STORAGE_CONF, value: process.env[VARIABLE] };

  before(async () => {
    registryData = await tempDir('envctl-registry-');
    registry = await startRegistry(registryData, PORT);
    await pushBusybox(`127.0.0.1:${PORT}/test/busybox:1`);
    // Buildah storage of this test's own.
    storage = await tempDir('envctl-secrets-storage-');
    process.env.CONTAINERS_STORAGE_CONF = await storageConf(storage);
    dir = await tempDir('envctl-secrets-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, { 'envctl.yaml': CONFIG_TEXT, '.gitignore': '.envctl/\n', 'environments/a.yaml': spec('one') }, 'a with a build secret');
  });
  after(async () => {
    if (saved.conf === undefined) delete process.env.CONTAINERS_STORAGE_CONF;
    else process.env.CONTAINERS_STORAGE_CONF = saved.conf;
    if (saved.value === undefined) delete process.env[VARIABLE];
    else process.env[VARIABLE] = saved.value;
    await registry.stop();
    await removeDir(dir);
    await removeDir(registryData);
    await removeDir(storage);
  });

  it('the RUN reads the secret; the value is in no layer, config, history, log, ledger or key', async () => {
    process.env[VARIABLE] = VALUE;
    const result = await sync(dir, config);
    expect(result.records.map((r) => [r.revision, r.status, r.failure])).to.deep.equal([[1, 'succeeded', undefined]]);
    const record = result.records[0]!;

    const res = await fetch(`http://127.0.0.1:${PORT}/v2/envctl/a/manifests/1`, { headers: { accept: manifestTypes } });
    const manifest = JSON.parse(await res.text()) as { config: { digest: string }; layers: { digest: string }[] };
    const layers = await Promise.all(manifest.layers.map(async (l) => {
      const bytes = await blob('envctl/a', l.digest);
      return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
    }));
    // Read: the hash the RUN wrote is in the last layer; the value itself in none.
    expect(layers.at(-1)!.includes(Buffer.from(HASH))).to.equal(true);
    for (const layer of layers) expect(layer.includes(Buffer.from(VALUE))).to.equal(false);
    const configBlob = (await blob('envctl/a', manifest.config.digest)).toString('utf8');
    expect(configBlob).to.contain('mount=type=secret,id=token'); // the history holds the RUN as written
    expect(configBlob).to.not.contain(VALUE);

    const log = await readFile(join(dir, record.log!), 'utf8');
    expect(log).to.contain('--secret id=token,src=');
    expect(log).to.contain('printed ***');
    expect(log).to.not.contain(VALUE);
    for (const file of await readdir(join(dir, '.envctl', 'logs'), { recursive: true })) {
      expect(await readFile(join(dir, '.envctl', 'logs', String(file))).catch(() => Buffer.alloc(0))).to.satisfy((b: Buffer) => !b.includes(Buffer.from(VALUE)));
    }

    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(JSON.stringify([...ledger.entries()])).to.not.contain(VALUE);
    expect(await git(dir, 'log', '-p', 'envctl-state')).to.not.contain(VALUE);
    expect(record.contentKey).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(record)).to.not.contain(VALUE);
  });

  it('a missing secret variable fails the step before building, naming the variable', async () => {
    delete process.env[VARIABLE];
    await commit(dir, { 'environments/a.yaml': spec('two') }, 'a: two');
    const result = await sync(dir, config);
    expect(result.records.map((r) => [r.revision, r.status, r.failure?.code])).to.deep.equal([[2, 'failed', 'build-secret-missing']]);
    const record = result.records[0]!;
    expect(record.reason).to.contain(VARIABLE).and.contain('"token"');
    // Before building: no builder ran, no log was written for it.
    expect(record.builder).to.equal(undefined);
    expect(record.log).to.equal(undefined);
    // Given the variable, the next sync builds it: the failure was the caller's environment, not the spec.
    process.env[VARIABLE] = VALUE;
    const again = await sync(dir, config);
    expect(again.records.map((r) => [r.revision, r.status])).to.deep.equal([[2, 'succeeded']]);
  });
});
