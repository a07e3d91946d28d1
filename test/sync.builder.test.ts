/**
 * sync with real buildah and a real registry (Debian's docker-registry on
 * loopback), on a busybox image made locally: build, no-op, rebuild on a
 * base change, git revert reusing images, a failing RUN, a registry down.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from '../src/git/ledger.js';
import { activeBuild } from '../src/ledger/model.js';
import { loadConfig } from '../src/config/index.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { sync } from '../src/sync/index.js';
import { containerIds } from '../src/builder/local.js';
import { resolveStorage } from '../src/builder/storage.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';

// A port of this run's own: two test runs on one machine never share a registry.
const PORT = await freePort();
const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');
const CONFIG_TEXT = yaml(`registry: { address: "127.0.0.1:${PORT}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }');
const config = loadConfig(new TextEncoder().encode(CONFIG_TEXT)).config;

const A = (run: string) => yaml('owner: a', 'instructions: |', `  RUN ${run}`);
const B = yaml('owner: a', 'base: { environment: a }', 'instructions: |', '  RUN cat /a > /b');

describe('sync: build, push and record with buildah and a real registry', function () {
  this.timeout(300_000);
  let registry: RunningRegistry;
  let dir: string;
  let registryData: string;
  let busyboxDigest: string;

  before(async () => {
    registryData = await tempDir('envctl-registry-');
    registry = await startRegistry(registryData, PORT);
    busyboxDigest = await pushBusybox(`127.0.0.1:${PORT}/test/busybox:1`);
    dir = await tempDir('envctl-sync-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, { 'envctl.yaml': CONFIG_TEXT, '.gitignore': '.envctl/\n', 'environments/a.yaml': A('echo one > /a'), 'environments/b.yaml': B }, 'a and b');
  });
  after(async () => {
    await registry.stop();
    await removeDir(dir);
    await removeDir(registryData);
  });

  it('the first sync builds every environment, base first, and records them in one ledger commit', async () => {
    const result = await sync(dir, config);
    expect(result.records.map((r) => [r.revision, r.status, r.builder?.startsWith('buildah')])).to.deep.equal([[1, 'succeeded', true], [1, 'succeeded', true]]);
    const { ledger } = await readLedger(dir, 'envctl-state');
    const a = activeBuild(ledger.get('a'))!;
    const b = activeBuild(ledger.get('b'))!;
    expect(a.digest).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(b.baseDigest).to.equal(a.digest);
    // The default image is pinned by digest in FROM, so its bytes are a build input.
    expect(a.baseDigest).to.equal(busyboxDigest);
    expect(await readFile(join(dir, '.envctl', 'build', 'a', 'Dockerfile'), 'utf8')).to.contain(`FROM 127.0.0.1:${PORT}/test/busybox:1@${busyboxDigest}`);
    expect(await git(dir, 'rev-list', '--count', 'envctl-state')).to.equal('1');
    // The registry serves the tag at the recorded digest.
    const res = await fetch(`http://127.0.0.1:${PORT}/v2/envctl/a/manifests/1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.headers.get('docker-content-digest')).to.equal(a.digest);
    expect(await readFile(join(dir, a.log!), 'utf8')).to.contain('RUN echo one > /a');
  });

  it('a sync with nothing new builds nothing and writes no ledger commit', async () => {
    const result = await sync(dir, config);
    expect(result.records).to.deep.equal([]);
    expect(await git(dir, 'rev-list', '--count', 'envctl-state')).to.equal('1');
  });

  it('changing a builds it and rebuilds b, which stands on its active revision', async () => {
    await commit(dir, { 'environments/a.yaml': A('echo two > /a') }, 'a: two');
    const result = await sync(dir, config);
    expect(result.records.map((r) => [r.revision, r.status])).to.deep.equal([[2, 'succeeded'], [1, 'succeeded']]);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(activeBuild(ledger.get('b'))!.baseDigest).to.equal(activeBuild(ledger.get('a'))!.digest);
  });

  it('git revert builds nothing: a reuses revision 1\'s image, and so does b', async () => {
    const before = await readLedger(dir, 'envctl-state');
    const first = before.ledger.get('a')!.builds.find((r) => r.revision === 1)!;
    await git(dir, 'revert', '--no-edit', 'HEAD');
    const result = await sync(dir, config);
    expect(result.records.map((r) => [r.revision, r.builder, r.reusedFrom])).to.deep.equal([[3, 'reused', 1], [1, 'reused', 1]]);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('a')!.active).to.equal(3);
    expect(activeBuild(ledger.get('a'))!.digest).to.equal(first.digest);
    const res = await fetch(`http://127.0.0.1:${PORT}/v2/envctl/a/manifests/3`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.headers.get('docker-content-digest')).to.equal(first.digest);
  });

  it('a failing RUN is recorded with its log tail, exits 1, and the previous active revision stays', async () => {
    await commit(dir, { 'environments/a.yaml': A('echo about to fail && exit 3') }, 'a: broken');
    const r = await execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false });
    expect(r.exitCode).to.equal(1);
    expect(r.stdout).to.contain('[a@4] failed: build failed');
    expect(r.stdout).to.contain('[b@1] failed: skipped: its base a did not build');
    const { ledger } = await readLedger(dir, 'envctl-state');
    const failed = ledger.get('a')!.builds.find((x) => x.revision === 4)!;
    expect(failed.status).to.equal('failed');
    expect(failed.logTail).to.contain('about to fail');
    // Failures as data: a's own build failed (not retried); b was skipped (retried).
    expect(failed.failure).to.deep.equal({ kind: 'build', code: 'build-failed' });
    expect(ledger.get('b')!.builds.at(-1)!.failure).to.deep.equal({ kind: 'skipped', code: 'base-failed' });
    expect(ledger.get('a')!.active).to.equal(3);
    expect(ledger.get('b')!.active).to.equal(1);
    // A failing RUN is not retried by the next sync until the content changes.
    const again = await sync(dir, config);
    expect(again.records.map((x) => x.revision)).to.deep.equal([1]);
  });

  it('killed with SIGKILL mid-build, the next sync ends the ledger as an uninterrupted one would', async () => {
    await commit(dir, { 'environments/a.yaml': A('sleep 3 && echo killed > /a') }, 'a: slow');
    const commitsBefore = Number(await git(dir, 'rev-list', '--count', 'envctl-state'));
    const { driver } = await resolveStorage('auto');
    const containersBefore = await containerIds(driver);
    const child = execa(process.execPath, [BIN, 'sync'], { cwd: dir, detached: true, reject: false, buffer: false });
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('building')) resolve();
      });
    });
    // Killed once buildah has its working container, as a sync killed in a RUN step would leave it.
    for (let i = 0; i < 300 && (await containerIds(driver)).length <= containersBefore.length; i++) await new Promise((r) => setTimeout(r, 100));
    process.kill(-child.pid!, 'SIGKILL'); // envctl and the buildah it started
    await child;
    expect(Number(await git(dir, 'rev-list', '--count', 'envctl-state'))).to.equal(commitsBefore);
    // The killed build left its working container; the next sync removes it and says so.
    expect((await containerIds(driver)).length).to.be.above(containersBefore.length);
    const result = await sync(dir, config);
    expect(result.failed).to.equal(0);
    expect(result.storage?.removedContainers).to.be.at.least(1);
    expect(await containerIds(driver)).to.deep.equal(containersBefore);
    const { ledger } = await readLedger(dir, 'envctl-state');
    const rev = ledger.get('a')!.active!;
    expect(ledger.get('a')!.builds.filter((b) => b.revision === rev)).to.have.length(1);
    expect(Number(await git(dir, 'rev-list', '--count', 'envctl-state'))).to.equal(commitsBefore + 1);
  });

  it('two syncs at once build a revision once: the second leaves it to the first', async () => {
    await commit(dir, { 'environments/a.yaml': A('sleep 1 && echo concurrent > /a') }, 'a: concurrent');
    const commitsBefore = Number(await git(dir, 'rev-list', '--count', 'envctl-state'));
    const runs = await Promise.all([1, 2].map(() => execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false, all: true })));
    expect(runs.map((r) => r.exitCode)).to.deep.equal([0, 0]);
    const { ledger } = await readLedger(dir, 'envctl-state');
    const rev = ledger.get('a')!.active!;
    expect(ledger.get('a')!.builds.filter((b) => b.revision === rev)).to.have.length(1);
    expect(runs.some((r) => /another sync|nothing to build/.test(String(r.all)))).to.equal(true);
    expect(Number(await git(dir, 'rev-list', '--count', 'envctl-state'))).to.equal(commitsBefore + 1);
  });

  it('a new image behind the default base\'s tag rebuilds what stands on it', async () => {
    const before = await readLedger(dir, 'envctl-state');
    const newDigest = await pushBusybox(`127.0.0.1:${PORT}/test/busybox:1`, 'a second busybox\n');
    expect(newDigest).to.not.equal(busyboxDigest);
    const result = await sync(dir, config);
    const a = result.records.find((r) => r.revision === before.ledger.get('a')!.active);
    expect(a?.status).to.equal('succeeded');
    expect(a?.baseDigest).to.equal(newDigest);
  });

  it('a registry that refuses is named, recorded as failed, and retried next time', async () => {
    const down = loadConfig(new TextEncoder().encode(yaml('registry: { address: "127.0.0.1:1", insecure: true }', `defaultBase: { image: "127.0.0.1:${PORT}/test/busybox:1", layers: 1 }`))).config;
    await commit(dir, { 'environments/c.yaml': A('echo c > /c') }, 'c');
    const result = await sync(dir, down);
    const c = result.records.find((x) => x.reason?.includes('127.0.0.1:1'));
    expect(c?.status).to.equal('failed');
    expect(c?.reason).to.match(/^registry 127\.0\.0\.1:1/);
    expect(c?.failure).to.include({ kind: 'registry', host: 'registry 127.0.0.1:1' });
    const next = await sync(dir, config);
    expect(next.records.filter((x) => x.status === 'succeeded').length).to.be.greaterThan(0);
  });

  it('a base image whose registry cannot be asked fails the build as registry trouble (no build, no base digest recorded), retried next time', async () => {
    // The registry to push to answers; the one the default base image lives on does not.
    const unreachableBase = loadConfig(new TextEncoder().encode(yaml(`registry: { address: "127.0.0.1:${PORT}" }`, 'defaultBase: { image: "127.0.0.1:1/test/busybox:1", layers: 1 }'))).config;
    await commit(dir, { 'environments/f.yaml': A('echo f > /f') }, 'f');
    const result = await sync(dir, unreachableBase);
    expect(result.records.map((r) => [r.revision, r.status])).to.deep.equal([[1, 'failed']]);
    const f = result.records[0]!;
    expect(f.failure).to.deep.equal({ kind: 'registry', code: 'registry-unreachable', host: 'registry 127.0.0.1:1' });
    expect(f.reason).to.match(/^registry 127\.0\.0\.1:1: not reachable/);
    expect(f.baseDigest).to.equal(undefined);
    expect(f.digest).to.equal(undefined);
    expect(f.builder).to.equal(undefined);
    const next = await sync(dir, config);
    const again = next.records.find((r) => r.revision === 1 && r.image?.includes('/f:'));
    expect(again).to.include({ status: 'succeeded', baseDigest: (await readLedger(dir, 'envctl-state')).ledger.get('f')!.builds.at(-1)!.baseDigest });
    expect(again?.baseDigest).to.match(/^sha256:/);
  });

  it('--jobs with --prune (as in CI): a pushed image is removed only once no other build of the sync stands on its base', async () => {
    // Removing an image removes its unnamed parents, the base pulled by digest among them, which the other group
    // may be about to build on (seen in CI as "creating build container: …: image not known").
    await commit(dir, { 'environments/g.yaml': A('echo g > /g'), 'environments/h.yaml': A('sleep 1; echo h > /h') }, 'g and h');
    const r = await execa(process.execPath, [BIN, 'sync', '--jobs', '2', '--prune'], { cwd: dir, reject: false });
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect([ledger.get('g')?.active, ledger.get('h')?.active]).to.deep.equal([1, 1]);
    expect(r.stdout + r.stderr).to.contain('pushed images pruned');
  });

  it('--jobs builds independent groups at once and records them in plan order', async () => {
    await commit(dir, { 'environments/d.yaml': A('echo d > /d'), 'environments/e.yaml': A('echo e > /e') }, 'd and e');
    const r = await execa(process.execPath, [BIN, 'sync', '--jobs', '2'], { cwd: dir, reject: false });
    expect(r.exitCode, r.stdout + r.stderr).to.equal(0);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect([ledger.get('d')?.active, ledger.get('e')?.active]).to.deep.equal([1, 1]);
    const bad = await execa(process.execPath, [BIN, 'sync', '--jobs', '0'], { cwd: dir, reject: false });
    expect(bad.exitCode).to.equal(2);
  });
});
