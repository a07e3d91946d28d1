/**
 * Rules about what an environment is built on: the base must exist, not
 * loop, and not be newly archived. An environment a stage is built on (to
 * copy from) must exist too, and counts for loops: copying from an
 * environment built on you (or copying from you) could never be built.
 */
import { problem, type Problem } from '../model/problem.js';
import { baseOf, stageChain, stageEnvironments, type EnvironmentSpec } from '../model/spec.js';
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
    for (const s of stageEnvironments(node.spec)) {
      if (known.has(s.environment)) continue;
      out.push(problem(position(node.source, `/stages/${s.stage}/base/environment`, 'value'), 'error', 'stage-environment-unknown',
        `stage "${node.spec.stages![s.stage]!.name}" is built on environment "${s.environment}", which does not exist${suggest(s.environment, known)}`));
    }
    // On one of its stages: what that stage stands on is checked as the stage's base (stages.ts, and the loop above).
    if (stageChain(node.spec) !== undefined) continue;
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

interface Edge { to: string; pointer: string; copy: boolean }

/** What an environment needs built first: its base environment, then each environment a stage is built on. */
function edgesOf(spec: EnvironmentSpec): Edge[] {
  // On a stage: an environment under it is that stage's edge already.
  const base = stageChain(spec) === undefined ? baseOf(spec) : { kind: 'default' as const };
  return [
    ...(base.kind === 'environment' ? [{ to: base.environment, pointer: '/base/environment', copy: false }] : []),
    ...stageEnvironments(spec).map((s) => ({ to: s.environment, pointer: `/stages/${s.stage}/base/environment`, copy: true })),
  ];
}

/**
 * One error per cycle, at the member whose name sorts first (so the same
 * loop is reported at the same place however it is walked), naming the loop
 * from there, at most CYCLE_SHOWN names of it. A depth-first walk that
 * visits each environment and edge once: linear in their number.
 */
function cycles(nodes: Map<string, BaseNode>): Problem[] {
  const out: Problem[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  // The walk's own stack (a chain of bases can be longer than the call stack): each entry's edge leads to the next.
  const path: { name: string; edges: Edge[]; next: number; edge?: Edge }[] = [];
  const enter = (name: string) => {
    state.set(name, 'visiting');
    path.push({ name, edges: edgesOf(nodes.get(name)!.spec), next: 0 });
  };
  for (const start of nodes.keys()) {
    if (state.has(start)) continue;
    enter(start);
    while (path.length > 0) {
      const top = path[path.length - 1]!;
      const edge = top.edges[top.next++];
      if (!edge) {
        state.set(top.name, 'done');
        path.pop();
        continue;
      }
      if (!nodes.has(edge.to) || state.get(edge.to) === 'done') continue;
      top.edge = edge;
      if (state.get(edge.to) === 'visiting') out.push(cycleProblem(nodes, path.slice(path.findIndex((p) => p.name === edge.to)).map((p) => ({ name: p.name, edge: p.edge! }))));
      else enter(edge.to);
    }
  }
  return out;
}

function cycleProblem(nodes: Map<string, BaseNode>, loop: { name: string; edge: Edge }[]): Problem {
  let first = 0;
  for (let i = 1; i < loop.length; i++) if (loop[i]!.name < loop[first]!.name) first = i;
  const ring = [...loop.slice(first), ...loop.slice(0, first)];
  const names = ring.map((r) => r.name);
  const shown = names.length <= CYCLE_SHOWN ? [...names, names[0]!]
    : [...names.slice(0, CYCLE_SHOWN - 1), `… (${names.length - CYCLE_SHOWN} more)`, names[names.length - 1]!, names[0]!];
  const size = names.length === 1 ? 'one environment' : `${names.length} environments`;
  const copies = ring.filter((r) => r.edge.copy).map((r) => `${r.name} copies from ${r.edge.to}`);
  const node = nodes.get(names[0]!)!;
  // A loop of bases alone keeps its words; one through a stage says which copy closes it.
  return problem(position(node.source, ring[0]!.edge.pointer, 'value'), 'error', 'base-cycle', copies.length === 0
    ? `bases form a cycle of ${size}: ${shown.join(' → ')}`
    : `bases and the environments stages are built on form a cycle of ${size}: ${shown.join(' → ')} (${copies.join('; ')}); an environment cannot copy from one built on it`);
}

function suggest(name: string, known: Set<string>): string {
  const near = [...known].filter((k) => k.includes(name) || name.includes(k)).slice(0, 3);
  return near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : '';
}
