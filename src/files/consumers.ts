/**
 * The consumer folders (projects/, models/, datasets/) of a work tree, read
 * into a ConsumerTree. Only what loading needs is read: the top-level
 * `<name>.yaml` files, and in each consumer folder its spec and
 * requirements.txt (a project folder may hold much else: code, data).
 * Symbolic links follow the rule in links.ts, each kind's folder its own.
 */
import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { CONSUMER_KINDS, REQUIREMENTS_FILE, type ConsumerTree } from '../load/consumers.js';
import type { Problem } from '../model/problem.js';
import { CONSUMER_DIRS, CONSUMER_SPEC } from '../model/project.js';
import type { SourceFile } from '../model/tree.js';
import { followInside } from './links.js';
import { readOne } from './worktree.js';

const YAML = /\.ya?ml$/;

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
    const within = { realTop, label: dir, problems };
    const entries = await readdir(join(root, dir), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const abs = join(root, dir, entry.name);
      const rel = `${dir}/${entry.name}`;
      if (!entry.isSymbolicLink() && !entry.isFile() && !entry.isDirectory()) continue;
      if (!entry.isDirectory() && !YAML.test(entry.name) && !entry.isSymbolicLink()) continue;
      const st = await followInside(abs, rel, within);
      if (st?.isFile()) {
        if (YAML.test(entry.name)) files.push(await readOne(abs, rel, st.mode));
        continue;
      }
      if (!st?.isDirectory()) continue;
      folders.push(rel);
      for (const inner of [CONSUMER_SPEC[kind], REQUIREMENTS_FILE]) {
        const innerAbs = join(abs, inner);
        const innerSt = await followInside(innerAbs, `${rel}/${inner}`, within);
        if (innerSt?.isFile()) files.push(await readOne(innerAbs, `${rel}/${inner}`, innerSt.mode));
      }
    }
  }
  return { files, folders, problems };
}
