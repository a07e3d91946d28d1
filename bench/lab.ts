/**
 * What the build benches share: a registry of their own on a free loopback
 * port, buildah storage of their own (a storage.conf for
 * CONTAINERS_STORAGE_CONF, graphroot and runroot beside it), disk use by
 * du, the envctl CLI run in a repository, and temporary folders removed
 * afterwards, never while something is still mounted inside them.
 */
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { storageArgs } from '../src/builder/storage.js';
import { readLedger } from '../src/git/ledger.js';
import type { BuildRecord } from '../src/ledger/model.js';
import { freePort } from '../test/helpers.js';

/** The repository this bench belongs to (dist/bench/lab.js → two folders up). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(REPO, 'bin', 'envctl.js');

export { freePort };

// The tests' own git helpers: a fixed identity, and a commit of every file written.
export { git, commit as commitFiles } from '../test/fixtures/repo.js';

/** Seconds since `t` (from process.hrtime.bigint()). */
export const since = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;

/** Mount points at or under `dir`, from /proc/self/mountinfo. */
export function mountsUnder(dir: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with spaces and the like octal-escaped.
  const points = text.split('\n').map((l) => l.split(' ')[4]).filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return points.filter((p) => p === dir || p.startsWith(`${dir}/`));
}

/** rm -rf, refused (the folder kept, a line on stderr) while anything is mounted inside. */
export async function removeTree(dir: string): Promise<void> {
  const mounts = mountsUnder(dir);
  if (mounts.length > 0) {
    process.stderr.write(`bench: ${dir} still has ${mounts.length} mount(s) inside (${mounts[0]}); left in place\n`);
    return;
  }
  await rm(dir, { recursive: true, force: true });
}

/** A temporary folder for one bench; `done` removes it (see removeTree). */
export async function tempFolder(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface BenchStorage {
  /** The storage.conf, for CONTAINERS_STORAGE_CONF. */
  conf: string;
  /** graphroot: what du measures. */
  graph: string;
  driver: 'overlay' | 'vfs';
  /** The environment a buildah (or envctl) using this storage runs with. */
  env: Record<string, string>;
}

/** Empty buildah storage under `dir`, as a fresh runner has. */
export async function makeStorage(dir: string, driver: 'overlay' | 'vfs'): Promise<BenchStorage> {
  await mkdir(dir, { recursive: true });
  const conf = join(dir, 'storage.conf');
  const graph = join(dir, 'graph');
  await writeFile(conf, ['[storage]', `driver = "${driver}"`, `graphroot = ${JSON.stringify(graph)}`, `runroot = ${JSON.stringify(join(dir, 'run'))}`, ''].join('\n'));
  return { conf, graph, driver, env: { CONTAINERS_STORAGE_CONF: conf } };
}

/** Bytes under `dir` (du -skx: one file system, so overlay's merged mounts are not counted twice); 0 when absent. */
export async function du(dir: string): Promise<number> {
  if (!existsSync(dir)) return 0;
  const result = await execa('du', ['-skx', dir], { reject: false });
  const kib = Number(String(result.stdout).split(/\s/)[0]);
  return Number.isFinite(kib) ? kib * 1024 : 0;
}

/**
 * The most bytes seen under `dir` while `work` runs: du about every
 * `everyMs`, one at a time, and once more at the end.
 */
export async function peakWhile<T>(dir: string, work: () => Promise<T>, everyMs = 1500): Promise<{ result: T; peak: number; end: number }> {
  let peak = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await du(dir));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  try {
    const result = await work();
    running = false;
    await sampler;
    const end = await du(dir);
    return { result, peak: Math.max(peak, end), end };
  } finally {
    running = false;
  }
}

export interface BenchRegistry {
  address: string;
  data: string;
  stop(): Promise<void>;
}

/** Debian's docker-registry serving `data` on 127.0.0.1:`port` (loopback only), deletes allowed. */
export async function startRegistry(data: string, port: number): Promise<BenchRegistry> {
  const address = `127.0.0.1:${port}`;
  if (await answers(address)) throw new Error(`something already answers on ${address}`);
  await mkdir(data, { recursive: true });
  const config = `${data}.yml`;
  await writeFile(config, [
    'version: 0.1', 'log: { level: warn }',
    `storage: { filesystem: { rootdirectory: ${JSON.stringify(data)} }, delete: { enabled: true } }`,
    `http: { addr: "${address}" }`, '',
  ].join('\n'));
  const log = openSync(`${data}.log`, 'a');
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  for (let i = 0; i < 100; i++) {
    if (await answers(address)) return { address, data, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`docker-registry did not start on ${address}: ${await readFile(`${data}.log`, 'utf8').catch(() => '')}`);
}

async function answers(address: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** A copy of a stopped registry's data, so two runs each start from the same registry state. */
export async function copyData(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true });
}

export interface CliRun { exitCode: number; seconds: number; stdout: string; stderr: string }

/** `envctl <args>` in `cwd` with `env` on top of this process's (CI unset unless given). */
export async function envctl(cwd: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  const base = { ...process.env };
  delete base.CI;
  const t = process.hrtime.bigint();
  const r = await execa(process.execPath, [BIN, ...args], { cwd, reject: false, env: { ...base, ...env }, extendEnv: false });
  return { exitCode: r.exitCode ?? -1, seconds: since(t), stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Throws with the run's output unless it exited 0. */
export function expectOk(run: CliRun, what: string): CliRun {
  if (run.exitCode !== 0) throw new Error(`${what} exited ${run.exitCode}:\n${run.stdout}\n${run.stderr}`);
  return run;
}

/** The newest build record of each environment in the ledger. */
export async function lastRecords(dir: string): Promise<Map<string, BuildRecord>> {
  const { ledger } = await readLedger(dir, 'envctl-state');
  return new Map([...ledger].map(([name, l]) => [name, l.builds.at(-1)!]));
}

/** The build log a record names, as text. */
export async function logOf(dir: string, record: BuildRecord): Promise<string> {
  if (!record.log) throw new Error(`the build record ${record.id} names no log`);
  return readFile(join(dir, record.log), 'utf8');
}

/** Runs `fn` with CONTAINERS_STORAGE_CONF set in this process (for fixtures that run buildah themselves). */
export async function withStorageEnv<T>(storage: BenchStorage, fn: () => Promise<T>): Promise<T> {
  const before = process.env.CONTAINERS_STORAGE_CONF;
  process.env.CONTAINERS_STORAGE_CONF = storage.conf;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.CONTAINERS_STORAGE_CONF;
    else process.env.CONTAINERS_STORAGE_CONF = before;
  }
}

/** Removes a bench storage: working containers first (buildah unmounts them), then the folder unless mounts remain. */
export async function dropStorage(dir: string, storage: BenchStorage): Promise<void> {
  await execa('buildah', [...storageArgs(storage.driver), 'rm', '--all'], { env: storage.env, reject: false });
  await removeTree(dir);
}

export const MiB = 1024 * 1024;
