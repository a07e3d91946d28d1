/**
 * Image tests: commands run inside a built image before its revision may
 * become active, and the checks envctl adds for workspace tools. The image
 * is named by digest and run as `envctl run` runs it (container.ts): the
 * same engine, OCI isolation and storage driver as builds; the image's USER,
 * which is the environment's `username`.
 *
 * With buildah one working container serves every test in order (`buildah
 * from` once, `buildah run` per test, removed at the end); podman runs a
 * fresh container per test. Commands get the engine's own private network,
 * as RUN steps do. A tool is started with the host's network, as `envctl run
 * --tool` does, so its port answers on this machine's loopback.
 *
 * A test's timeout ends `buildah run` with SIGTERM, on which buildah kills
 * the container's processes (measured: nothing of a `sleep 30` is left),
 * then SIGKILL after five seconds. Output is kept bounded: the log file gets
 * all of it, matching sees the last OUTPUT_KEPT bytes.
 */
import { execa, type ResultPromise } from 'execa';
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { EnvctlError } from '../model/errors.js';
import { expectPattern, type TestCommand } from '../model/spec.js';
import { printable } from '../model/text.js';
import { runIsolationArgs, type Engine } from './container.js';
import { storageArgs, type StorageDriver } from './storage.js';
import { BuildCancelled } from './types.js';
import { toolVariables } from '../render/lifecycle.js';

export interface ImageTestRun {
  engine: Engine;
  /** `<registry>/<repository>@sha256:…`. */
  image: string;
  commands: TestCommand[];
  /** Every workspace tool in the image (the run spec's, inherited ones included): each start is checked. */
  tools: { id: string; start: string[]; port?: number }[];
  /** Seconds to wait for each tool with a port to answer HTTP; undefined: tools are not started. */
  toolWaitSeconds?: number;
  /** The script (POSIX sh) that starts a tool as `envctl run --tool` does: the lifecycle with its start as the command. */
  toolScript: (start: string[]) => string;
  /** Where the lifecycle's script expects the project; an empty folder is mounted there for a tool. */
  projectDir: string;
  /** A virtual environment whose bin leads PATH at run time (requirements.venv), so a start found there is found. */
  venv?: string;
  /** Plain variables, passed as a run passes them. */
  env: { name: string; value: string }[];
  insecure: boolean;
  authFile?: string;
  storage?: StorageDriver;
  isolation?: 'oci' | 'chroot';
  /** Every test's output is appended here. */
  logFile: string;
  signal?: AbortSignal;
}

export interface TestResult {
  name: string;
  passed: boolean;
  /** Why it failed, one line. */
  why?: string;
  /** The end of its output (bounded). */
  output: string;
}

/** A revision's image test failed (code `test-failed`): the build's own doing, as a failing RUN step is. */
export class TestFailed extends EnvctlError {
  constructor(readonly test: string, message: string, readonly logTail: string) {
    super('external', 'test-failed', message, { host: 'image test', data: { test } });
  }
}

/** Bytes of a test's output kept for matching `expect` and for the log tail; the log file has all of it. */
export const OUTPUT_KEPT = 1024 * 1024;
/** Characters of a finished test's output its result keeps (the log tail is cut from them). */
const RESULT_KEPT = 64 * 1024;
/** Seconds a tool's start check may take (a fixed script: only a hung engine takes long). */
const START_CHECK_SECONDS = 60;
/** Lines of the failed test's output kept as the record's log tail. */
export const TAIL_LINES = 25;

/**
 * Whether a tool's start can be run by the image's user: a path must be an
 * executable file, a bare name must be found on PATH (the venv's bin first,
 * as at run time). Fixed text; the start and venv arrive as arguments.
 */
export const START_CHECK = [
  '[ -n "$1" ] && PATH="$1/bin:$PATH"',
  'shift',
  'p=$1',
  'case $p in */*) ;; *) p=$(command -v "$p") || { echo "envctl: $1 is not found on PATH ($PATH)"; exit 3; } ;; esac',
  'case $p in */*) ;; *) exit 0 ;; esac',
  '[ -e "$p" ] || { echo "envctl: $p does not exist in the image"; exit 3; }',
  '[ -d "$p" ] && { echo "envctl: $p is a folder, not a program"; exit 4; }',
  '[ -x "$p" ] || { echo "envctl: $p is not executable by $(id -un 2>/dev/null || id -u)"; exit 4; }',
  'exit 0',
].join('\n');

/** Runs every test, in order (start checks, commands, then tools started); returns each one's result. */
export async function runImageTests(run: ImageTestRun): Promise<TestResult[]> {
  const log = createWriteStream(run.logFile, { flags: 'a' });
  const project = await mkdtemp(join(tmpdir(), 'envctl-test-project-'));
  // The image's user, whoever it is, may enter the empty project folder, as a run's lifecycle cds into it.
  await chmod(project, 0o755);
  let container: string | undefined;
  const results: TestResult[] = [];
  const done = (r: TestResult) => {
    // Only the end of each output is kept past matching: a hundred chatty tests stay small.
    results.push({ ...r, output: r.output.slice(-RESULT_KEPT) });
    log.write(`envctl test: ${r.name}: ${r.passed ? 'passed' : `failed: ${r.why}`}\n`);
  };
  try {
    if (run.engine === 'buildah') container = await createContainer(run, log);
    const exec = (argv: string[], opts: { host?: boolean; mount?: boolean; timeoutSeconds?: number; env?: { name: string; value: string }[] } = {}) =>
      execa(run.engine, runArgs(opts.env ? { ...run, env: [...run.env, ...opts.env] } : run, container, argv, { ...(opts.host ? { host: true } : {}), ...(opts.mount ? { mount: { host: project, container: run.projectDir } } : {}) }), {
        reject: false, all: true, buffer: false, stdin: 'ignore',
        ...(opts.timeoutSeconds !== undefined ? { timeout: opts.timeoutSeconds * 1000 } : {}),
        ...(run.signal ? { cancelSignal: run.signal } : {}),
      });
    const unstartable = new Set<string>();
    for (const tool of run.tools) {
      const name = `tool ${tool.id}: start ${tool.start[0]}`;
      log.write(`\n$ envctl test: ${name}\n`);
      const child = exec(['/bin/sh', '-c', START_CHECK, 'sh', run.venv ?? '', tool.start[0]!], { timeoutSeconds: START_CHECK_SECONDS });
      const output = collect(child, log);
      const r = await child;
      const result = verdict(name, r, await output, undefined, START_CHECK_SECONDS, r.exitCode === 3 || r.exitCode === 4 ? 'start check' : undefined);
      if (!result.passed) unstartable.add(tool.id);
      done(result);
    }
    for (const test of run.commands) {
      log.write(`\n$ envctl test: ${test.name}\n`);
      const child = exec(test.argv, { timeoutSeconds: test.timeoutSeconds });
      const output = collect(child, log);
      const r = await child;
      done(verdict(test.name, r, await output, test.expect, test.timeoutSeconds));
    }
    if (run.toolWaitSeconds !== undefined) {
      // A tool whose start failed its check has failed already; starting it would only fail again.
      for (const tool of run.tools.filter((t) => t.port !== undefined && !unstartable.has(t.id))) {
        // A free port of this machine's, told to the tool as envctl run --port tells it (ENVCTL_TOOL_PORT):
        // its fixed httpProxy.port may be another run's or another program's.
        const port = await freePort();
        const name = `tool ${tool.id}: HTTP`;
        log.write(`\n$ envctl test: ${name} (ENVCTL_TOOL_PORT=${port}; its httpProxy.port is ${tool.port})\n`);
        const env = toolVariables({ host: '127.0.0.1', port });
        done(await startTool(name, port, run.toolWaitSeconds!, () => exec(['/bin/sh', '-c', run.toolScript(tool.start)], { host: true, mount: true, env }), log));
      }
    }
    if (run.signal?.aborted) throw new BuildCancelled(`tests stopped: ${String(run.signal.reason ?? 'cancelled')}`);
    return results;
  } finally {
    if (container) await execa('buildah', [...storageArgs(run.storage ?? 'vfs'), 'rm', container], { reject: false });
    await rm(project, { recursive: true, force: true });
    await new Promise<void>((r) => log.end(r));
  }
}

/** The failed test's output as a record's log tail: its last lines, each made printable. */
export function tailOf(output: string): string {
  return output.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).slice(-TAIL_LINES).map(printable).join('\n');
}

async function createContainer(run: ImageTestRun, log: WriteStream): Promise<string> {
  const name = `envctl-test-${randomBytes(4).toString('hex')}`;
  const args = [
    ...storageArgs(run.storage ?? 'vfs'), 'from', '--name', name, '--pull=missing', `--tls-verify=${run.insecure ? 'false' : 'true'}`,
    ...(run.authFile ? ['--authfile', run.authFile] : []), run.image,
  ];
  const created = await execa('buildah', args, { reject: false, all: true, stdin: 'ignore', ...(run.signal ? { cancelSignal: run.signal } : {}) });
  log.write(`$ buildah ${args.join(' ')}\n${String(created.all ?? '')}\n`);
  // Not the image's doing: the registry or the engine failed, and the next sync tries again.
  if (created.exitCode !== 0) throw new EnvctlError('external', 'test-container-failed', `buildah could not start ${run.image} for its tests: ${String(created.all ?? '').trim().split('\n').pop()}`, { host: 'buildah' });
  return name;
}

/** One test's command for the engine: in the working container (buildah) or a fresh one (podman). */
export function runArgs(run: Pick<ImageTestRun, 'engine' | 'image' | 'env' | 'insecure' | 'authFile' | 'storage' | 'isolation'>, container: string | undefined, argv: string[], opts: { host?: boolean; mount?: { host: string; container: string } } = {}): string[] {
  const network = opts.host ? ['--network', 'host'] : [];
  const env = run.env.flatMap((e) => ['--env', `${e.name}=${e.value}`]);
  const volume = opts.mount ? ['--volume', `${opts.mount.host}:${opts.mount.container}`] : [];
  if (run.engine === 'podman') {
    return ['run', '--rm', '--pull=missing', `--tls-verify=${run.insecure ? 'false' : 'true'}`, ...(run.authFile ? ['--authfile', run.authFile] : []), ...network, ...volume, ...env, run.image, ...argv];
  }
  return [...storageArgs(run.storage ?? 'vfs'), 'run', ...runIsolationArgs(run.isolation ?? 'oci', process.getuid?.() === 0), ...network, ...volume, ...env, container!, '--', ...argv];
}

type Finished = { exitCode?: number | undefined; timedOut: boolean; isCanceled: boolean; signal?: string | undefined };

function verdict(name: string, r: Finished, output: string, expect: string | undefined, timeoutSeconds: number, kind?: 'start check'): TestResult {
  const fail = (why: string): TestResult => ({ name, passed: false, why, output });
  if (r.isCanceled) return fail('stopped');
  if (r.timedOut) return fail(`did not end within ${timeoutSeconds} s`);
  // The check's own line (buildah adds its own after it, about the runtime's exit status).
  if (kind === 'start check') return fail(output.split('\n').filter((l) => l.startsWith('envctl: ')).pop()?.slice('envctl: '.length) ?? `exit code ${r.exitCode}`);
  if (r.exitCode !== 0) return fail(r.exitCode === undefined ? `ended by ${r.signal ?? 'a signal'}` : `exit code ${r.exitCode}`);
  if (expect !== undefined && !expectPattern(expect).test(output)) return fail(`its output does not match /${expect}/`);
  return { name, passed: true, output };
}

/** Appends the child's stdout and stderr to the log as they come; resolves with their last OUTPUT_KEPT bytes as text. */
function collect(child: ResultPromise, log: WriteStream): Promise<string> {
  return new Promise((resolve) => {
    const decoder = new StringDecoder('utf8');
    let kept = '';
    child.all?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      kept += decoder.write(chunk);
      if (kept.length > 2 * OUTPUT_KEPT) kept = kept.slice(-OUTPUT_KEPT);
    });
    const done = () => resolve((kept + decoder.end()).slice(-OUTPUT_KEPT));
    if (!child.all) done();
    else child.all.on('close', done);
  });
}

/**
 * Starts a tool and asks its port over HTTP until it answers (any status
 * counts: something serves HTTP there) or the wait is over, then stops it.
 * A tool that ends before answering fails at once, with its output.
 */
async function startTool(name: string, port: number, waitSeconds: number, start: () => ResultPromise, log: WriteStream): Promise<TestResult> {
  const child = start();
  const output = collect(child, log);
  let ended = false;
  void child.then(() => { ended = true; });
  const deadline = Date.now() + waitSeconds * 1000;
  let answered = false;
  while (!ended && !answered && Date.now() < deadline) {
    answered = await answers(port);
    if (!answered && !ended) await new Promise((r) => setTimeout(r, 250));
  }
  const wasRunning = !ended;
  child.kill('SIGTERM');
  const r = await child;
  const text = await output;
  if (answered) return { name, passed: true, output: text };
  if (r.isCanceled) return { name, passed: false, why: 'stopped', output: text };
  if (!wasRunning) return { name, passed: false, why: `the tool ended (exit code ${r.exitCode ?? r.signal}) before answering`, output: text };
  return { name, passed: false, why: `no HTTP answer within ${waitSeconds} s`, output: text };
}

async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual', signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** A port nothing on this machine's loopback listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
