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
      if (!/[:@]/.test(base.image.split('/').pop() ?? '') || /:latest$/.test(base.image)) {
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

/** One error per environment on a cycle, naming the whole loop. */
function cycles(nodes: Map<string, BaseNode>): Problem[] {
  const out: Problem[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  for (const start of nodes.keys()) {
    const path: string[] = [];
    let name: string | undefined = start;
    while (name !== undefined && nodes.has(name) && state.get(name) !== 'done') {
      if (state.get(name) === 'visiting') {
        const loop = path.slice(path.indexOf(name));
        for (const member of loop) {
          if (reported.has(member)) continue;
          reported.add(member);
          const node = nodes.get(member)!;
          const from = loop.indexOf(member);
          const ring = [...loop.slice(from), ...loop.slice(0, from), member];
          out.push(problem(position(node.source, '/base/environment', 'value'), 'error', 'base-cycle',
            `bases form a cycle: ${ring.join(' → ')}`));
        }
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

function suggest(name: string, known: Set<string>): string {
  const near = [...known].filter((k) => k.includes(name) || name.includes(k)).slice(0, 3);
  return near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : '';
}
