/**
 * `npm run bench`: envctl's speed (and, for builds, disk) as ratios against
 * floors measured in the same run on the same machine, so the numbers mean
 * the same anywhere. A bench never asserts a goal: it prints ok or MISSED.
 */
import { load } from 'js-yaml';
import { checkEnvironments } from '../src/check/index.js';
import { withDefaults } from '../src/config/index.js';
import { loadEnvironments } from '../src/load/environments.js';
import { DockerfileParser } from 'dockerfile-ast';
import type { Snapshot } from '../src/model/tree.js';
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { updateRevisions } from '../src/store/revision-index.js';
import { planRepository } from '../src/repository/plan.js';
import { sync } from '../src/sync/index.js';
import { recordBuilds } from '../src/git/ledger.js';
import { ensureEmbeddedRegistry } from '../src/registry/embedded.js';
import { pushBusybox } from '../test/fixtures/images.js';
import { addCommit, generateHistory } from './history.js';
import { generateEnvironments } from './generate.js';
import { isolationArgs, runsAsRoot } from '../src/builder/buildah.js';
import { resolveStorage, storageArgs } from '../src/builder/storage.js';
import { ciSyncStorage, freshRunnerRebuild, openLab, overlayVsVfs, type Lab, type Result } from './builds.js';
import { dropStorage, freePort, makeStorage, withStorageEnv } from './lab.js';
import { hostileScaleBench } from './scale.js';
import { packagesBench } from './packages.js';
import { shippedPackagesBench } from './packages-shipped.js';

/**
 * Median seconds of `subject` and of `floor`, sampled alternately so that a
 * noisy neighbour on a shared machine slows both alike.
 */
function paired(subject: () => void, floor: () => void, runs = 9): { seconds: number; floor: number } {
  subject();
  floor();
  const a: number[] = [];
  const b: number[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  const time = (fn: () => void) => {
    gc?.(); // start each sample with a clean heap, so one sample's garbage is not the next one's pause
    const t = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  for (let i = 0; i < runs; i++) {
    a.push(time(subject));
    b.push(time(floor));
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { seconds: median(a), floor: median(b) };
}

function validateBench(): Result {
  const files = generateEnvironments(1000);
  const enc = new TextEncoder();
  const snapshot: Snapshot = { problems: [], files: Object.entries(files).map(([path, text]) => ({ path, bytes: enc.encode(text), executable: false })) };
  const texts = Object.entries(files).filter(([p]) => p.endsWith('.yaml')).map(([, t]) => t);
  const config = withDefaults({});
  let problems = 0;
  let kept: unknown[] = [];
  // The floor keeps what it parsed, as any validator must: rules compare environments.
  const { seconds, floor } = paired(
    () => {
      const loaded = loadEnvironments(snapshot, 'environments');
      problems = checkEnvironments(loaded.environments, { config }).problems.length;
    },
    () => {
      kept = texts.map((t) => load(t));
    },
  );
  if (kept.length !== texts.length) throw new Error('floor parsed nothing');
  if (problems !== 0) throw new Error(`generated environments should be clean; got ${problems} problems`);
  // Where the time goes: the instructions parse alone, against the same floor.
  const blocks = (kept as { instructions: string }[]).map((k) => `\n${k.instructions}`);
  const dockerfile = paired(() => blocks.forEach((b) => DockerfileParser.parse(b).getInstructions()) /* uncached: parseDockerfile keeps recent parses */, () => {
    kept = texts.map((t) => load(t));
  });
  return {
    name: 'validate 1,000 environments', value: seconds, floor, goal: 1.5, unit: 'ms',
    note: `floor: bare js-yaml load of the same files, kept in memory; of it, dockerfile-ast alone: ratio ${(dockerfile.seconds / dockerfile.floor).toFixed(2)}`,
  };
}

/** Median seconds of `runs` calls of an async function, each from a clean heap. */
async function median(fn: () => Promise<void>, runs: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    gc?.();
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

async function revisionBenches(): Promise<Result[]> {
  const base = await mkdtemp(join(tmpdir(), 'envctl-bench-'));
  try {
    const config = withDefaults({});
    const big = join(base, 'big');
    const small = join(base, 'small');
    await generateHistory(big, 10_000);
    await generateHistory(small, 100);
    const native = await median(async () => {
      await execa('git', ['log', '--first-parent', '--name-only', '--format=%H', 'main', '--', 'environments/'], { cwd: big });
    }, 3);
    const cold = await median(async () => {
      await rm(join(big, '.envctl'), { recursive: true, force: true });
      await updateRevisions(big, config);
    }, 1);
    // One new commit, then the update, alternately on each history so machine noise hits both alike.
    await updateRevisions(big, config);
    await updateRevisions(small, config);
    const times: Record<string, number[]> = { [big]: [], [small]: [] };
    for (let n = 0; n < 9; n++) {
      for (const dir of [small, big]) {
        await addCommit(dir, n);
        times[dir]!.push(await median(() => updateRevisions(dir, config).then(() => undefined), 1));
      }
    }
    const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const warmBig = mid(times[big]!);
    const warmSmall = mid(times[small]!);
    return [
      { name: 'revision index, cold, 10,000 commits × 500 environments', value: cold, floor: native, goal: 2, unit: 'ms', note: 'floor: git log --first-parent --name-only -- environments/' },
      { name: 'revision index after one new commit, 10,000 vs 100 commits', value: warmBig, floor: warmSmall, goal: 1.2, unit: 'ms', note: 'floor: the same update on a 100-commit history' },
    ];
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

/** A no-op sync over 500 environments whose every revision the ledger already has. */
async function noopSyncBench(): Promise<Result> {
  const base = await mkdtemp(join(tmpdir(), 'envctl-bench-sync-'));
  try {
    const config = withDefaults({ registry: { address: '127.0.0.1:1', insecure: true } });
    await generateHistory(base, 1);
    const plan = await planRepository(base, config);
    const at = new Date().toISOString();
    await recordBuilds(base, config.stateBranch, new Map(plan.builds.map((b) => [b.environment, [{
      id: `${b.revision}-bench`, revision: b.revision, commit: b.commit, contentKey: b.contentKey ?? '', status: 'succeeded' as const,
      digest: `sha256:${'0'.repeat(64)}`, startedAt: at, endedAt: at,
    }]])), { summary: 'bench ledger' });
    let builds = -1;
    const seconds = await median(async () => {
      builds = (await sync(base, config)).records.length;
    }, 5);
    if (builds !== 0) throw new Error(`a no-op sync built ${builds}`);
    return { name: 'no-op sync, 500 environments', value: seconds, floor: 1, goal: 1, unit: 'ms', note: 'floor: the 1 s budget itself' };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

/**
 * envctl sync of one environment against raw buildah bud + push of the same
 * Dockerfile, alternately, on storage of the bench's own. The floor runs as
 * envctl does: OCI isolation (runc) and the driver storage: auto picks.
 */
async function buildBench(): Promise<Result> {
  const base = await mkdtemp(join(tmpdir(), 'envctl-bench-build-'));
  const storageDir = await mkdtemp(join(tmpdir(), 'envctl-bench-build-storage-'));
  const port = await freePort();
  const registry = await ensureEmbeddedRegistry(base, port);
  const storage = await makeStorage(storageDir, 'vfs');
  try {
    return await withStorageEnv(storage, async () => {
      const { driver } = await resolveStorage('auto');
      storage.driver = driver;
      await pushBusybox(`127.0.0.1:${port}/bench/busybox:1`);
      const config = withDefaults({ registry: { address: 'embedded', embeddedPort: port }, defaultBase: { image: `{registry}/bench/busybox:1`, layers: 1 } });
      const git = (...args: string[]) => execa('git', args, { cwd: base, env: { GIT_AUTHOR_NAME: 'B', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'B', GIT_COMMITTER_EMAIL: 'b@example.com' } });
      await git('init', '-q', '-b', 'main');
      await writeFile(join(base, '.gitignore'), '.envctl/\n');
      const spec = (n: number) => `owner: b\nnoCache: true\ninstructions: |\n  RUN for i in 1 2 3; do echo ${n} $i >> /x; done\n  RUN cat /x > /y\n`;
      await mkdir(join(base, 'environments'), { recursive: true });
      const envctlTimes: number[] = [];
      const rawTimes: number[] = [];
      const raw = (...args: string[]) => execa('buildah', [...storageArgs(driver), ...args]);
      for (let n = 0; n < 4; n++) {
        await writeFile(join(base, 'environments', 'b.yaml'), spec(n));
        await git('add', '--', '.gitignore', 'environments/b.yaml');
        await git('commit', '-q', '-m', `b ${n}`);
        const t = process.hrtime.bigint();
        const result = await sync(base, config);
        const took = Number(process.hrtime.bigint() - t) / 1e9;
        if (result.failed > 0) throw new Error('bench build failed');
        const dir = join(base, '.envctl', 'build', 'b');
        const r = process.hrtime.bigint();
        await raw('bud', ...isolationArgs('oci', runsAsRoot()), '--layers', '--force-rm', '--no-cache', '--tls-verify=false', '-f', join(dir, 'Dockerfile'), '-t', `127.0.0.1:${port}/bench/raw:${n}`, join(dir, 'context'));
        await raw('push', '--tls-verify=false', '--digestfile', join(base, 'raw-digest'), `127.0.0.1:${port}/bench/raw:${n}`);
        const rawSeconds = Number(process.hrtime.bigint() - r) / 1e9;
        if (n > 0) {
          envctlTimes.push(took);
          rawTimes.push(rawSeconds);
        }
      }
      const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      return {
        name: 'sync building one environment (busybox base, 2 RUNs, no cache)', value: mid(envctlTimes), floor: mid(rawTimes), goal: 1.1, unit: 'ms',
        note: `floor: raw buildah bud --isolation oci + push of the same Dockerfile, on ${driver} as envctl`,
      } satisfies Result;
    });
  } finally {
    await registry.stop();
    await dropStorage(storageDir, storage);
    await rm(base, { recursive: true, force: true });
  }
}

function show(value: number, unit: Result['unit']): string {
  if (unit === 'ms') return `${(value * 1000).toFixed(1)} ms`;
  if (unit === 'MiB') return `${value.toFixed(0)} MiB`;
  return `${value} ${value === 1 ? 'step' : 'steps'}`;
}

/**
 * Every bench, in order; ENVCTL_BENCH_ONLY=name,name runs some. The build
 * benches of issue 12 (drivers, fresh, ci-storage) share one registry and a
 * Debian base made by envctl base, made when the first of them starts.
 * ENVCTL_BENCH_SHIPPED=1 makes ci-storage sync the repository's own
 * environments (about five minutes here) instead of a chain of three.
 */
async function main(): Promise<void> {
  let lab: Promise<Lab> | undefined;
  const theLab = () => (lab ??= openLab());
  const groups: [string, () => Promise<Result[]>][] = [
    ['validate', async () => [validateBench()]],
    ['hostile', () => hostileScaleBench()],
    ['revisions', revisionBenches],
    ['noop-sync', async () => [await noopSyncBench()]],
    ['build', async () => [await buildBench()]],
    ['packages', async () => [await packagesBench()]],
    ['packages-shipped', async () => [await shippedPackagesBench(await theLab())]],
    ['drivers', async () => overlayVsVfs(await theLab())],
    ['fresh', async () => freshRunnerRebuild((await theLab()).driver)],
    ['ci-storage', async () => [await ciSyncStorage(await theLab(), process.env.ENVCTL_BENCH_SHIPPED === '1')]],
  ];
  const only = process.env.ENVCTL_BENCH_ONLY?.split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = (only ?? []).filter((n) => !groups.some(([g]) => g === n));
  if (unknown.length) throw new Error(`ENVCTL_BENCH_ONLY: no bench named ${unknown.join(', ')} (there are ${groups.map(([g]) => g).join(', ')})`);
  let failed = 0;
  try {
    for (const [group, run] of groups) {
      if (only && !only.includes(group)) continue;
      for (const r of await run()) {
        const ratio = r.value / r.floor;
        const ok = ratio <= r.goal;
        if (!ok) failed++;
        console.log(`${r.name}: ${show(r.value, r.unit)}; floor ${show(r.floor, r.unit)} (${r.note}); ratio ${ratio.toFixed(2)} (goal ≤ ${r.goal}) ${ok ? 'ok' : 'MISSED'}`);
      }
    }
  } finally {
    if (lab) await (await lab).close();
  }
  if (failed) console.log(`${failed} goal(s) missed`);
}

await main();
