/**
 * The build benches of issue 12, with real buildah and a real registry:
 * overlay against vfs for one cold build (time and peak storage), a rebuild
 * on a fresh runner's empty storage against the same rebuild on warm
 * storage (the registry layer cache at work), and the peak local storage of
 * a CI sync against the sizes of the images it pushed. Each is a ratio
 * against a floor measured in the same run.
 */
import { execa, execaSync } from 'execa';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { isolationArgs, runsAsRoot } from '../src/builder/buildah.js';
import { resolveStorage, storageArgs } from '../src/builder/storage.js';
import { pushBusybox } from '../test/fixtures/images.js';
import {
  commitFiles, copyData, dropStorage, du, envctl, expectOk, freePort, git, lastRecords, logOf, makeStorage, MiB, peakWhile, REPO,
  removeTree, since, startRegistry, tempFolder, withStorageEnv, type BenchRegistry, type BenchStorage,
} from './lab.js';

export interface Result { name: string; value: number; floor: number; goal: number; note: string; unit: 'ms' | 'MiB' | 'steps' }

/** Where the build benches keep their registry and the images they build on. */
export interface Lab {
  root: string;
  registry: BenchRegistry;
  /** What envctl builds on here: storage: auto's choice (overlay when it mounts). */
  driver: 'overlay' | 'vfs';
  /** A Debian bookworm minbase image made by `envctl base` (debootstrap from the system's mirror). */
  debian: string;
  close(): Promise<void>;
}

const registryYaml = (address: string, extra: Record<string, unknown> = {}) => `${JSON.stringify({ registry: { address }, ...extra }, null, 2)}\n`;

export async function openLab(): Promise<Lab> {
  const root = await tempFolder('envctl-bench-lab-');
  const registry = await startRegistry(join(root, 'registry'), await freePort());
  try {
    const storage = await makeStorage(join(root, 'storage'), 'vfs');
    const { driver } = await withStorageEnv(storage, () => resolveStorage('auto'));
    // The default base as a site without Docker Hub makes it: envctl base (debootstrap from the system's Debian mirror).
    const repo = join(root, 'base-repo');
    await mkdir(repo, { recursive: true });
    await git(repo, 'init', '-q', '-b', 'main');
    await commitFiles(repo, { 'envctl.yaml': registryYaml(registry.address, { defaultBase: { image: '{registry}/bench/debian:bookworm', layers: 1 } }), '.gitignore': '.envctl/\n' }, 'base');
    expectOk(await envctl(repo, ['base'], storage.env), 'envctl base');
    await dropStorage(join(root, 'storage'), storage);
    await removeTree(repo);
    return {
      root, registry, driver, debian: `${registry.address}/bench/debian:bookworm`,
      close: async () => {
        await registry.stop();
        await removeTree(root);
      },
    };
  } catch (err) {
    await registry.stop();
    await removeTree(root);
    throw err;
  }
}

const APT = (packages: string) => `RUN apt-get update && apt-get install -y --no-install-recommends ${packages} && rm -rf /var/lib/apt/lists/*`;

/**
 * One Dockerfile, cold (empty storage, base pulled), built by raw buildah
 * on overlay, then on vfs, each in storage of its own; du of the storage
 * root sampled throughout for the peak. Overlay runs first, so a mirror or
 * page cache warmed by the first build helps vfs, never the subject.
 */
export async function overlayVsVfs(lab: Lab): Promise<Result[]> {
  const dir = await tempFolder('envctl-bench-drivers-');
  try {
    await writeFile(join(dir, 'Dockerfile'), [
      `FROM ${lab.debian}`,
      APT('python3-minimal'),
      APT('perl'),
      APT('make patch xz-utils'),
      'RUN mkdir /opt/data && for i in $(seq 1 200); do head -c 200000 /dev/urandom > /opt/data/f$i; done',
      '',
    ].join('\n'));
    const measured: Record<string, { seconds: number; peak: number }> = {};
    for (const driver of ['overlay', 'vfs'] as const) {
      const root = join(dir, driver);
      const storage = await makeStorage(root, driver);
      const t = process.hrtime.bigint();
      const { peak } = await peakWhile(storage.graph, () => execa('buildah', [
        ...storageArgs(driver), 'bud', ...isolationArgs('oci', runsAsRoot()), '--layers', '--force-rm', '--tls-verify=false',
        '-t', `bench/drivers:${driver}`, '-f', join(dir, 'Dockerfile'), dir,
      ], { env: storage.env, all: true }).catch((err: { all?: string }) => {
        throw new Error(`buildah bud on ${driver} failed:\n${String(err.all ?? err).split('\n').slice(-20).join('\n')}`);
      }));
      measured[driver] = { seconds: since(t), peak };
      await dropStorage(root, storage);
    }
    const o = measured.overlay!;
    const v = measured.vfs!;
    const what = 'cold build, Debian minbase + 3 apt-get installs + 40 MB of files';
    return [
      { name: `${what}, overlay vs vfs: time`, value: o.seconds, floor: v.seconds, goal: 1, unit: 'ms', note: 'floor: the same raw buildah bud --isolation oci --layers on vfs, each on empty storage, base pulled' },
      { name: `${what}, overlay vs vfs: peak storage`, value: o.peak / MiB, floor: v.peak / MiB, goal: 1, unit: 'MiB', note: 'floor: du of the vfs storage root, sampled during the build' },
    ];
  } finally {
    await removeTree(dir);
  }
}

/** A step whose marker (`ran-N`) is in the log only when it runs: the step's text holds `$((N))`, not its value. */
const heavyStep = (n: number, extra = '') => `RUN echo ran-$((${n}))${extra} && dd if=/dev/urandom of=/step${n} bs=1M count=50 2>/dev/null && sleep 3`;

const freshSpec = (lastNote: string) => [
  'owner: bench', 'instructions: |', ...[1, 2, 3].map((n) => `  ${heavyStep(n)}`), `  ${heavyStep(4, lastNote)}`, '',
].join('\n');

/** RUN steps a build log shows as executed: the distinct markers. */
const stepsRun = (log: string) => new Set(log.match(/^ran-\d+\b/gm) ?? []).size;

/**
 * envctl sync once (clone A, warm storage); then, in each of three rounds,
 * the last instruction changes and (a) sync in A on its warm storage and
 * (b) sync in a fresh clone with A's ledger on empty storage, in turns of
 * which goes first. (a) and (b) each get a copy of the registry as the
 * round found it, on the same port, so neither reads the cache entry the
 * other pushed for the changed step; (a)'s copy carries on to the next
 * round, as the repository's registry would.
 */
export async function freshRunnerRebuild(driver: 'overlay' | 'vfs', rounds = 3): Promise<Result[]> {
  const dir = await tempFolder('envctl-bench-fresh-');
  const port = await freePort();
  let registry = await startRegistry(join(dir, 'registry-0'), port);
  const storages: [string, BenchStorage][] = [];
  const storage = async (name: string) => {
    const s = await makeStorage(join(dir, name), driver);
    storages.push([join(dir, name), s]);
    return s;
  };
  try {
    const seed = await storage('seed');
    await withStorageEnv(seed, () => pushBusybox(`${registry.address}/bench/busybox:1`));
    const origin = join(dir, 'origin');
    const a = join(dir, 'clone-a');
    await mkdir(origin, { recursive: true });
    await git(origin, 'init', '-q', '-b', 'main');
    await commitFiles(origin, {
      // The cache setting is envctl's default, spelled out: what this bench is about.
      'envctl.yaml': registryYaml(registry.address, { defaultBase: { image: '{registry}/bench/busybox:1', layers: 1 }, cache: { registry: true, repository: '{image}/cache' } }),
      '.gitignore': '.envctl/\n',
      'environments/fresh.yaml': freshSpec(''),
    }, 'fresh: four heavy steps');
    await git(dir, 'clone', '-q', origin, a);
    const warm = await storage('warm');
    const cold = expectOk(await envctl(a, ['sync'], warm.env), 'the first sync');
    await registry.stop();

    const rebuild = async (clone: string, s: BenchStorage, data: string, what: string) => {
      registry = await startRegistry(data, port);
      try {
        const run = expectOk(await envctl(clone, ['sync'], s.env), `sync (${what})`);
        const record = (await lastRecords(clone)).get('fresh');
        if (record?.status !== 'succeeded') throw new Error(`sync (${what}) did not record a succeeded build of fresh`);
        return { seconds: run.seconds, steps: stepsRun(await logOf(clone, record)) };
      } finally {
        await registry.stop();
      }
    };
    const onWarm: { seconds: number; steps: number }[] = [];
    const onEmpty: { seconds: number; steps: number }[] = [];
    for (let k = 1; k <= rounds; k++) {
      await commitFiles(origin, { 'environments/fresh.yaml': freshSpec(` change ${k}`) }, `fresh: the last step changes (${k})`);
      await git(a, 'pull', '-q', '--ff-only');
      const b = join(dir, `clone-b${k}`);
      await git(dir, 'clone', '-q', origin, b);
      await git(b, 'fetch', '-q', a, 'envctl-state:envctl-state');
      const found = join(dir, `registry-${k - 1}`);
      await copyData(found, join(dir, `registry-${k}`));
      await copyData(found, join(dir, `registry-${k}-empty`));
      const empty = await storage(`empty-${k}`);
      const runWarm = async () => onWarm.push(await rebuild(a, warm, join(dir, `registry-${k}`), `warm, round ${k}`));
      const runEmpty = async () => onEmpty.push(await rebuild(b, empty, join(dir, `registry-${k}-empty`), `empty, round ${k}`));
      if (k % 2 === 1) {
        await runWarm();
        await runEmpty();
      } else {
        await runEmpty();
        await runWarm();
      }
      await dropStorage(join(dir, `empty-${k}`), empty);
      storages.splice(storages.findIndex(([, s]) => s === empty), 1);
      for (const gone of [b, found, join(dir, `registry-${k}-empty`)]) await removeTree(gone);
    }
    const mid = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const what = 'fresh-runner rebuild after a change to the last of 4 RUN steps (each 50 MB + 3 s)';
    const secs = (xs: { seconds: number }[]) => xs.map((x) => x.seconds.toFixed(1)).join(', ');
    return [
      {
        name: `${what}: RUN steps executed on empty storage`, value: Math.max(...onEmpty.map((r) => r.steps)), floor: 1, goal: 1, unit: 'steps',
        note: `floor: the one changed step; the most in ${rounds} rounds (each: ${onEmpty.map((r) => r.steps).join(', ')}); on warm storage ${onWarm.map((r) => r.steps).join(', ')}`,
      },
      {
        name: `${what}: time on empty storage`, value: mid(onEmpty.map((r) => r.seconds)), floor: mid(onWarm.map((r) => r.seconds)), goal: 1.3, unit: 'ms',
        note: `floor: the same envctl sync on warm storage; medians of ${rounds} rounds (empty ${secs(onEmpty)} s; warm ${secs(onWarm)} s); the first sync, nothing cached, took ${cold.seconds.toFixed(1)} s`,
      },
    ];
  } finally {
    await registry.stop();
    for (const [d, s] of storages) await dropStorage(d, s);
    await removeTree(dir);
  }
}

/**
 * Each image's size unpacked, as local storage holds it (every layer, the
 * base's included): each pulled by digest into empty storage of its own,
 * measured with du like the peak, and dropped.
 */
async function unpackedSizes(lab: Lab, dir: string, images: string[]): Promise<number> {
  let sum = 0;
  for (const [i, image] of images.entries()) {
    // Each in empty storage of its own: du then counts that image alone, base included.
    const folder = join(dir, `size-${i}`);
    const store = await makeStorage(folder, lab.driver);
    try {
      await execa('buildah', ['--storage-driver', lab.driver, 'pull', '--quiet', '--tls-verify=false', image], { env: store.env });
      sum += await du(store.graph);
    } finally {
      await dropStorage(folder, store);
    }
  }
  return sum;
}

/** A chain of three environments on the Debian base, each adding packages with apt-get. */
function ownChain(): Record<string, string> {
  const env = (base: string, ...steps: string[]) => ['owner: bench', `base: ${base}`, 'instructions: |', ...steps.map((s) => `  ${s}`), ''].join('\n');
  return {
    'environments/chain-a.yaml': env('default', APT('python3-minimal')),
    'environments/chain-b.yaml': env('{ environment: chain-a }', APT('perl')),
    'environments/chain-c.yaml': env('{ environment: chain-b }', APT('make patch xz-utils'), 'RUN mkdir /opt/data && for i in $(seq 1 200); do head -c 200000 /dev/urandom > /opt/data/f$i; done'),
  };
}

/**
 * The repository's own environments (copied into `repo`, modes kept) and its
 * envctl.yaml with the registry and default base pointed at the lab's.
 */
export function shippedSet(lab: Lab, repo: string): Record<string, string> {
  execaSync('cp', ['-a', join(REPO, 'environments'), join(repo, 'environments')]);
  const files: Record<string, string> = {};
  const config = load(readFileSync(join(REPO, 'envctl.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
  config.registry = { ...config.registry, address: lab.registry.address };
  delete config.registry.embeddedPort;
  config.defaultBase = { ...config.defaultBase, image: '{registry}/bench/debian:bookworm' };
  files['envctl.yaml'] = `${JSON.stringify(config, null, 2)}\n`;
  return files;
}

/**
 * envctl sync with CI=true (pushed images pruned) on empty storage: the most
 * bytes under the storage root (du sampled throughout, and envctl's own
 * figure from its `storage:` line) against the sum of the sizes the ledger
 * records for the images it built. `shipped`: the repository's own
 * environments (about five minutes here), else a chain of three of the
 * bench's own.
 */
export async function ciSyncStorage(lab: Lab, shipped: boolean): Promise<Result> {
  const dir = await tempFolder('envctl-bench-ci-');
  const repo = join(dir, 'repo');
  const store = await makeStorage(join(dir, 'storage'), lab.driver);
  try {
    await mkdir(repo, { recursive: true });
    await git(repo, 'init', '-q', '-b', 'main');
    const files = shipped ? shippedSet(lab, repo) : { 'envctl.yaml': registryYaml(lab.registry.address, { defaultBase: { image: '{registry}/bench/debian:bookworm', layers: 1 } }), ...ownChain() };
    if (shipped) await git(repo, 'add', '--', 'environments');
    await commitFiles(repo, { ...files, '.gitignore': '.envctl/\n' }, 'environments');
    const { result: run, peak } = await peakWhile(store.graph, async () => envctl(repo, ['sync'], { ...store.env, CI: 'true' }));
    expectOk(run, 'the CI sync');
    const records = [...(await lastRecords(repo))];
    const unsized = records.filter(([, r]) => r.status !== 'succeeded' || r.size === undefined).map(([n]) => n);
    if (unsized.length) throw new Error(`no succeeded build with a size for ${unsized.join(', ')}`);
    const compressed = records.reduce((s, [, r]) => s + r.size!, 0);
    const sum = await unpackedSizes(lab, dir, records.map(([, r]) => `${r.image!.replace(/:[^:/]+$/, '')}@${r.digest!}`));
    const said = /^envctl sync: storage: (.*)$/m.exec(run.stderr)?.[1] ?? 'no storage line';
    const end = await du(store.graph);
    const what = shipped ? `the shipped environments (${records.map(([n]) => n).join(', ')})` : 'a chain of 3 environments on Debian minbase (apt-get installs)';
    return {
      name: `peak local storage of a CI sync of ${what}`, value: peak / MiB, floor: sum / MiB, goal: 1.5, unit: 'MiB',
      note: `floor: the sum of the ${records.length} images' sizes in local storage (unpacked, base layers included: du of each pulled alone; compressed, as the ledger records them, ${(compressed / MiB).toFixed(0)} MiB, ratio ${(peak / compressed).toFixed(2)}); du sampled during the sync, ${(end / MiB).toFixed(0)} MiB left after it; sync took ${run.seconds.toFixed(0)} s and said "${said}"`,
    };
  } finally {
    await dropStorage(join(dir, 'storage'), store);
    await removeTree(dir);
  }
}
