/**
 * sync under interruption, with real buildah and a real registry: a newer
 * revision superseding a running build, a build shown as in progress, and
 * SIGKILL during push and at both moments of the ledger write. After each
 * kill, the next sync must leave the ledger as an uninterrupted run would:
 * one record for the revision, no lock left, no half-written state.
 */
import { expect } from 'chai';
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from '../src/git/ledger.js';
import { loadConfig } from '../src/config/index.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { environmentStatus } from '../src/repository/status.js';
import { sync } from '../src/sync/index.js';
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

/** envctl sync in its own process group, so a kill reaches the buildah it started too. */
function startSync(dir: string, env: Record<string, string> = {}): ResultPromise<{ detached: true; reject: false; buffer: false; env: Record<string, string> }> {
  return execa(process.execPath, [BIN, 'sync'], { cwd: dir, detached: true, reject: false, buffer: false, env });
}

function waitForOutput(child: ReturnType<typeof startSync>, stream: 'stdout' | 'stderr', text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child[stream]!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve();
    });
    void child.then(() => reject(new Error(`sync ended before printing "${text}":\n${seen}`)));
  });
}

async function stateCommits(dir: string): Promise<number> {
  return Number(await git(dir, 'rev-list', '--count', 'envctl-state'));
}

describe('sync: superseded builds, builds in progress, and kills at every stage', function () {
  this.timeout(300_000);
  let registry: RunningRegistry;
  let registryData: string;
  let dir: string;

  before(async () => {
    registryData = await tempDir('envctl-registry-');
    registry = await startRegistry(registryData, PORT);
    await pushBusybox(`127.0.0.1:${PORT}/test/busybox:1`);
    dir = await tempDir('envctl-faults-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, { 'envctl.yaml': CONFIG_TEXT, '.gitignore': '.envctl/\n', 'environments/a.yaml': A('echo one > /a') }, 'a');
    expect((await sync(dir, config)).failed).to.equal(0);
  });
  after(async () => {
    await registry.stop();
    await removeDir(dir);
    await removeDir(registryData);
  });

  it('shows a running build in status, and a newer revision stops it: recorded as cancelled, the newer one active', async () => {
    await commit(dir, { 'environments/a.yaml': A('sleep 60 && echo slow > /a') }, 'a: slow');
    const slow = startSync(dir);
    await waitForOutput(slow, 'stdout', 'building');
    const during = await environmentStatus(dir, config, 'a');
    expect(during[0]!.inProgress).to.include({ revision: 2, status: 'building', pid: slow.pid });
    const shown = await execa(process.execPath, [BIN, 'status', 'a'], { cwd: dir });
    expect(shown.stdout).to.match(new RegExp(`building \\(sync pid ${slow.pid}\\)`));

    await commit(dir, { 'environments/a.yaml': A('echo three > /a') }, 'a: three');
    const newer = await sync(dir, config, { supersedePollMs: 200 });
    const ended = await slow;
    expect(ended.exitCode).to.equal(0);
    expect(newer.records.map((r) => [r.revision, r.status])).to.deep.equal([[3, 'succeeded']]);
    const { ledger } = await readLedger(dir, 'envctl-state');
    const two = ledger.get('a')!.builds.filter((b) => b.revision === 2);
    expect(two.map((b) => b.status)).to.deep.equal(['cancelled']);
    expect(two[0]!.reason).to.match(/^superseded by revision 3/);
    expect(two[0]!.failure?.kind).to.equal('cancelled');
    expect(ledger.get('a')!.active).to.equal(3);
    expect((await environmentStatus(dir, config, 'a'))[0]!.inProgress).to.equal(null);
  });

  it('killed with SIGKILL during push, the next sync records the revision once', async () => {
    // A layer big enough that the push takes a while on loopback; noCache, or the registry
    // cache would hold the layer before the push starts and the push would be over at once.
    await commit(dir, { 'environments/a.yaml': yaml('owner: a', 'noCache: true', 'instructions: |', '  RUN head -c 400000000 /dev/urandom > /big') }, 'a: big');
    const before = await stateCommits(dir);
    const child = startSync(dir);
    await waitForOutput(child, 'stdout', 'building');
    const logs = join(dir, '.envctl', 'logs');
    for (let pushing = false; !pushing;) {
      await new Promise((r) => setTimeout(r, 100));
      const names = (await readdir(logs)).filter((n) => n.startsWith('a-4-'));
      pushing = (await Promise.all(names.map((n) => readFile(join(logs, n), 'utf8')))).some((t) => /\$ buildah .* push /.test(t));
    }
    await new Promise((r) => setTimeout(r, 300));
    process.kill(-child.pid!, 'SIGKILL');
    await child;
    expect(await stateCommits(dir)).to.equal(before);
    expect((await environmentStatus(dir, config, 'a'))[0]!.inProgress).to.equal(null);
    const rerun = await sync(dir, config);
    expect(rerun.records.map((r) => [r.revision, r.status])).to.deep.equal([[4, 'succeeded']]);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('a')!.builds.filter((b) => b.revision === 4)).to.have.length(1);
    expect(ledger.get('a')!.active).to.equal(4);
    expect(await stateCommits(dir)).to.equal(before + 1);
  });

  for (const point of ['ledger-objects-written', 'ledger-ref-locked']) {
    it(`killed with SIGKILL at ${point}, the state branch is untouched and the next sync records once`, async () => {
      await commit(dir, { 'environments/a.yaml': A(`echo ${point} > /a`) }, `a: ${point}`);
      const rev = Number(await git(dir, 'rev-list', '--count', 'HEAD')); // every commit here changed a
      const before = await stateCommits(dir);
      const stateHead = await git(dir, 'rev-parse', 'envctl-state');
      const child = startSync(dir, { ENVCTL_PAUSE_AT: point });
      await waitForOutput(child, 'stderr', `paused at ${point}`);
      process.kill(-child.pid!, 'SIGKILL');
      await child;
      expect(await git(dir, 'rev-parse', 'envctl-state')).to.equal(stateHead);
      const lock = join(dir, '.git', 'refs', 'heads', 'envctl-state.lock');
      expect(existsSync(lock)).to.equal(point === 'ledger-ref-locked');
      const rerun = await sync(dir, config);
      expect(rerun.failed).to.equal(0);
      expect(existsSync(lock)).to.equal(false);
      const { ledger } = await readLedger(dir, 'envctl-state');
      expect(ledger.get('a')!.active).to.equal(rev);
      expect(ledger.get('a')!.builds.filter((b) => b.revision === rev)).to.have.length(1);
      expect(await stateCommits(dir)).to.equal(before + 1);
      expect(await git(dir, 'fsck', '--no-dangling')).to.equal('');
    });
  }

  it('a newer base revision takes what stands on it along: the older sync cancels both, the newer builds both', async () => {
    await commit(dir, { 'environments/a.yaml': A('sleep 60 && echo slow > /a'), 'environments/b.yaml': B }, 'a: slow again, and b on a');
    const rev = Number(await git(dir, 'rev-list', '--count', 'HEAD', '--', 'environments/a.yaml'));
    const slow = startSync(dir);
    await waitForOutput(slow, 'stdout', 'building');
    await commit(dir, { 'environments/a.yaml': A('echo quick > /a') }, 'a: quick');
    const newer = await sync(dir, config, { supersedePollMs: 200 });
    expect((await slow).exitCode).to.equal(0);
    expect(newer.records.map((r) => [r.revision, r.status]), newer.records.map((r) => `${r.reason ?? ''} ${r.logTail ?? ''}`).join('\n')).to.deep.equal([[rev + 1, 'succeeded'], [1, 'succeeded']]);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('a')!.builds.filter((x) => x.revision === rev).map((x) => x.status)).to.deep.equal(['cancelled']);
    const b = ledger.get('b')!.builds;
    expect(b.map((x) => x.status).sort()).to.deep.equal(['cancelled', 'succeeded']);
    expect(b.find((x) => x.status === 'cancelled')!.reason).to.match(/^taken over with its base by sync pid/);
    expect(b.find((x) => x.status === 'cancelled')!.failure).to.deep.equal({ kind: 'cancelled', code: 'build-cancelled' });
    expect(ledger.get('b')!.active).to.equal(1);
  });
});
