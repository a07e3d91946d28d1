/**
 * Builds as a hosted CI runner makes them, with real buildah and a real
 * registry: a fresh runner's local storage is empty, so the registry layer
 * cache is what spares it rebuilding every layer; a cache that cannot be
 * written never fails a build; a base image the registry lacks holds back
 * only its builds, with one message and nothing recorded for them; CI
 * prunes what it pushed and says what storage it used; and envctl runs
 * rootless, as the runner's user, with RUN steps in a user namespace.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readFile, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from '../src/git/ledger.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { giveToRootless, runRootless } from './fixtures/rootless.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';
import { storageConf } from './fixtures/storage.js';

const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');

describe('builds on CI runners: registry cache, missing bases, pruning, rootless', function () {
  this.timeout(600_000);
  let port: number;
  let registry: RunningRegistry;
  const cleanup: string[] = [];

  before(async () => {
    port = await freePort();
    const data = await tempDir('envctl-registry-');
    cleanup.push(data);
    registry = await startRegistry(data, port);
    await pushBusybox(`127.0.0.1:${port}/test/busybox:1`);
  });
  after(async () => {
    await registry.stop();
    for (const d of cleanup) await removeDir(d);
  });

  /** Empty buildah storage of its own, as a new runner has: a storage.conf for CONTAINERS_STORAGE_CONF. */
  async function freshStorage(): Promise<string> {
    const dir = await tempDir('envctl-runner-storage-');
    cleanup.push(dir);
    return storageConf(dir, 'overlay');
  }

  async function repo(config: string[], files: Record<string, string>): Promise<string> {
    const dir = await tempDir('envctl-ci-');
    cleanup.push(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, { 'envctl.yaml': yaml(`registry: { address: "127.0.0.1:${port}" }`, ...config), '.gitignore': '.envctl/\n', ...files }, 'environments');
    return dir;
  }

  const env = (name: string, ...instructions: string[]) => ({ [`environments/${name}.yaml`]: yaml('owner: a', 'instructions: |', ...instructions.map((i) => `  ${i}`)) });
  const DEFAULT = 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }';
  // Output a step prints only when it runs: `$((n))` is in the step's text, its value only in the output.
  const step = (n: number, extra = '') => `RUN echo ran-step-$((${n}))${extra} | tee /step${n}`;

  const syncIn = (dir: string, storageConf: string, extra: Record<string, string> = {}) =>
    execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false, all: true, env: { CONTAINERS_STORAGE_CONF: storageConf, ...extra } });

  async function lastLog(dir: string, name: string): Promise<{ status: string; log: string }> {
    const record = (await readLedger(dir, 'envctl-state')).ledger.get(name)!.builds.at(-1)!;
    return { status: record.status, log: record.log ? await readFile(join(dir, record.log), 'utf8') : '' };
  }

  it('a fresh runner rebuilds only the changed step: the rest comes from the registry cache', async () => {
    const dir = await repo([DEFAULT], env('cached', step(1), step(2), step(3)));
    const first = await syncIn(dir, await freshStorage());
    expect(first.exitCode, String(first.all)).to.equal(0);
    const tags = await (await fetch(`http://127.0.0.1:${port}/v2/envctl/cached/cache/tags/list`)).json() as { tags: string[] };
    // A cache entry per RUN step, and one for the labels envctl adds at the end.
    expect(tags.tags.length).to.be.at.least(3);

    await commit(dir, env('cached', step(1), step(2), step(3, ' changed')), 'the last step changes');
    const second = await syncIn(dir, await freshStorage());
    expect(second.exitCode, String(second.all)).to.equal(0);
    const { status, log } = await lastLog(dir, 'cached');
    expect(status).to.equal('succeeded');
    expect(log).to.contain('ran-step-3 changed');
    expect(log).to.not.match(/^ran-step-[12]\b/m);
    expect(log.match(/Cache pulled from remote/g)).to.have.length(2);
  });

  it('a cache repository that cannot be written never fails the build', async () => {
    const closed = await freePort();
    const dir = await repo([DEFAULT, `cache: { repository: "127.0.0.1:${closed}/cache/{environment}" }`], env('uncached', step(1)));
    const run = await syncIn(dir, await freshStorage());
    expect(run.exitCode, String(run.all)).to.equal(0);
    const { status, log } = await lastLog(dir, 'uncached');
    expect(status).to.equal('succeeded');
    expect(log).to.contain(`127.0.0.1:${closed}/cache/uncached`);
    expect(log).to.contain('building once more without the cache');
  });

  it('a missing default base holds back only the builds on it, says what makes it, and records none of them', async () => {
    const dir = await repo(['defaultBase: { image: "{registry}/test/missing:1", layers: 1 }'], {
      ...env('on-missing', step(1)),
      'environments/child.yaml': yaml('owner: a', 'base: { environment: on-missing }', 'instructions: |', `  ${step(2)}`),
      'environments/own-base.yaml': yaml('owner: a', `base: { image: "127.0.0.1:${port}/test/busybox:1" }`, 'instructions: |', `  ${step(3)}`),
    });
    const run = await syncIn(dir, await freshStorage());
    expect(run.exitCode).to.equal(1);
    expect(run.stderr).to.contain(`base image 127.0.0.1:${port}/test/missing:1 is not in its registry; not built: on-missing, child`);
    expect(run.stderr).to.contain('envctl base');
    expect(run.stderr).to.not.contain('manifest unknown');
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect([...ledger.keys()]).to.deep.equal(['own-base']);
    expect(ledger.get('own-base')!.builds.map((b) => b.status)).to.deep.equal(['succeeded']);
  });

  it('in CI a sync removes what it pushed, keeps its storage small and says what it used', async () => {
    const dir = await repo([DEFAULT], {
      ...env('pruned', step(1)),
      'environments/pruned-child.yaml': yaml('owner: a', 'base: { environment: pruned }', 'instructions: |', `  ${step(2)}`),
    });
    const conf = await freshStorage();
    const run = await syncIn(dir, conf, { CI: 'true' });
    expect(run.exitCode, String(run.all)).to.equal(0);
    expect(run.stderr).to.match(/storage: overlay \(storage: auto, overlay mounts work here\), [\d.]+ [KMG]i?B used \(at most [\d.]+ [KMG]i?B after a build\); pushed images pruned/);
    const images = await execa('buildah', ['--storage-driver', 'overlay', 'images', '--all', '--json'], { env: { CONTAINERS_STORAGE_CONF: conf } });
    const names = (JSON.parse(String(images.stdout) || '[]') as { names?: string[] | null }[]).flatMap((i) => i.names ?? []);
    expect(names.filter((n) => n.includes('/envctl/'))).to.deep.equal([]);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('pruned-child')!.builds.at(-1)!.status).to.equal('succeeded');
  });

  it('rootless, as a hosted runner\'s user: RUN steps run in a user namespace and the build is recorded', async () => {
    const dir = await repo([DEFAULT], env('rootless', 'RUN cat /proc/self/uid_map && id -u > /uid'));
    const home = await tempDir('envctl-rootless-home-');
    cleanup.push(home);
    await mkdir(join(home, 'run'), { recursive: true, mode: 0o700 });
    await giveToRootless([dir, home]);
    const run = await runRootless(process.execPath, [BIN, 'sync'], { cwd: dir, env: { HOME: home, XDG_RUNTIME_DIR: join(home, 'run') } });
    expect(run.exitCode, String(run.all)).to.equal(0);
    expect(String(run.all)).to.contain('storage: overlay');
    const { status, log } = await lastLog(dir, 'rootless');
    expect(status).to.equal('succeeded');
    expect(log).to.contain('--isolation rootless');
    // Inside, root is the runner's user mapped: never the host's whole id range as it is for root.
    const map = /^\s*0\s+(\d+)\s+1\s*$/m.exec(log);
    expect(map, log).to.not.equal(null);
    expect(Number(map![1])).to.be.above(0);
    await rm(join(home, 'run'), { recursive: true, force: true });
  });
});
