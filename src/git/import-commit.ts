/**
 * Commits for `envctl import`, each whole or absent: the files are written
 * as objects onto the branch head's tree, the commit (with the product's
 * author and time) is written, and the branch moves by compare-and-swap
 * (ledger.ts's lock protocol) — only then are the work tree and index made
 * to match, which a killed run may leave undone and the next run finishes
 * (`lagBehind`).
 */
import fs from 'node:fs';
import { chmod, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { pausePoint } from '../files/pause.js';
import { writeFileAtomic } from '../files/write.js';
import { externalError } from '../model/errors.js';
import { gitdirOf, ownGitdir } from './history.js';
import { compareAndSwap } from './ledger.js';
import { ObjectStore, parseCommit } from './objects.js';

export interface FileChange {
  path: string;
  /** null deletes the path. */
  bytes: Uint8Array | null;
  executable?: boolean;
}

export interface FileAt {
  path: string;
  bytes: Uint8Array;
  executable: boolean;
}

export interface CommitAuthor {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  timestamp: number;
}

/** The branch HEAD names, or undefined when HEAD is detached. */
export async function headBranch(dir: string): Promise<string | undefined> {
  return (await git.currentBranch({ fs, gitdir: ownGitdir(dir), fullname: false })) ?? undefined;
}

export async function branchTip(dir: string, branch: string): Promise<string | undefined> {
  return git.resolveRef({ fs, gitdir: gitdirOf(dir), ref: `refs/heads/${branch}` }).catch(() => undefined);
}

/** The messages of the first-parent chain from `tip`, newest first. */
export function firstParentMessages(dir: string, tip: string | undefined): { oid: string; message: string; time: number }[] {
  const out: { oid: string; message: string; time: number }[] = [];
  if (tip === undefined) return out;
  const store = new ObjectStore(gitdirOf(dir));
  try {
    for (let oid: string | undefined = tip; oid !== undefined;) {
      const c = parseCommit(store.read(oid).data);
      out.push({ oid, message: c.message, time: c.author.timestamp });
      oid = c.parents[0];
    }
  } finally {
    store.close();
  }
  return out;
}

/** Files at a commit under any of `prefixes` (a file path or a folder with `/`). */
export async function filesAt(dir: string, commit: string | undefined, prefixes: string[]): Promise<FileAt[]> {
  if (commit === undefined) return [];
  const gitdir = gitdirOf(dir);
  const out: FileAt[] = [];
  const walk = async (tree: string, base: string): Promise<void> => {
    for (const e of (await git.readTree({ fs, gitdir, oid: tree })).tree) {
      const path = base ? `${base}/${e.path}` : e.path;
      const wanted = prefixes.some((p) => (p.endsWith('/') ? path.startsWith(p) || p.startsWith(`${path}/`) : path === p || p.startsWith(`${path}/`)));
      if (!wanted) continue;
      if (e.type === 'tree') await walk(e.oid, path);
      else if (e.type === 'blob') out.push({ path, bytes: (await git.readBlob({ fs, gitdir, oid: e.oid })).blob, executable: e.mode === '100755' });
    }
  };
  await walk((await git.readCommit({ fs, gitdir, oid: commit })).commit.tree, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

type Entry = { mode: string; path: string; oid: string; type: 'blob' | 'tree' | 'commit' };

/** The tree `tree` (undefined: empty) with `changes` (paths relative to it) applied; undefined when it ends up empty. */
async function editTree(gitdir: string, tree: string | undefined, changes: FileChange[]): Promise<string | undefined> {
  const entries = new Map<string, Entry>();
  if (tree !== undefined) for (const e of (await git.readTree({ fs, gitdir, oid: tree })).tree) entries.set(e.path, e as Entry);
  const nested = new Map<string, FileChange[]>();
  for (const c of changes) {
    const slash = c.path.indexOf('/');
    if (slash < 0) {
      if (c.bytes === null) entries.delete(c.path);
      else entries.set(c.path, { mode: c.executable ? '100755' : '100644', path: c.path, oid: await git.writeBlob({ fs, gitdir, blob: c.bytes }), type: 'blob' });
    } else {
      const head = c.path.slice(0, slash);
      nested.set(head, [...(nested.get(head) ?? []), { ...c, path: c.path.slice(slash + 1) }]);
    }
  }
  for (const [head, sub] of nested) {
    const current = entries.get(head);
    const oid = await editTree(gitdir, current?.type === 'tree' ? current.oid : undefined, sub);
    if (oid === undefined) entries.delete(head);
    else entries.set(head, { mode: '040000', path: head, oid, type: 'tree' });
  }
  if (entries.size === 0) return undefined;
  return git.writeTree({ fs, gitdir, tree: [...entries.values()] });
}

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/**
 * One commit on `branch` over `parent` (its current tip; undefined for the
 * first commit) with the changes; the branch moves only if it still points
 * at `parent`. Committer = author: the commit records the product's change,
 * and the same import run twice makes the same commit ids.
 */
export async function commitChanges(dir: string, branch: string, parent: string | undefined, changes: FileChange[], message: string, author: CommitAuthor): Promise<string> {
  const gitdir = gitdirOf(dir);
  const base = parent === undefined ? undefined : (await git.readCommit({ fs, gitdir, oid: parent })).commit.tree;
  const tree = (await editTree(gitdir, base, changes)) ?? (await git.writeTree({ fs, gitdir, tree: [] }).catch(() => EMPTY_TREE));
  const who = { name: author.name, email: author.email, timestamp: author.timestamp, timezoneOffset: 0 };
  const oid = await git.writeCommit({ fs, gitdir, commit: { message, tree, parent: parent === undefined ? [] : [parent], author: who, committer: who } });
  await pausePoint('import-objects-written'); // tests kill here: objects written, the branch not moved
  if (!(await compareAndSwap(gitdir, branch, parent, oid, 30_000))) {
    throw externalError('git', 'import-branch-moved', `branch ${branch} moved while importing; run envctl import again to continue`, { data: { branch } });
  }
  return oid;
}

/** Makes the work tree and the index hold the changes (after their commit). */
export async function applyToWorkTree(dir: string, changes: FileChange[]): Promise<void> {
  for (const c of changes) {
    const file = join(dir, c.path);
    if (c.bytes === null) {
      await rm(file, { force: true });
      await git.remove({ fs, dir, filepath: c.path });
    } else {
      await writeFileAtomic(file, c.bytes);
      await chmod(file, c.executable ? 0o755 : 0o644);
      await git.add({ fs, dir, filepath: c.path });
    }
  }
}

/**
 * Files under `folder` that differ from HEAD (work tree or index), split
 * into those a killed import left behind — a path HEAD's commit changed
 * whose work tree holds its content before or after that commit — and
 * the rest (the user's own changes).
 */
export async function lagBehind(dir: string, folder: string, head: string | undefined): Promise<{ lagging: FileChange[]; own: string[] }> {
  const rows = await git.statusMatrix({ fs, dir, filepaths: [folder] });
  const dirty = rows.filter(([, h, w, s]) => !(h === 1 && w === 1 && s === 1)).map(([p]) => p as string);
  if (dirty.length === 0 || head === undefined) return { lagging: [], own: dirty };
  const gitdir = gitdirOf(dir);
  const commit = (await git.readCommit({ fs, gitdir, oid: head })).commit;
  const parent = commit.parent[0];
  const lagging: FileChange[] = [];
  const own: string[] = [];
  for (const path of dirty) {
    const after = await blobOid(gitdir, head, path);
    const before = parent === undefined ? undefined : await blobOid(gitdir, parent, path);
    const now = await readFile(join(dir, path)).then((b) => git.hashBlob({ object: b }).then((h) => h.oid), () => undefined);
    if (after !== before && (now === after || now === before)) {
      lagging.push(after === undefined ? { path, bytes: null } : { path, bytes: (await git.readBlob({ fs, gitdir, oid: head, filepath: path })).blob, executable: (await modeOf(gitdir, head, path)) === '100755' });
    } else own.push(path);
  }
  return { lagging, own };
}

async function blobOid(gitdir: string, commit: string, path: string): Promise<string | undefined> {
  return git.readBlob({ fs, gitdir, oid: commit, filepath: path }).then((b) => b.oid, () => undefined);
}

async function modeOf(gitdir: string, commit: string, path: string): Promise<string | undefined> {
  const slash = path.lastIndexOf('/');
  const tree = await git.readTree({ fs, gitdir, oid: commit, ...(slash > 0 ? { filepath: path.slice(0, slash) } : {}) });
  return tree.tree.find((e) => e.path === path.slice(slash + 1))?.mode;
}
