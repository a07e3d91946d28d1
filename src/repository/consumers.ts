/**
 * Projects, models and data sets on disk and in git: the work tree's
 * consumer folders read into a ConsumerTree, and the facts their rules need
 * from outside (the compared branch's environments and consumers' choices,
 * the latest revision numbers), gathered only when some consumer needs them.
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { ComparedBranch, ConsumerCheckContext, EnvironmentFacts } from '../check/consumers.js';
import { entriesAt, openObjects, resolveBranch, resolveCommit, ShallowHistoryError } from '../git/history.js';
import { parseCommit, parseTree, type ObjectStore, type TreeItem } from '../git/objects.js';
import {
  CONSUMER_KINDS, consumerKey, rawEnvironmentChoice, REQUIREMENTS_FILE,
  type ConsumerTree, type EnvironmentChoice, type LoadedConsumer,
} from '../load/consumers.js';
import { FOLDER_SPEC, type LoadedEnvironment } from '../load/environments.js';
import { decodeSpec } from '../load/text.js';
import { parseYaml } from '../load/yaml.js';
import type { Config } from '../model/config.js';
import { UsageError } from '../model/errors.js';
import { problem, type Problem } from '../model/problem.js';
import { CONSUMER_DIRS, CONSUMER_SPEC, type ConsumerKind } from '../model/project.js';
import type { SourceFile } from '../model/tree.js';
import { updateRevisions } from './revisions.js';

/**
 * The consumer folders of a work tree. Only what loading needs is read: the
 * top-level `<name>.yaml` files, and in each consumer folder its spec and
 * requirements.txt (a project folder may hold much else: code, data).
 * Symbolic links are followed while they stay inside their kind's folder,
 * as in the environments folder.
 */
export async function readConsumerTree(root: string): Promise<ConsumerTree> {
  const files: SourceFile[] = [];
  const folders: string[] = [];
  const problems: Problem[] = [];
  for (const kind of CONSUMER_KINDS) {
    const dir = CONSUMER_DIRS[kind];
    let realTop: string;
    try {
      realTop = await realpath(join(root, dir));
    } catch {
      continue; // no such folder: no consumers of this kind
    }
    const inside = (real: string) => real === realTop || real.startsWith(realTop + sep);
    /** The file or folder at `abs` with links followed, or undefined (with a problem when a link is bad). */
    const target = async (abs: string, rel: string) => {
      let real: string;
      try {
        real = await realpath(abs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && (await isLink(abs))) {
          problems.push(problem({ file: rel, line: 1, col: 1 }, 'error', 'symlink-broken', 'symbolic link points nowhere'));
        }
        return undefined;
      }
      if (!inside(real)) {
        problems.push(problem({ file: rel, line: 1, col: 1 }, 'error', 'symlink-escape',
          `symbolic link leads out of ${dir}/ (to ${real}); copy the file in instead`));
        return undefined;
      }
      return stat(abs);
    };
    const entries = await readdir(join(root, dir), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const abs = join(root, dir, entry.name);
      const rel = `${dir}/${entry.name}`;
      if (!entry.isSymbolicLink() && !entry.isFile() && !entry.isDirectory()) continue;
      if (!entry.isDirectory() && !/\.ya?ml$/.test(entry.name) && !entry.isSymbolicLink()) continue;
      const st = await target(abs, rel);
      if (st?.isFile()) {
        if (/\.ya?ml$/.test(entry.name)) files.push({ path: rel, bytes: await readFile(abs), executable: (st.mode & 0o111) !== 0 });
        continue;
      }
      if (!st?.isDirectory()) continue;
      folders.push(rel);
      for (const inner of [CONSUMER_SPEC[kind], REQUIREMENTS_FILE]) {
        const innerAbs = join(abs, inner);
        const innerSt = await target(innerAbs, `${rel}/${inner}`);
        if (innerSt?.isFile()) files.push({ path: `${rel}/${inner}`, bytes: await readFile(innerAbs), executable: (innerSt.mode & 0o111) !== 0 });
      }
    }
  }
  return { files, folders, problems };
}

async function isLink(abs: string): Promise<boolean> {
  return lstat(abs).then((s) => s.isSymbolicLink(), () => false);
}

/** Each environment's facts the consumer rules need, read defensively from the loaded YAML. */
export function environmentFacts(loaded: LoadedEnvironment[]): Map<string, EnvironmentFacts> {
  const out = new Map<string, EnvironmentFacts>();
  for (const e of loaded) {
    const data = (e.data ?? {}) as { archived?: unknown; renamedFrom?: unknown };
    const facts: EnvironmentFacts = { archived: data.archived === true };
    if (typeof data.renamedFrom === 'string') facts.renamedFrom = data.renamedFrom;
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
    throw new UsageError(`--against ${ref}: no such branch, tag or commit`);
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
 * The environment choice each named consumer had at a commit (by
 * consumerKey); consumers absent there, or unreadable, are left out.
 */
export function consumerChoicesAt(store: ObjectStore, commit: string, wanted: { kind: ConsumerKind; name: string }[]): Map<string, EnvironmentChoice> {
  const out = new Map<string, EnvironmentChoice>();
  if (wanted.length === 0) return out;
  const root = parseCommit(store.read(commit).data).tree;
  for (const kind of CONSUMER_KINDS) {
    const names = new Set(wanted.filter((w) => w.kind === kind).map((w) => w.name));
    if (names.size === 0) continue;
    const dir = CONSUMER_DIRS[kind];
    const items = treeAt(store, root, dir, (p) => names.has(p) || (p.endsWith('.yaml') && names.has(p.slice(0, -'.yaml'.length))));
    if (!items) continue;
    for (const name of names) {
      // A folder holding the spec wins over <name>.yaml, as in the history of environments.
      const folder = items.find((e) => e.type === 'tree' && e.path === name);
      const inFolder = folder && parseTree(store.read(folder.oid).data, (p) => p === CONSUMER_SPEC[kind]).find((e) => e.type === 'blob' && e.mode !== '120000');
      const file = items.find((e) => e.type === 'blob' && e.mode !== '120000' && e.path === `${name}.yaml`);
      const blob = inFolder ?? file;
      if (!blob) continue;
      const path = inFolder ? `${dir}/${name}/${CONSUMER_SPEC[kind]}` : `${dir}/${name}.yaml`;
      const text = decodeSpec(store.read(blob.oid).data, path).text;
      const choice = text === undefined ? undefined : rawEnvironmentChoice(parseYaml(text, path).value);
      if (choice) out.set(consumerKey(kind, name), choice);
    }
  }
  return out;
}

/** The entries of the folder at `path` under a root tree (filtered by `keep`), or undefined when it is absent. */
function treeAt(store: ObjectStore, rootTree: string, path: string, keep?: (name: string) => boolean): TreeItem[] | undefined {
  let tree = rootTree;
  for (const part of path.split('/')) {
    const next = parseTree(store.read(tree).data, (p) => p === part).find((e) => e.type === 'tree');
    if (!next) return undefined;
    tree = next.oid;
  }
  return parseTree(store.read(tree).data, keep);
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
      if (commit === undefined) throw new UsageError(`--against ${against}: no such branch, tag or commit`);
      branch = commit;
    }
  }
  const log = await updateRevisions(root, config, branch);
  if (log.head === undefined) return undefined;
  const numbers = new Map<string, number>();
  for (const r of await log.read()) numbers.set(r.environment, Math.max(numbers.get(r.environment) ?? 0, r.number));
  return { numbers, branch: against ?? branch };
}
