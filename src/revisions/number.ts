/**
 * Numbering: history steps → revisions 1, 2, 3 … per environment. Pure.
 *
 * Rules (ARCHITECTURE.md has the why):
 * - a commit on the first-parent chain that changes an environment's files
 *   is its next revision; a merge counts once, by its first-parent diff;
 * - a commit that deletes it ends its history; a later commit that creates
 *   it again continues the numbering (an image tag is never reused);
 * - a new name is a new environment, unless its YAML says `renamedFrom: old`
 *   and `old` is gone by then: it then continues old's numbering.
 */
import type { CommitInfo, EnvironmentEntry, HistoryStep } from '../model/history.js';

export interface Revision {
  environment: string;
  number: number;
  commit: string;
  subject: string;
  author: string;
  email: string;
  /** Author time, seconds since the epoch. */
  time: number;
  /** The environment's files at this revision. */
  entry: EnvironmentEntry;
  /** On the first revision under a new name: the name it had before. */
  renamedFrom?: string;
  /** On the first revision after a deletion. */
  recreated?: true;
}

/** What numbering needs to remember per environment between runs. */
export interface EnvironmentState {
  alive: boolean;
  count: number;
}

export type NumberingState = Record<string, EnvironmentState>;

/** Gives the `renamedFrom` an environment's YAML declares at an entry, when asked. */
export type RenameLookup = (name: string, entry: EnvironmentEntry) => string | undefined;

export function numberSteps(state: NumberingState, steps: HistoryStep[], renamedFrom: RenameLookup): { state: NumberingState; revisions: Revision[] } {
  const next: NumberingState = {};
  for (const [k, v] of Object.entries(state)) next[k] = { ...v };
  const revisions: Revision[] = [];
  for (const { commit, changes } of steps) {
    // Deletions first, so a rename within one commit finds its old name gone.
    for (const c of changes) if (c.entry === null && next[c.name]) next[c.name]!.alive = false;
    for (const c of changes) {
      if (c.entry === null) continue;
      const known = next[c.name];
      const rev = base(commit, c.name, c.entry);
      if (known?.alive) {
        rev.number = ++known.count;
      } else if (known) {
        known.alive = true;
        rev.number = ++known.count;
        rev.recreated = true;
      } else {
        const from = renamedFrom(c.name, c.entry);
        const old = from !== undefined ? next[from] : undefined;
        const count = old && !old.alive ? old.count : 0;
        if (old && !old.alive) rev.renamedFrom = from!;
        next[c.name] = { alive: true, count: count + 1 };
        rev.number = count + 1;
      }
      revisions.push(rev);
    }
  }
  return { state: next, revisions };
}

function base(commit: CommitInfo, environment: string, entry: EnvironmentEntry): Revision {
  return {
    environment, number: 0, commit: commit.oid, subject: commit.subject,
    author: commit.author, email: commit.email, time: commit.time, entry,
  };
}

/**
 * An environment's revisions in order, following `renamedFrom` back through
 * earlier names (their revisions keep their own environment field).
 */
export function lineage(all: Revision[], name: string): Revision[] {
  const own = all.filter((r) => r.environment === name);
  const first = own[0];
  if (first?.renamedFrom === undefined) return own;
  // The old name's revisions below the first new number are those before the rename.
  const before = lineage(all, first.renamedFrom).filter((r) => r.number < first.number);
  return [...before, ...own];
}
