/**
 * Reads the environments folder of a work tree into a Snapshot. Symlinks
 * are followed only while they stay inside the folder: a link that leads
 * out (to /etc/passwd, to a secret elsewhere) is a located error, never read.
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { problem, type Problem } from '../model/problem.js';
import type { Snapshot, SourceFile } from '../model/tree.js';

export async function readWorkTree(repoRoot: string, dir: string): Promise<Snapshot> {
  const files: SourceFile[] = [];
  const problems: Problem[] = [];
  const top = join(repoRoot, dir);
  let realTop: string;
  try {
    realTop = await realpath(top);
  } catch {
    return { files, problems }; // no environments folder yet: nothing to check
  }
  const rel = (abs: string) => relative(repoRoot, abs).split(sep).join('/');
  const inside = (real: string) => real === realTop || real.startsWith(realTop + sep);
  const visited = new Set<string>();

  async function walk(abs: string): Promise<void> {
    const real = await realpath(abs);
    if (visited.has(real)) return;
    visited.add(real);
    const entries = await readdir(abs, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(abs, entry.name);
      if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(path);
        } catch {
          problems.push(problem({ file: rel(path), line: 1, col: 1 }, 'error', 'symlink-broken', 'symbolic link points nowhere'));
          continue;
        }
        if (!inside(target)) {
          problems.push(problem({ file: rel(path), line: 1, col: 1 }, 'error', 'symlink-escape',
            `symbolic link leads out of ${dir}/ (to ${target}); copy the file in instead`));
          continue;
        }
        const st = await stat(path);
        if (st.isDirectory()) await walk(path);
        else if (st.isFile()) files.push(await readOne(path, rel(path), st.mode));
        continue;
      }
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(await readOne(path, rel(path), (await lstat(path)).mode));
    }
  }

  await walk(top);
  return { files, problems };
}

async function readOne(abs: string, path: string, mode: number): Promise<SourceFile> {
  return { path, bytes: await readFile(abs), executable: (mode & 0o111) !== 0 };
}
