/**
 * One pass over a branch's first-parent history: which environments each
 * commit changed. A commit whose environments folder has the same tree id
 * as its parent's is skipped after two object reads; only the folder's
 * entries whose ids changed are looked at. Refs are resolved with
 * isomorphic-git; objects are read by objects.ts (see there for why).
 */
import fs, { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import git from 'isomorphic-git';
import { FOLDER_SPEC, NAME_PATTERN } from '../load/environments.js';
import { EnvctlError } from '../model/errors.js';
import type { CommitInfo, EnvironmentChange, EnvironmentEntry, HistoryStep } from '../model/history.js';
import { ObjectStore, parseCommit, parseTree } from './objects.js';

export type { CommitInfo, EnvironmentChange, EnvironmentEntry, HistoryStep } from '../model/history.js';

/** Where a walk stopped, so the next one can start there. */
export interface WalkEnd {
  head: string;
  /** Tree id of the environments folder at head, or null when it has none. */
  folderTree: string | null;
  entries: Record<string, EnvironmentEntry>;
  /** Ids of the folder's `<name>.yaml` files and `<name>/` folders at head, by path (folders end in "/"). */
  paths: Record<string, string>;
}

/** Revisions cannot be numbered in a shallow clone (input, code `history-shallow`). */
export class ShallowHistoryError extends EnvctlError {
  constructor() {
    super('input', 'history-shallow', 'this clone is shallow, so revision numbers would be wrong: fetch the full history', {
      hint: 'git fetch --unshallow, or fetch-depth: 0 in actions/checkout',
    });
  }
}

export interface HistorySource {
  /** Repository root, holding `.git`. */
  dir: string;
  /** The environments folder, e.g. `environments`. */
  folder: string;
}

/**
 * The folder holding objects and `shallow`: `.git`, or for a linked worktree
 * (where `.git` is a file naming its gitdir) the main repository's, which
 * the worktree's `commondir` file names.
 */
export function gitdirOf(dir: string): string {
  // A bare repository is its own git folder.
  if (!existsSync(join(dir, '.git')) && existsSync(join(dir, 'objects')) && existsSync(join(dir, 'HEAD'))) return dir;
  const gitdir = ownGitdir(dir);
  const common = join(gitdir, 'commondir');
  return existsSync(common) ? resolve(gitdir, readFileSync(common, 'utf8').trim()) : gitdir;
}

/** The work tree's own git folder (where its index is): `.git`, or where a linked worktree's `.git` file points. */
export function ownGitdir(dir: string): string {
  const dotgit = join(dir, '.git');
  try {
    const m = /^gitdir: (.+)$/m.exec(readFileSync(dotgit, 'utf8'));
    if (m) return resolve(dir, m[1]!.trim());
  } catch {
    // a folder: the usual case
  }
  return dotgit;
}

/** A shallow clone lists its cut-off commits in `.git/shallow`. */
export function isShallow(dir: string): boolean {
  const file = join(gitdirOf(dir), 'shallow');
  return existsSync(file) && readFileSync(file, 'utf8').trim() !== '';
}

export async function resolveBranch(dir: string, ref: string): Promise<string | undefined> {
  try {
    // Branches live in the common git folder, also for a linked worktree.
    return await git.resolveRef({ fs, gitdir: gitdirOf(dir), ref });
  } catch {
    return undefined;
  }
}

/**
 * A commit named the way users name one: HEAD (this worktree's), a branch,
 * a remote branch, a tag (annotated ones peeled) or a full or abbreviated
 * commit id. Undefined when it names nothing.
 */
export async function resolveCommit(dir: string, ref: string): Promise<string | undefined> {
  const common = gitdirOf(dir);
  let oid: string | undefined;
  if (ref === 'HEAD') {
    // A linked worktree has its own HEAD, beside its own gitdir.
    const own = readOwnHead(dir);
    oid = own && /^[0-9a-f]{40}$/.test(own) ? own : await resolveBranch(dir, own ?? 'HEAD');
  } else {
    oid = await resolveBranch(dir, ref);
    if (oid === undefined && /^[0-9a-f]{4,40}$/.test(ref)) oid = await git.expandOid({ fs, gitdir: common, oid: ref }).catch(() => undefined);
  }
  if (oid === undefined) return undefined;
  const store = new ObjectStore(common);
  try {
    for (let i = 0; i < 10; i++) {
      const obj = store.read(oid);
      if (obj.type === 'commit') return oid;
      if (obj.type !== 'tag') return undefined;
      oid = /^object ([0-9a-f]{40})$/m.exec(obj.data.toString('utf8'))?.[1];
      if (oid === undefined) return undefined;
    }
    return undefined;
  } finally {
    store.close();
  }
}

/** `ref: refs/heads/x` or a commit id, from the worktree's own HEAD file. */
function readOwnHead(dir: string): string | undefined {
  try {
    const head = readFileSync(join(ownGitdir(dir), 'HEAD'), 'utf8').trim();
    return head.startsWith('ref: ') ? head.slice(5) : head;
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
  const store = new ObjectStore(gitdirOf(src.dir));
  try {
    return walk(store, src, head, since);
  } finally {
    store.close();
  }
}

function walk(store: ObjectStore, src: HistorySource, head: string, since?: WalkEnd): { steps: HistoryStep[]; end: WalkEnd } | undefined {
  const chain: CommitInfo[] = [];
  let found = since === undefined;
  for (let oid: string | undefined = head; oid !== undefined; ) {
    if (since && oid === since.head) {
      found = true;
      break;
    }
    const commit = parseCommit(store.read(oid).data);
    chain.push({
      oid,
      subject: commit.message.split('\n', 1)[0]!.trim(),
      author: commit.author.name,
      email: commit.author.email,
      time: commit.author.timestamp,
      parents: commit.parents,
      tree: commit.tree,
    });
    oid = commit.parents[0];
  }
  if (!found) return undefined;
  chain.reverse();

  const readTree = (oid: string) => parseTree(store.read(oid).data);
  const folderTreeAt = (root: string): string | null => {
    let tree = root;
    for (const part of src.folder.split('/')) {
      const entry = readTree(tree).find((e) => e.path === part && e.type === 'tree');
      if (!entry) return null;
      tree = entry.oid;
    }
    return tree;
  };

  let folderTree = since?.folderTree ?? null;
  // Continuing a walk, the previous folder tree is known by its paths; reading it again could
  // mean resolving a long delta chain, so the first diff compares against the paths instead.
  let raw: Buffer | undefined = folderTree === null ? EMPTY : undefined;
  const entries: Record<string, EnvironmentEntry> = { ...(since?.entries ?? {}) };
  const paths: Record<string, string> = { ...(since?.paths ?? {}) };
  const holdsSpec = new Map<string, boolean>();
  const isEnvironmentFolder = (oid: string) => {
    let yes = holdsSpec.get(oid);
    if (yes === undefined) {
      yes = readTree(oid).some((f) => f.path === FOLDER_SPEC && f.type === 'blob');
      holdsSpec.set(oid, yes);
    }
    return yes;
  };
  const steps: HistoryStep[] = [];
  for (const commit of chain) {
    const tree = folderTreeAt(commit.tree);
    if (tree === folderTree) continue;
    const next = tree === null ? EMPTY : store.read(tree).data;
    // Only names whose entries differ between the two folder trees can have changed.
    const touched = new Set<string>();
    for (const c of raw === undefined ? changedFromPaths(paths, next) : changedEntries(raw, next)) {
      const name = c.tree ? c.path : c.path.endsWith('.yaml') ? c.path.slice(0, -'.yaml'.length) : undefined;
      if (name === undefined || !NAME_PATTERN.test(name)) continue;
      const key = c.tree ? `${name}/` : c.path;
      if (c.oid === null) delete paths[key];
      else paths[key] = c.oid;
      touched.add(name);
    }
    const changes: EnvironmentChange[] = [];
    for (const name of [...touched].sort()) {
      const before = entries[name];
      // A folder holding environment.yaml wins over name.yaml, as in the work tree's loader.
      const folder = paths[`${name}/`];
      const file = paths[`${name}.yaml`];
      const after: EnvironmentEntry | undefined =
        folder !== undefined && isEnvironmentFolder(folder) ? { oid: folder, form: 'folder' } : file !== undefined ? { oid: file, form: 'file' } : undefined;
      if (before?.oid === after?.oid && before?.form === after?.form) continue;
      if (after) entries[name] = after;
      else delete entries[name];
      changes.push(before === undefined ? { name, entry: after ?? null, added: true } : { name, entry: after ?? null });
    }
    if (changes.length > 0) steps.push({ commit, changes });
    folderTree = tree;
    raw = next;
  }
  return { steps, end: { head, folderTree, entries, paths } };
}

const EMPTY = Buffer.alloc(0);

/** Like changedEntries, against the `paths` of a walk's end rather than a raw tree. */
function changedFromPaths(paths: Record<string, string>, next: Buffer): ChangedEntry[] {
  const out: ChangedEntry[] = [];
  const seen = new Set<string>();
  for (const e of parseTree(next)) {
    const tree = e.type === 'tree';
    if (!tree && !e.path.endsWith('.yaml')) continue;
    const key = tree ? `${e.path}/` : e.path;
    seen.add(key);
    if (paths[key] !== e.oid) out.push({ path: e.path, oid: e.oid, tree });
  }
  for (const key of Object.keys(paths)) {
    if (!seen.has(key)) out.push({ path: key.replace(/\/$/, ''), oid: null, tree: key.endsWith('/') });
  }
  return out;
}

export interface ChangedEntry {
  path: string;
  /** The id on the new side; null when the entry is gone. */
  oid: string | null;
  tree: boolean;
}

/**
 * Entries that differ (mode or id) between two raw tree objects. Both are
 * sorted by git's rules, so one merge pass compares them byte for byte and
 * makes strings only for what changed; long identical stretches at the same
 * relative position are skipped with a few bulk comparisons.
 */
export function changedEntries(a: Buffer, b: Buffer): ChangedEntry[] {
  const out: ChangedEntry[] = [];
  let i = 0;
  let j = 0;
  const entryAt = (buf: Buffer, at: number) => {
    const space = buf.indexOf(0x20, at);
    const nul = buf.indexOf(0, space);
    return { at, space, nul, end: nul + 21, tree: space - at === 5 && buf[at] === 0x34 /* "40000" */ };
  };
  const emit = (buf: Buffer, e: { space: number; nul: number; tree: boolean }, gone: boolean) =>
    out.push({ path: buf.toString('utf8', e.space + 1, e.nul), oid: gone ? null : buf.toString('hex', e.nul + 1, e.nul + 21), tree: e.tree });
  while (i < a.length || j < b.length) {
    // Skip the longest identical stretch (a binary search over prefix lengths), then realign on an entry start.
    const same = commonPrefix(a, i, b, j);
    if (same > 0) {
      let k = i;
      while (k < a.length) {
        const e = entryAt(a, k);
        if (e.end > i + same) break;
        k = e.end;
      }
      j += k - i;
      i = k;
    }
    const ea = i < a.length ? entryAt(a, i) : undefined;
    const eb = j < b.length ? entryAt(b, j) : undefined;
    if (!ea && !eb) break;
    const order = !ea ? 1 : !eb ? -1 : compareNames(a, ea.space + 1, ea.nul, ea.tree, b, eb.space + 1, eb.nul, eb.tree);
    if (order === 0) {
      if (a.compare(b, j, eb!.end, i, ea!.end) !== 0) {
        if (ea!.tree !== eb!.tree) emit(a, ea!, true);
        emit(b, eb!, false);
      }
      i = ea!.end;
      j = eb!.end;
    } else if (order < 0) {
      emit(a, ea!, true);
      i = ea!.end;
    } else {
      emit(b, eb!, false);
      j = eb!.end;
    }
  }
  return out;
}

/** Length of the longest common prefix of a[i..] and b[j..]. */
function commonPrefix(a: Buffer, i: number, b: Buffer, j: number): number {
  let lo = 0;
  let hi = Math.min(a.length - i, b.length - j);
  if (hi === 0 || a[i] !== b[j]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (a.compare(b, j, j + mid, i, i + mid) === 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** git's tree order: names compared as bytes, a folder's name as if it ended in "/". */
function compareNames(a: Buffer, as: number, ae: number, aTree: boolean, b: Buffer, bs: number, be: number, bTree: boolean): number {
  const n = Math.min(ae - as, be - bs);
  const c = a.compare(b, bs, bs + n, as, as + n);
  if (c !== 0) return c;
  const ca = ae - as > n ? a[as + n]! : aTree ? 0x2f : 0;
  const cb = be - bs > n ? b[bs + n]! : bTree ? 0x2f : 0;
  return ca - cb;
}

/** The environment's files at an entry, paths relative to the repository root. */
export async function readEntryFiles(
  src: HistorySource,
  name: string,
  entry: EnvironmentEntry,
  opts: { specOnly?: boolean; store?: ObjectStore } = {},
): Promise<{ path: string; bytes: Uint8Array; executable: boolean }[]> {
  const store = opts.store ?? openObjects(src.dir);
  try {
    if (entry.form === 'file') {
      return [{ path: `${src.folder}/${name}.yaml`, bytes: store.read(entry.oid).data, executable: false }];
    }
    const files: { path: string; bytes: Uint8Array; executable: boolean }[] = [];
    const walkTree = (oid: string, prefix: string): void => {
      for (const e of parseTree(store.read(oid).data)) {
        const path = `${prefix}/${e.path}`;
        if (opts.specOnly && !(prefix === `${src.folder}/${name}` && e.path === FOLDER_SPEC)) continue;
        if (e.type === 'tree') walkTree(e.oid, path);
        else if (e.type === 'blob' && e.mode !== '120000') files.push({ path, bytes: store.read(e.oid).data, executable: e.mode === '100755' });
      }
    };
    walkTree(entry.oid, `${src.folder}/${name}`);
    return files;
  } finally {
    if (!opts.store) store.close();
  }
}

/** An object reader for several readEntryFiles calls; close it when done. */
export function openObjects(dir: string): ObjectStore {
  return new ObjectStore(gitdirOf(dir));
}

/** The entries of the named environments at a commit (absent names are left out); every environment when names is omitted. */
export function entriesAt(src: HistorySource, commit: string, names: Set<string> | undefined, store: ObjectStore): Map<string, EnvironmentEntry> {
  const out = new Map<string, EnvironmentEntry>();
  let tree = parseCommit(store.read(commit).data).tree;
  for (const part of src.folder.split('/')) {
    const next = parseTree(store.read(tree).data, (p) => p === part).find((e) => e.type === 'tree');
    if (!next) return out;
    tree = next.oid;
  }
  const wanted = (p: string) => !names || names.has(p) || (p.endsWith('.yaml') && names.has(p.slice(0, -'.yaml'.length)));
  const items = parseTree(store.read(tree).data, wanted);
  const all = names ?? new Set(items.map((e) => (e.type === 'tree' ? e.path : e.path.replace(/\.yaml$/, ''))));
  for (const name of all) {
    const folder = items.find((e) => e.type === 'tree' && e.path === name);
    const file = items.find((e) => e.type === 'blob' && e.path === `${name}.yaml`);
    if (folder && parseTree(store.read(folder.oid).data, (p) => p === FOLDER_SPEC).length > 0) out.set(name, { oid: folder.oid, form: 'folder' });
    else if (file) out.set(name, { oid: file.oid, form: 'file' });
  }
  return out;
}
