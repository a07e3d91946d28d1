/**
 * `envctl rollback`: a new commit that restores an environment's files as
 * they were at a revision, for when `git revert` of the offending commit is
 * not clean. Its build inputs equal that revision's, so no rebuild follows.
 */
import { mkdir, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { commit, dirtyFiles, stage, trackedFiles, whoami } from '../git/commit.js';
import { readEntryFiles } from '../git/history.js';
import { readWorkTree } from '../files/worktree.js';
import type { Config } from '../model/config.js';
import { EnvctlError } from '../model/errors.js';
import type { Revision } from '../revisions/number.js';

/** The work tree is not in a state a rollback may write over (input, code `rollback-refused`; `data.why` says which). */
export class RollbackRefused extends EnvctlError {
  constructor(why: 'dirty' | 'no-author' | 'untracked', message: string) {
    super('input', 'rollback-refused', message, { data: { why } });
  }
}

export interface RollbackResult {
  /** The new commit, or undefined when the files already were as at the revision. */
  commit?: string;
  changed: string[];
}

export async function rollback(root: string, config: Config, name: string, target: Revision, env: NodeJS.ProcessEnv): Promise<RollbackResult> {
  const dirty = await dirtyFiles(root);
  if (dirty.length > 0) {
    throw new RollbackRefused('dirty', `the work tree has uncommitted changes (${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ', …' : ''}); commit or stash them first`);
  }
  const author = await whoami(root, env);
  if (!author) throw new RollbackRefused('no-author', 'no author: set git config user.name and user.email (or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL)');

  const folder = config.environmentsDir;
  const wanted = await readEntryFiles({ dir: root, folder }, target.environment, target.entry);
  // A renamed environment's old revisions hold files under the old name; restore them under the current one.
  const rename = (p: string) => p.replace(`${folder}/${target.environment}`, `${folder}/${name}`);
  const want = new Map(wanted.map((f) => [rename(f.path), f]));
  const mine = (p: string) => p === `${folder}/${name}.yaml` || p.startsWith(`${folder}/${name}/`);
  // Only what git tracks is the environment's: untracked and ignored files are the user's, never removed.
  const tracked = new Set((await trackedFiles(root, `${folder}/`)).filter(mine));
  const onDisk = (await readWorkTree(root, folder)).files.filter((f) => mine(f.path));
  const clobbered = onDisk.filter((f) => !tracked.has(f.path) && want.has(f.path)).map((f) => f.path);
  if (clobbered.length > 0) throw new RollbackRefused('untracked', `untracked files would be overwritten: ${clobbered.join(', ')}; move them away first`);
  const current = onDisk.filter((f) => tracked.has(f.path));

  const removed = current.filter((f) => !want.has(f.path)).map((f) => f.path);
  const written: string[] = [];
  for (const [path, f] of want) {
    const now = current.find((c) => c.path === path);
    if (now && Buffer.compare(Buffer.from(now.bytes), Buffer.from(f.bytes)) === 0 && now.executable === f.executable) continue;
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), f.bytes);
    await chmod(join(root, path), f.executable ? 0o755 : 0o644);
    written.push(path);
  }
  for (const path of removed) await rm(join(root, path));
  await pruneEmptyFolder(join(root, folder, name));
  const changed = [...written, ...removed].sort();
  if (changed.length === 0) return { changed };

  await stage(root, written, removed);
  const message = `Roll back ${name} to revision ${target.number}\n\nRestores ${name} as of ${target.commit.slice(0, 12)} ("${target.subject}").\n`;
  return { commit: await commit(root, message, author), changed };
}

/** Removes folders left empty under `path` (and `path` itself), as git does not keep them. */
async function pruneEmptyFolder(path: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return false; // not a folder environment
  }
  let left = entries.length;
  for (const e of entries) if (e.isDirectory() && (await pruneEmptyFolder(join(path, e.name)))) left--;
  if (left > 0) return false;
  await rm(path, { recursive: true });
  return true;
}
