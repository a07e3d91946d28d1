/** Shared test helpers: in-memory repositories run through the real stages. */
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
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
