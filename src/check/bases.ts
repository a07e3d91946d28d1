/** Rules about what an environment is built on: the base must exist, not loop, and not be newly archived. */
import { problem, type Problem } from '../model/problem.js';
import { baseOf, type EnvironmentSpec } from '../model/spec.js';
import type { SourceMap } from '../schema/index.js';
import { position } from '../schema/index.js';

export interface BaseNode {
  name: string;
  spec: EnvironmentSpec;
  source: SourceMap;
}

/**
 * `previousBases`: for each environment, the base environment it had on the
 * branch a change is compared with. Keeping an archived base is allowed
 * (projects on it keep working); choosing one anew is not.
 */
export function checkBases(nodes: Map<string, BaseNode>, known: Set<string>, previousBases?: Map<string, string>): Problem[] {
  const out: Problem[] = [];
  for (const node of nodes.values()) {
    const from = node.spec.renamedFrom;
    if (from !== undefined && known.has(from)) {
      out.push(problem(position(node.source, '/renamedFrom', 'value'), 'error', 'renamed-from-exists',
        `renamedFrom: "${from}" still exists; a rename removes the old file in the same change (or drop renamedFrom for a copy)`));
    }
    const base = baseOf(node.spec);
    if (base.kind === 'image') {
      // Still `${…}`: the build arguments could not fill it in, and check/build-args.ts says why.
      if (!base.image.includes('$') && (!/[:@]/.test(base.image.split('/').pop() ?? '') || /:latest$/.test(base.image))) {
        out.push(problem(position(node.source, '/base/image', 'value'), 'warning', 'base-image-unpinned',
          `base image "${base.image}" names no version; pin a tag or @sha256 digest so rebuilds start from the same image`));
      }
      continue;
    }
    if (base.kind !== 'environment') continue;
    const at = () => position(node.source, '/base/environment', 'value');
    if (!known.has(base.environment)) {
      out.push(problem(at(), 'error', 'base-unknown', `base environment "${base.environment}" does not exist${suggest(base.environment, known)}`));
      continue;
    }
    const parent = nodes.get(base.environment);
    if (parent?.spec.archived) {
      const kept = previousBases?.get(node.name) === base.environment;
      out.push(kept
        ? problem(at(), 'warning', 'base-archived', `base environment "${base.environment}" is archived; this environment keeps working, but move it to another base`)
        : problem(at(), 'error', 'base-archived', `base environment "${base.environment}" is archived and cannot be chosen as a new base`));
    }
  }
  out.push(...cycles(nodes));
  return out;
}

/** How many names a cycle's message shows; a loop can run through every environment. */
const CYCLE_SHOWN = 8;

/**
 * One error per cycle, at the member whose name sorts first (so the same
 * loop is reported at the same place however it is walked), naming the loop
 * from there, at most CYCLE_SHOWN names of it. Each environment is walked
 * once: linear in the number of environments.
 */
function cycles(nodes: Map<string, BaseNode>): Problem[] {
  const out: Problem[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  for (const start of nodes.keys()) {
    const path: string[] = [];
    let name: string | undefined = start;
    while (name !== undefined && nodes.has(name) && state.get(name) !== 'done') {
      if (state.get(name) === 'visiting') {
        out.push(cycleProblem(nodes, path.slice(path.indexOf(name))));
        break;
      }
      state.set(name, 'visiting');
      path.push(name);
      const base = baseOf(nodes.get(name)!.spec);
      name = base.kind === 'environment' ? base.environment : undefined;
    }
    for (const p of path) state.set(p, 'done');
  }
  return out;
}

function cycleProblem(nodes: Map<string, BaseNode>, loop: string[]): Problem {
  let first = 0;
  for (let i = 1; i < loop.length; i++) if (loop[i]! < loop[first]!) first = i;
  const ring = [...loop.slice(first), ...loop.slice(0, first)];
  const shown = ring.length <= CYCLE_SHOWN ? [...ring, ring[0]!]
    : [...ring.slice(0, CYCLE_SHOWN - 1), `… (${ring.length - CYCLE_SHOWN} more)`, ring[ring.length - 1]!, ring[0]!];
  const node = nodes.get(ring[0]!)!;
  return problem(position(node.source, '/base/environment', 'value'), 'error', 'base-cycle',
    `bases form a cycle of ${ring.length === 1 ? 'one environment' : `${ring.length} environments`}: ${shown.join(' → ')}`);
}

function suggest(name: string, known: Set<string>): string {
  const near = [...known].filter((k) => k.includes(name) || name.includes(k)).slice(0, 3);
  return near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : '';
}
