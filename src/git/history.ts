/**
 * One pass over a branch's first-parent history with isomorphic-git: which
 * environments each commit changed. A commit whose environments folder has
 * the same tree id as its parent's is skipped after two object reads; only
 * the folder's entries whose ids changed are looked at.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { FOLDER_SPEC, NAME_PATTERN } from '../load/environments.js';
import { readOnlyGitFs } from './fs.js';

export interface CommitInfo {
  oid: string;
  subject: string;
  author: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
  /** Parent ids (more than one for a merge; only the first counts). */
  parents: string[];
  /** The commit's root tree. */
  tree: string;
}

/** An environment's files at a commit: the YAML blob (file form) or the folder's tree. */
export interface EnvironmentEntry {
  oid: string;
  form: 'file' | 'folder';
}

export interface EnvironmentChange {
  name: string;
  /** Its entry after the commit; null when the commit deleted it. */
  entry: EnvironmentEntry | null;
  /** The environment was not there before this commit. */
  added?: true;
}

export interface HistoryStep {
  commit: CommitInfo;
  changes: EnvironmentChange[];
}

/** Where a walk stopped, so the next one can start there. */
export interface WalkEnd {
  head: string;
  /** Tree id of the environments folder at head, or null when it has none. */
  folderTree: string | null;
  entries: Record<string, EnvironmentEntry>;
}

export class ShallowHistoryError extends Error {
  constructor() {
    super('this clone is shallow, so revision numbers would be wrong: fetch the full history (git fetch --unshallow, or fetch-depth: 0 in actions/checkout)');
  }
}

export interface HistorySource {
  /** Repository root, holding `.git`. */
  dir: string;
  /** The environments folder, e.g. `environments`. */
  folder: string;
}

function gitdirOf(dir: string): string {
  return join(dir, '.git');
}

/** A shallow clone lists its cut-off commits in `.git/shallow`. */
export function isShallow(dir: string): boolean {
  const file = join(gitdirOf(dir), 'shallow');
  return existsSync(file) && readFileSync(file, 'utf8').trim() !== '';
}

export async function resolveBranch(dir: string, ref: string): Promise<string | undefined> {
  const gitdir = gitdirOf(dir);
  try {
    return await git.resolveRef({ fs: readOnlyGitFs(gitdir), gitdir, ref });
  } catch {
    return undefined;
  }
}

/**
 * The first-parent commits after `since` (exclusive) up to `head`, oldest
 * first, with the environments each changed, starting from `start` (the
 * state at `since`). `since` not on the chain: undefined (history rewritten).
 */
export async function walkHistory(
  src: HistorySource,
  head: string,
  since?: WalkEnd,
): Promise<{ steps: HistoryStep[]; end: WalkEnd } | undefined> {
  if (isShallow(src.dir)) throw new ShallowHistoryError();
  const gitdir = gitdirOf(src.dir);
  const fs = readOnlyGitFs(gitdir);
  const cache = {};

  const chain: CommitInfo[] = [];
  let found = since === undefined;
  for (let oid: string | undefined = head; oid !== undefined; ) {
    if (since && oid === since.head) {
      found = true;
      break;
    }
    const { commit } = await git.readCommit({ fs, gitdir, oid, cache });
    chain.push({
      oid,
      subject: commit.message.split('\n', 1)[0]!.trim(),
      author: commit.author.name,
      email: commit.author.email,
      time: commit.author.timestamp,
      parents: commit.parent,
      tree: commit.tree,
    });
    oid = commit.parent[0];
  }
  if (!found) return undefined;
  chain.reverse();

  const readTree = async (oid: string) => (await git.readTree({ fs, gitdir, oid, cache })).tree;
  const folderTreeAt = async (root: string): Promise<string | null> => {
    let tree = root;
    for (const part of src.folder.split('/')) {
      const entry = (await readTree(tree)).find((e) => e.path === part && e.type === 'tree');
      if (!entry) return null;
      tree = entry.oid;
    }
    return tree;
  };

  let folderTree = since?.folderTree ?? null;
  let entries: Record<string, EnvironmentEntry> = { ...(since?.entries ?? {}) };
  const steps: HistoryStep[] = [];
  for (const commit of chain) {
    const tree = await folderTreeAt(commit.tree);
    if (tree === folderTree) continue;
    const next = tree === null ? {} : await environmentEntries(tree, entries, readTree);
    const changes: EnvironmentChange[] = [];
    for (const name of new Set([...Object.keys(entries), ...Object.keys(next)])) {
      const before = entries[name];
      const after = next[name];
      if (before?.oid === after?.oid && before?.form === after?.form) continue;
      changes.push(before === undefined ? { name, entry: after ?? null, added: true } : { name, entry: after ?? null });
    }
    changes.sort((a, b) => (a.name < b.name ? -1 : 1));
    if (changes.length > 0) steps.push({ commit, changes });
    folderTree = tree;
    entries = next;
  }
  return { steps, end: { head, folderTree, entries } };
}

/**
 * The environments in a folder tree. Entries whose id did not change keep
 * their previous reading, so only changed subtrees are opened.
 */
async function environmentEntries(
  tree: string,
  previous: Record<string, EnvironmentEntry>,
  readTree: (oid: string) => Promise<{ path: string; type: string; oid: string }[]>,
): Promise<Record<string, EnvironmentEntry>> {
  const out: Record<string, EnvironmentEntry> = {};
  const items = await readTree(tree);
  const folders = new Set(items.filter((e) => e.type === 'tree').map((e) => e.path));
  for (const e of items) {
    if (e.type === 'blob' && e.path.endsWith('.yaml')) {
      const name = e.path.slice(0, -'.yaml'.length);
      // A folder of the same name wins, as it does for the work tree's loader.
      if (NAME_PATTERN.test(name) && !folders.has(name)) out[name] = { oid: e.oid, form: 'file' };
    } else if (e.type === 'tree' && NAME_PATTERN.test(e.path)) {
      const prev = previous[e.path];
      if (prev?.form === 'folder' && prev.oid === e.oid) {
        out[e.path] = prev;
        continue;
      }
      const inside = await readTree(e.oid);
      if (inside.some((f) => f.path === FOLDER_SPEC && f.type === 'blob')) out[e.path] = { oid: e.oid, form: 'folder' };
    }
  }
  return out;
}

/** The environment's files at an entry, paths relative to the repository root. */
export async function readEntryFiles(
  src: HistorySource,
  name: string,
  entry: EnvironmentEntry,
  opts: { specOnly?: boolean } = {},
): Promise<{ path: string; bytes: Uint8Array; executable: boolean }[]> {
  const gitdir = gitdirOf(src.dir);
  const fs = readOnlyGitFs(gitdir);
  const cache = {};
  if (entry.form === 'file') {
    const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid, cache });
    return [{ path: `${src.folder}/${name}.yaml`, bytes: blob, executable: false }];
  }
  const files: { path: string; bytes: Uint8Array; executable: boolean }[] = [];
  const walk = async (oid: string, prefix: string): Promise<void> => {
    for (const e of (await git.readTree({ fs, gitdir, oid, cache })).tree) {
      const path = `${prefix}/${e.path}`;
      if (opts.specOnly && !(prefix === `${src.folder}/${name}` && e.path === FOLDER_SPEC)) continue;
      if (e.type === 'tree') await walk(e.oid, path);
      else if (e.type === 'blob' && e.mode !== '120000') {
        files.push({ path, bytes: (await git.readBlob({ fs, gitdir, oid: e.oid, cache })).blob, executable: e.mode === '100755' });
      }
    }
  };
  await walk(entry.oid, `${src.folder}/${name}`);
  return files;
}
