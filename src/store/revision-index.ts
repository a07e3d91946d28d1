/**
 * The revision index: numbered revisions of every environment up to the
 * branch head, kept under `.envctl/cache/revisions/<branch>/` so the next
 * run reads only new commits.
 *
 * - `index.json`: where the last walk ended (head, folder tree, entries), the
 *   numbering state per environment, and the log's valid length. Its size
 *   grows with the number of environments, not of commits, so updating after
 *   one commit costs the same at 100 or 100,000 commits.
 * - `revisions.jsonl`: one revision per line, appended. Bytes past the
 *   index's length (an interrupted run) are cut off before the next append.
 *
 * A cache from another history (rewritten, force-pushed) is detected by its
 * head not being on the branch's first-parent chain, and rebuilt.
 */
import { mkdir, open, readFile, rm, stat, truncate } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../files/write.js';
import { openObjects, resolveBranch, walkHistory, type EnvironmentEntry, type HistorySource, type HistoryStep, type WalkEnd } from '../git/history.js';
import { specValueAt } from '../git/spec-value.js';
import type { Config } from '../model/config.js';
import type { ObjectStore } from '../git/objects.js';
import { lineage, numberSteps, type NumberingState, type Revision } from '../revisions/number.js';
import { statePaths } from './paths.js';

const VERSION = 1;

interface IndexFile {
  version: number;
  folder: string;
  branch: string;
  end: WalkEnd;
  state: NumberingState;
  /** Valid length of revisions.jsonl in bytes. */
  bytes: number;
}

export interface RevisionLog {
  /** Branch head the index is up to; undefined for a branch with no commits. */
  head: string | undefined;
  /** Revisions added by this update (all of them after a rebuild). */
  added: number;
  rebuilt: boolean;
  /** Each environment's entry at head (deleted ones absent). */
  entries: Record<string, EnvironmentEntry>;
  /** Revisions from the log, oldest first: one environment's, or all. */
  read(environment?: string): Promise<Revision[]>;
}

/** The index's folder (checked: see store/paths.ts). */
export async function cacheDir(root: string, branch: string): Promise<string> {
  return (await statePaths.revisionIndex(root, branch)).dir;
}

/**
 * Updates of one index within one process, one after another. Two at once
 * (plan --base validates, which may number revisions for pinned projects,
 * while it numbers the target itself) would truncate and append the same
 * log, so one could read it cut short, and their temporary files could
 * collide. The second finds the index the first wrote and has nothing to do.
 */
const updating = new Map<string, Promise<unknown>>();

export async function updateRevisions(root: string, config: Config, branch = config.branch): Promise<RevisionLog> {
  const dir = resolve(await cacheDir(root, branch));
  const run = (updating.get(dir) ?? Promise.resolve()).catch(() => undefined).then(() => updateIndex(root, config, branch));
  updating.set(dir, run);
  try {
    return await run;
  } finally {
    if (updating.get(dir) === run) updating.delete(dir);
  }
}

async function updateIndex(root: string, config: Config, branch: string): Promise<RevisionLog> {
  const { dir, index: indexPath, log: logPath } = await statePaths.revisionIndex(root, branch);
  const src: HistorySource = { dir: root, folder: config.environmentsDir };
  const head = await resolveBranch(root, branch);
  if (head === undefined) return { head, added: 0, rebuilt: false, entries: {}, read: async () => [] };

  let index = await readIndex(indexPath, config.environmentsDir, branch);
  // A log shorter than the index says lost revisions: start over rather than number on from a gap.
  if (index && (await stat(logPath).then((s) => s.size, () => -1)) < index.bytes) index = undefined;
  let walk = index && index.end.head !== head ? await walkHistory(src, head, index.end) : undefined;
  let rebuilt = false;
  if (!index || (index.end.head !== head && walk === undefined)) {
    rebuilt = true;
    index = undefined;
    walk = await walkHistory(src, head);
  }

  let added = 0;
  if (walk) {
    const renames = await declaredRenames(src, walk.steps);
    const { state, revisions } = numberSteps(index?.state ?? {}, walk.steps, (name, entry) => renames.get(`${name}\0${entry.oid}`));
    const text = revisions.map((r) => `${JSON.stringify(r)}\n`).join('');
    const start = index?.bytes ?? 0;
    await mkdir(dir, { recursive: true });
    await truncate(logPath, start).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await appendText(logPath, text);
    index = { version: VERSION, folder: config.environmentsDir, branch, end: walk.end, state, bytes: start + Buffer.byteLength(text) };
    await writeFileAtomic(indexPath, JSON.stringify(index));
    added = revisions.length;
  }
  const bytes = index!.bytes;
  const read = async (environment?: string): Promise<Revision[]> => {
    try {
      return await readLog(logPath, bytes, environment);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      // A damaged log line: the cache is only a cache; rebuild it from history.
      await rm(dir, { recursive: true, force: true });
      return (await updateRevisions(root, config, branch)).read(environment);
    }
  };
  return { head, added, rebuilt, entries: index!.end.entries, read };
}

async function readIndex(path: string, folder: string, branch: string): Promise<IndexFile | undefined> {
  try {
    const index = JSON.parse(await readFile(path, 'utf8')) as IndexFile;
    if (index.version !== VERSION || index.folder !== folder || index.branch !== branch) return undefined;
    return index;
  } catch {
    return undefined; // missing or damaged: rebuilt
  }
}

async function readLog(path: string, bytes: number, environment?: string): Promise<Revision[]> {
  const text = (await readFile(path)).subarray(0, bytes).toString('utf8');
  const needle = environment === undefined ? undefined : `"environment":${JSON.stringify(environment)},`;
  const out: Revision[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || (needle !== undefined && !line.includes(needle))) continue;
    out.push(JSON.parse(line) as Revision);
  }
  return out;
}

async function appendText(path: string, text: string): Promise<void> {
  const handle = await open(path, 'a');
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/**
 * `renamedFrom` as declared by environments that appear in these steps: only
 * a new name can continue an old one, so only their YAML is read.
 */
async function declaredRenames(src: HistorySource, steps: HistoryStep[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const store = openObjects(src.dir);
  try {
    await readRenames(src, steps, store, out);
  } finally {
    store.close();
  }
  return out;
}

async function readRenames(src: HistorySource, steps: HistoryStep[], store: ObjectStore, out: Map<string, string>): Promise<void> {
  for (const step of steps) {
    for (const c of step.changes) {
      if (!c.added || c.entry === null) continue;
      const from = (await specValueAt(src, c.name, c.entry, store))?.renamedFrom;
      if (typeof from === 'string') out.set(`${c.name}\0${c.entry.oid}`, from);
    }
  }
}

/** Brings the index up to date and returns one environment's revisions, earlier names included. */
export async function revisionsOf(root: string, config: Config, name: string): Promise<Revision[]> {
  const log = await updateRevisions(root, config);
  const own = await log.read(name);
  const from = own[0]?.renamedFrom;
  if (from === undefined) return own;
  return lineage(await log.read(), name);
}
