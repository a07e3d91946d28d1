/**
 * `npm run bench`: envctl's speed as ratios against floors measured in the
 * same run on the same machine, so the numbers mean the same anywhere.
 */
import { load } from 'js-yaml';
import { checkEnvironments } from '../src/check/index.js';
import { withDefaults } from '../src/load/config.js';
import { loadEnvironments } from '../src/load/environments.js';
import type { Snapshot } from '../src/model/tree.js';
import { generateEnvironments } from './generate.js';

interface Result { name: string; seconds: number; floor: number; goal: number; note: string }

/** Median of `runs` timings after one warm-up, in seconds. */
function time(fn: () => void, runs = 5): number {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

function validateBench(): Result {
  const files = generateEnvironments(1000);
  const enc = new TextEncoder();
  const snapshot: Snapshot = { problems: [], files: Object.entries(files).map(([path, text]) => ({ path, bytes: enc.encode(text), executable: false })) };
  const texts = Object.entries(files).filter(([p]) => p.endsWith('.yaml')).map(([, t]) => t);
  const config = withDefaults({});
  let problems = 0;
  const floor = time(() => {
    for (const t of texts) load(t);
  });
  const seconds = time(() => {
    const loaded = loadEnvironments(snapshot, 'environments');
    problems = checkEnvironments(loaded.environments, { config }).problems.length;
  });
  if (problems !== 0) throw new Error(`generated environments should be clean; got ${problems} problems`);
  return { name: 'validate 1,000 environments', seconds, floor, goal: 1.5, note: 'floor: bare js-yaml load of the same files' };
}

function main(): void {
  const results = [validateBench()];
  let failed = 0;
  for (const r of results) {
    const ratio = r.seconds / r.floor;
    const ok = ratio <= r.goal;
    if (!ok) failed++;
    console.log(`${r.name}: ${(r.seconds * 1000).toFixed(1)} ms; floor ${(r.floor * 1000).toFixed(1)} ms (${r.note}); ratio ${ratio.toFixed(2)} (goal ≤ ${r.goal}) ${ok ? 'ok' : 'MISSED'}`);
  }
  if (failed) console.log(`${failed} goal(s) missed`);
}

main();
