/**
 * A folder of a commit read into a Snapshot with isomorphic-git: the same
 * plain data the work tree gives, so load, check and render never know
 * where files came from. No git binary, no work tree touched.
 */
import fs from 'node:fs';
import git from 'isomorphic-git';
import type { Snapshot, SourceFile } from '../model/tree.js';

export interface GitSource {
  /** Repository root (the folder holding `.git`). */
  dir: string;
  /** Shared isomorphic-git object cache; pass one object to many calls. */
  cache?: object;
}

/** Resolve a branch, tag or commit id; undefined when it does not exist (a repository with no commits). */
export async function resolveCommit(src: GitSource, ref: string): Promise<string | undefined> {
  try {
    if (/^[0-9a-f]{40}$/.test(ref)) return ref;
    return await git.resolveRef({ fs, dir: src.dir, ref });
  } catch {
    try {
      return (await git.expandOid({ fs, dir: src.dir, oid: ref, cache: src.cache ?? {} }));
    } catch {
      return undefined;
    }
  }
}

/** Files under `folder` at `commit`; empty when the folder does not exist there. */
export async function readCommitSnapshot(src: GitSource, commit: string, folder: string): Promise<Snapshot> {
  const cache = src.cache ?? {};
  const files: SourceFile[] = [];
  let tree;
  try {
    tree = await git.readTree({ fs, dir: src.dir, oid: commit, filepath: folder, cache });
  } catch {
    return { files, problems: [] };
  }
  const walk = async (oid: string, prefix: string): Promise<void> => {
    const { tree: entries } = await git.readTree({ fs, dir: src.dir, oid, cache });
    for (const e of entries) {
      const path = `${prefix}/${e.path}`;
      if (e.type === 'tree') await walk(e.oid, path);
      else if (e.type === 'blob' && e.mode !== '120000') {
        const { blob } = await git.readBlob({ fs, dir: src.dir, oid: e.oid, cache });
        files.push({ path, bytes: blob, executable: e.mode === '100755' });
      }
    }
  };
  await walk(tree.oid, folder);
  return { files, problems: [] };
}
