/**
 * The order environments are imported in: an environment after every
 * environment one of its revisions is built on (so a base's revision number
 * is known when a revision naming it is written), ties by id. Pure.
 */

export interface OrderCycle {
  cycle: string[];
}

/** `bases`: environment id → ids of the environments its revisions are built on. Returns the ids in order, or the ids on a cycle. */
export function importOrder(ids: string[], bases: ReadonlyMap<string, ReadonlySet<string>>): string[] | OrderCycle {
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const s = state.get(id);
    if (s === 'done') return undefined;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const b of [...(bases.get(id) ?? [])].sort()) {
      if (b === id) continue; // a revision on an earlier revision of itself needs no order
      const cycle = visit(b);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    out.push(id);
    return undefined;
  };
  for (const id of [...ids].sort()) {
    const cycle = visit(id);
    if (cycle) return { cycle };
  }
  return out;
}
