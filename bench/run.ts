/**
 * `npm run bench`: envctl's speed as ratios against floors measured in the
 * same run on the same machine, so the numbers mean the same anywhere.
 */
import { load } from 'js-yaml';
import { checkEnvironments } from '../src/check/index.js';
import { withDefaults } from '../src/load/config.js';
import { loadEnvironments } from '../src/load/environments.js';
import { parseDockerfile } from '../src/check/dockerfile.js';
import type { Snapshot } from '../src/model/tree.js';
import { generateEnvironments } from './generate.js';

interface Result { name: string; seconds: number; floor: number; goal: number; note: string }

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
  const dockerfile = paired(() => blocks.forEach((b) => parseDockerfile(b).getInstructions()), () => {
    kept = texts.map((t) => load(t));
  });
  return {
    name: 'validate 1,000 environments', seconds, floor, goal: 1.5,
    note: `floor: bare js-yaml load of the same files, kept in memory; of it, dockerfile-ast alone: ratio ${(dockerfile.seconds / dockerfile.floor).toFixed(2)}`,
  };
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
