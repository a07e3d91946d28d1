/**
 * Bounded work on hostile input: validate 10,000 environments, half of them
 * one base cycle and half one chain 5,000 deep (each passing a docker argument), each measured in a child
 * process of its own so its peak resident memory is its own. Floors: the same
 * 10,000 environments without the hostile bases (hostile input must cost no
 * more than clean input), and a child that only loads the hostile files with
 * js-yaml and keeps them.
 *
 * `node dist/bench/scale.js hostile|clean|floor` is the child; bench/run.ts the parent.
 */
import { load } from 'js-yaml';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { checkEnvironments } from '../src/check/index.js';
import { withDefaults } from '../src/config/index.js';
import { loadEnvironments } from '../src/load/environments.js';
import type { Snapshot } from '../src/model/tree.js';
import type { Result } from './builds.js';
import { generateEnvironments } from './generate.js';

const COUNT = 10_000;
const CYCLE = 5_000;

/** The generated environments with their bases rewired: 0…4999 a loop, 5000…9999 a chain down to one image. */
export function hostileEnvironments(): Record<string, string> {
  const name = (i: number) => `env-${String(i).padStart(4, '0')}`;
  const files = generateEnvironments(COUNT);
  for (const [path, text] of Object.entries(files)) {
    const m = /env-(\d+)/.exec(path);
    if (!m || !path.endsWith('.yaml')) continue;
    const i = Number(m[1]);
    const base = i < CYCLE ? `base: { environment: ${name((i + 1) % CYCLE)} }`
      : i < COUNT - 1 ? `base: { environment: ${name(i + 1)} }` : 'base: { image: "ubuntu:noble" }';
    // The chain's members pass an argument each, so the policy judges arguments inherited along 5,000 bases.
    files[path] = text.replace(/^base: .*$/m, i >= CYCLE ? `${base}\ndockerArguments: ["--shm-size=1g"]` : base);
  }
  return files;
}

function child(mode: string): void {
  const files = mode === 'clean' ? generateEnvironments(COUNT) : hostileEnvironments();
  const enc = new TextEncoder();
  const snapshot: Snapshot = { problems: [], files: Object.entries(files).map(([path, text]) => ({ path, bytes: enc.encode(text), executable: false })) };
  const t = process.hrtime.bigint();
  let kept: unknown;
  if (mode !== 'floor') {
    const loaded = loadEnvironments(snapshot, 'environments');
    const result = checkEnvironments(loaded.environments, { config: withDefaults({ imageLayers: { 'ubuntu:noble': 30 }, policy: { administratorFields: ['*'] } }) });
    const cycles = result.problems.filter((p) => p.rule === 'base-cycle').length;
    const limits = result.problems.filter((p) => p.rule === 'layer-limit').length;
    if (mode === 'hostile' && (cycles !== 1 || limits < CYCLE - 127)) throw new Error(`expected one cycle and the chain over the limit; got ${cycles} cycles, ${limits} layer-limit errors`);
    if (mode === 'clean' && result.problems.length > 0) throw new Error(`generated environments should be clean; got ${result.problems.length} problems`);
    // Every problem is formatted, as validate prints them: a message's size is part of the cost.
    kept = [loaded, result, result.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.severity}: ${p.message} [${p.rule}]`)];
  } else {
    kept = snapshot.files.filter((f) => f.path.endsWith('.yaml')).map((f) => load(new TextDecoder().decode(f.bytes)));
  }
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  // maxRSS is in KiB; the kept value stays alive until here.
  process.stdout.write(JSON.stringify({ seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, kept: Array.isArray(kept) ? kept.length : 0 }));
}

interface Sample { seconds: number; maxRssMiB: number }

async function sample(mode: 'hostile' | 'clean' | 'floor'): Promise<Sample> {
  const { stdout } = await execa(process.execPath, [fileURLToPath(import.meta.url), mode]);
  return JSON.parse(stdout) as Sample;
}

/**
 * Goals: time within 1.5× of clean input (the hostile half reports about
 * 5,000 located errors, and each error's file has its positions rebuilt, the
 * price of the exact line:col), memory within 1.25×.
 */
export async function hostileScaleBench(runs = 3): Promise<Result[]> {
  const hostile: Sample[] = [];
  const clean: Sample[] = [];
  const floor: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    hostile.push(await sample('hostile'));
    clean.push(await sample('clean'));
    floor.push(await sample('floor'));
  }
  const median = (xs: Sample[], key: keyof Sample) => xs.map((x) => x[key]).sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const what = 'validate 10,000 hostile environments (a 5,000-long base cycle, a 5,000-deep chain)';
  return [
    { name: `${what}, time`, value: median(hostile, 'seconds'), floor: median(clean, 'seconds'), goal: 1.5, unit: 'ms', note: `floor: 10,000 clean environments; against a bare js-yaml load of the files: ratio ${(median(hostile, 'seconds') / median(floor, 'seconds')).toFixed(2)}` },
    { name: `${what}, peak memory`, value: median(hostile, 'maxRssMiB'), floor: median(clean, 'maxRssMiB'), goal: 1.25, unit: 'MiB', note: `floor: 10,000 clean environments, peak resident memory; against a bare js-yaml load: ratio ${(median(hostile, 'maxRssMiB') / median(floor, 'maxRssMiB')).toFixed(2)}` },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) child(process.argv[2]);
