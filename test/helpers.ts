/** Shared test helpers: in-memory repositories run through the real stages. */
import { unlinkSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkEnvironments, type CheckResult } from '../src/check/index.js';
import { withDefaults } from '../src/config/index.js';
import { loadEnvironments } from '../src/load/environments.js';
import type { Config } from '../src/model/config.js';
import type { Problem } from '../src/model/problem.js';
import type { Snapshot } from '../src/model/tree.js';

export type Files = Record<string, string | Uint8Array | { text: string; executable: true }>;

export function snapshot(files: Files): Snapshot {
  const enc = new TextEncoder();
  return {
    problems: [],
    files: Object.entries(files).map(([path, v]) => {
      if (typeof v === 'string') return { path, bytes: enc.encode(v), executable: false };
      if (v instanceof Uint8Array) return { path, bytes: v, executable: false };
      return { path, bytes: enc.encode(v.text), executable: true };
    }),
  };
}

export function config(overrides: Parameters<typeof withDefaults>[0] = {}): Config {
  return withDefaults(overrides);
}

export interface Run extends CheckResult {
  all: Problem[];
}

/** Load and check `files` (paths under environments/) as the CLI would, without disk. */
export function check(files: Files, opts: { config?: Config; imageLayers?: Map<string, number>; previousBases?: Map<string, string> } = {}): Run {
  const loaded = loadEnvironments(snapshot(files), 'environments');
  const cfg = opts.config ?? config();
  const ctx = { config: cfg, ...(opts.imageLayers ? { imageLayers: opts.imageLayers } : {}), ...(opts.previousBases ? { previousBases: opts.previousBases } : {}) };
  const checked = checkEnvironments(loaded.environments, ctx);
  return { ...checked, all: [...loaded.problems, ...checked.problems] };
}

export function byRule(run: Run, rule: string): Problem[] {
  return run.all.filter((p) => p.rule === rule);
}

/** Lines joined with "\n" and a final newline: a YAML file written as a list of lines. */
export function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

export async function tempDir(prefix = 'envctl-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * A loopback TCP port nothing listens on, for a server a test starts (a
 * registry): the kernel picks it (a bind to port 0), and a claim file under
 * the temp folder keeps every other test run on this machine off it until
 * this process exits, so two runs at once never share a registry. Claims of
 * processes that are gone are taken over.
 */
export async function freePort(): Promise<number> {
  const dir = join(tmpdir(), 'envctl-test-ports');
  await mkdir(dir, { recursive: true });
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await kernelPort();
    const claim = join(dir, String(port));
    try {
      await writeFile(claim, String(process.pid), { flag: 'wx' });
    } catch {
      const holder = Number(await readFile(claim, 'utf8').catch(() => ''));
      if (!alive(holder)) await rm(claim, { force: true });
      continue;
    }
    if (claims.size === 0) process.once('exit', () => claims.forEach((c) => { try { unlinkSync(c); } catch { /* gone already */ } }));
    claims.add(claim);
    return port;
  }
  throw new Error(`no free loopback port could be claimed under ${dir}`);
}

const claims = new Set<string>();

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
