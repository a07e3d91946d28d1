/**
 * Who uses an environment: the projects, models and data sets of the work
 * tree that name it, and on which revision (a pinned number, or the active
 * revision resolved through the ledger). The product's Projects, Data Sets
 * and Models tabs: whom to ask before changing or archiving it.
 */
import { readLedger } from '../git/ledger.js';
import { CONSUMER_KINDS } from '../load/consumers.js';
import { isArchived, rawEnvironmentChoice, rawOwner } from '../check/raw.js';
import { activeRevision } from '../ledger/model.js';
import { notFound } from '../model/errors.js';
import type { ConsumerKind } from '../model/project.js';
import type { Repository } from './index.js';
import { updateRevisions } from '../store/revision-index.js';

export interface EnvironmentUser {
  kind: ConsumerKind;
  name: string;
  /** The spec file, relative to the repository root. */
  file: string;
  /** Undefined when the spec names none (it does not pass the schema). */
  owner?: string;
  /** As the consumer asks: a pinned number, or `active`. */
  revision: number | 'active';
  /** The revision it gets: the pinned number, or the active one (null: nothing built yet). */
  resolved: number | null;
}

export interface EnvironmentUsage {
  environment: string;
  /** Whether it is in the work tree (false: only in history, deleted since). */
  exists: boolean;
  archived: boolean;
  /** The latest revision on the main branch; null when it has none yet. */
  latest: number | null;
  /** The active revision from the ledger; null when no build has succeeded. */
  active: number | null;
  /** Projects first, then models, then data sets; by name within each. */
  users: EnvironmentUser[];
}

export async function environmentUsage(repo: Repository, name: string): Promise<EnvironmentUsage> {
  const { loaded, consumers } = await repo.sources();
  const here = loaded.find((e) => e.name === name);
  const [log, state] = await Promise.all([updateRevisions(repo.root, repo.config), readLedger(repo.root, repo.config.stateBranch)]);
  const revisions = log.head === undefined ? [] : await log.read(name);
  if (!here && revisions.length === 0) {
    const known = loaded.map((e) => e.name).filter((n) => n.includes(name) || name.includes(n)).slice(0, 3);
    throw notFound('environment-unknown', `no environment "${name}" in ${repo.config.environmentsDir}/ or its history${known.length ? `; did you mean ${known.map((n) => `"${n}"`).join(' or ')}?` : ''}`, { data: { name } });
  }
  const ledger = state.ledger.get(name);
  const active = ledger ? activeRevision(ledger.builds) : null;
  const users: EnvironmentUser[] = [];
  for (const c of consumers) {
    const choice = rawEnvironmentChoice(c.data);
    if (choice?.name !== name) continue;
    const owner = rawOwner(c);
    users.push({
      kind: c.kind,
      name: c.name,
      file: c.file,
      ...(owner !== undefined ? { owner } : {}),
      revision: choice.revision,
      resolved: choice.revision === 'active' ? active : choice.revision,
    });
  }
  const order = (u: EnvironmentUser) => CONSUMER_KINDS.indexOf(u.kind);
  users.sort((a, b) => order(a) - order(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    environment: name,
    exists: here !== undefined,
    archived: here !== undefined && isArchived(here),
    latest: revisions.length ? Math.max(...revisions.map((r) => r.number)) : null,
    active,
    users,
  };
}
