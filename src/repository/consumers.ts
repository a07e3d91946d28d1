/**
 * The facts the rules for projects, models and data sets need from outside
 * (the compared branch's environments and consumers' choices, the latest
 * revision numbers), gathered only when some consumer needs them.
 */
import type { ComparedBranch, ConsumerCheckContext, EnvironmentFacts } from '../check/consumers.js';
import { entriesAt, openObjects, resolveBranch, resolveCommit, ShallowHistoryError } from '../git/history.js';
import { consumerChoicesAt } from '../git/consumers.js';
import type { LoadedConsumer } from '../load/consumers.js';
import { isArchived, rawEnvironmentChoice, rawRenamedFrom } from '../check/raw.js';
import { FOLDER_SPEC, type LoadedEnvironment } from '../load/environments.js';
import type { Config } from '../model/config.js';
import { notFound } from '../model/errors.js';
import { updateRevisions } from '../store/revision-index.js';

/** Each environment's facts the consumer rules need, read defensively from the loaded YAML. */
export function environmentFacts(loaded: LoadedEnvironment[]): Map<string, EnvironmentFacts> {
  const out = new Map<string, EnvironmentFacts>();
  for (const e of loaded) {
    const facts: EnvironmentFacts = { archived: isArchived(e) };
    const renamedFrom = rawRenamedFrom(e);
    if (renamedFrom !== undefined) facts.renamedFrom = renamedFrom;
    out.set(e.name, facts);
  }
  return out;
}

export interface ConsumerContextOptions {
  /** The compared branch as the user named it; default HEAD. */
  against?: string;
}

/**
 * What checkConsumers needs from git. The compared branch is read only when
 * some consumer names an environment the work tree lacks (was it deleted
 * here?) or an archived one (did it choose it before?); the revision index
 * is brought up to date only when some consumer pins a revision number.
 */
export async function consumerContext(
  repo: { root: string; config: Config; loaded: LoadedEnvironment[]; consumers: LoadedConsumer[] },
  opts: ConsumerContextOptions = {},
): Promise<ConsumerCheckContext> {
  const environments = environmentFacts(repo.loaded);
  const choices = repo.consumers.map((c) => ({ c, choice: rawEnvironmentChoice(c.data) }));
  const missing = new Set<string>();
  const onArchived: LoadedConsumer[] = [];
  let pins = false;
  for (const { c, choice } of choices) {
    if (!choice) continue;
    const env = environments.get(choice.name);
    if (!env) missing.add(choice.name);
    else if (env.archived) onArchived.push(c);
    if (typeof choice.revision === 'number') pins = true;
  }
  const ctx: ConsumerCheckContext = { environments };
  const against = opts.against ?? 'HEAD';
  const [compared, latest] = await Promise.all([
    missing.size > 0 || onArchived.length > 0 ? comparedBranch(repo.root, repo.config, against, missing, onArchived) : undefined,
    pins ? latestRevisions(repo.root, repo.config, opts.against).catch((err: unknown) => {
      if (!(err instanceof ShallowHistoryError)) throw err;
      ctx.revisionsUnknown = 'this clone is shallow, so revisions cannot be numbered (fetch-depth: 0 in actions/checkout)';
      return undefined;
    }) : undefined,
  ]);
  if (compared) ctx.compared = compared;
  if (latest) {
    ctx.latestRevisions = latest.numbers;
    ctx.revisionsBranch = latest.branch;
  }
  return ctx;
}

async function comparedBranch(root: string, config: Config, ref: string, missing: Set<string>, onArchived: LoadedConsumer[]): Promise<ComparedBranch | undefined> {
  const commit = await resolveCommit(root, ref);
  if (!commit) {
    if (ref === 'HEAD') return undefined; // no commits yet: every choice is new
    throw notFound('ref-unknown', 'no such branch, tag or commit', { data: { option: 'against', value: ref } });
  }
  const store = openObjects(root);
  try {
    const environments = new Map<string, { file: string }>();
    const dir = config.environmentsDir;
    if (missing.size > 0) {
      for (const [name, entry] of entriesAt({ dir: root, folder: dir }, commit, missing, store)) {
        environments.set(name, { file: entry.form === 'folder' ? `${dir}/${name}/${FOLDER_SPEC}` : `${dir}/${name}.yaml` });
      }
    }
    const choices = consumerChoicesAt(store, commit, onArchived);
    return { label: ref, environments, choices };
  } finally {
    store.close();
  }
}

/**
 * The latest revision number of every environment, numbered on the branch a
 * change merges into: `against` when given (a pull request's target), else
 * envctl.yaml's branch, else HEAD (a clone without the main branch).
 * Undefined when there is no history to number.
 */
export async function latestRevisions(root: string, config: Config, against?: string): Promise<{ numbers: Map<string, number>; branch: string } | undefined> {
  let branch = against ?? config.branch;
  if ((await resolveBranch(root, branch)) === undefined) {
    if (against === undefined) branch = 'HEAD';
    else {
      // An abbreviated commit id: number along its history.
      const commit = await resolveCommit(root, against);
      if (commit === undefined) throw notFound('ref-unknown', 'no such branch, tag or commit', { data: { option: 'against', value: against } });
      branch = commit;
    }
  }
  const log = await updateRevisions(root, config, branch);
  if (log.head === undefined) return undefined;
  const numbers = new Map<string, number>();
  for (const r of await log.read()) numbers.set(r.environment, Math.max(numbers.get(r.environment) ?? 0, r.number));
  return { numbers, branch: against ?? branch };
}
