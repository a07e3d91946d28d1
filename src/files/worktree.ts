/**
 * Reads the environments folder of a work tree into a Snapshot. Symbolic
 * links follow the rule in links.ts: inside the folder only.
 */
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Problem } from '../model/problem.js';
import type { Snapshot, SourceFile } from '../model/tree.js';
import { followInside, type Confinement } from './links.js';

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
  const within: Confinement = { realTop, label: dir, problems };
  const rel = (abs: string) => relative(repoRoot, abs).split(sep).join('/');
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
        const st = await followInside(path, rel(path), within);
        if (st?.isDirectory()) await walk(path);
        else if (st?.isFile()) files.push(await readOne(path, rel(path), st.mode));
        continue;
      }
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(await readOne(path, rel(path), (await lstat(path)).mode));
    }
  }

  await walk(top);
  return { files, problems };
}

export async function readOne(abs: string, path: string, mode: number): Promise<SourceFile> {
  return { path, bytes: await readFile(abs), executable: (mode & 0o111) !== 0 };
}
