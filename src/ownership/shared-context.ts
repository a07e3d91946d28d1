/**
 * CODEOWNERS rules for shared build-context folders (`context:`): a change
 * to one rebuilds every environment naming it, so each of their owners
 * (with the administrators their own rules carry) owns it. Placed after the
 * environments' rules, before the administrators' fixed and CI blocks, which
 * still win over a shared folder they name.
 */
/** A rule as codeowners.ts writes it (kept structural here: codeowners.ts imports this file). */
export interface SharedRule {
  pattern: string;
  owners: string[];
  sharedBy: string[];
}

export interface SharedUse {
  /** The environment's own rule (absent when it was skipped: no usable owner). */
  rule: { owners: string[] } | undefined;
  name: string;
  context: readonly string[];
}

export function sharedContextRules(uses: readonly SharedUse[], escape: (path: string) => string | undefined, dedupe: (handles: string[]) => string[]): SharedRule[] {
  const byFolder = new Map<string, { owners: string[]; names: string[] }>();
  for (const use of uses) {
    for (const folder of use.context) {
      const entry = byFolder.get(folder) ?? { owners: [], names: [] };
      entry.names.push(use.name);
      if (use.rule) entry.owners.push(...use.rule.owners);
      byFolder.set(folder, entry);
    }
  }
  const out: SharedRule[] = [];
  for (const folder of [...byFolder.keys()].sort()) {
    const { owners, names } = byFolder.get(folder)!;
    const pattern = escape(folder);
    if (pattern === undefined || owners.length === 0) continue; // nobody to give it to: the catch-all keeps it
    out.push({ pattern: `${pattern}/`, owners: dedupe(owners), sharedBy: [...names].sort() });
  }
  return out;
}
