/**
 * Reads the shared folders environments name in `context:` from the work
 * tree. Each folder is read like the environments folder (worktree.ts: links
 * followed only while they stay inside it); a folder that is itself a link,
 * or lies under one, is refused, since its real place may be anywhere.
 */
import { realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { problem } from '../model/problem.js';
import type { Snapshot } from '../model/tree.js';
import { readWorkTree } from './worktree.js';

export async function readSharedFolders(repoRoot: string, folders: readonly string[]): Promise<Snapshot> {
  const out: Snapshot = { files: [], problems: [] };
  const realRoot = await realpath(repoRoot);
  for (const folder of folders) {
    const real = await realpath(join(repoRoot, folder)).catch(() => undefined);
    if (real === undefined) continue; // absent: check reports the folder as holding no files
    if (real !== join(realRoot, ...folder.split('/')).split('/').join(sep)) {
      out.problems.push(problem({ file: folder, line: 1, col: 1 }, 'error', 'symlink-escape',
        `shared context folder ${folder}/ is a symbolic link (to ${real}) or lies under one; name the real folder instead`));
      continue;
    }
    const read = await readWorkTree(repoRoot, folder);
    out.files.push(...read.files);
    out.problems.push(...read.problems);
  }
  return out;
}
