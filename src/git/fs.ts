/**
 * A read-only view of a `.git` folder for isomorphic-git history walks.
 *
 * isomorphic-git, per object read, stats the git folder, lists the pack
 * folder and tries the loose-object file before the packs. Over a history of
 * ten thousand commits those failed look-ups dominate; this view answers
 * them from memory: the pack listing and the loose-object folders are read
 * once, and a loose object whose folder does not exist fails without a
 * system call. Only for reading: objects written after it was made are not
 * seen, so writers use the plain file system.
 */
import { promises as fsp, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { PromiseFsClient } from 'isomorphic-git';

const ENOENT = Object.assign(new Error('no such file'), { code: 'ENOENT' });
const LOOSE = /[/\\]objects[/\\]([0-9a-f]{2})[/\\][0-9a-f]{38}$/;

export function readOnlyGitFs(gitdir: string): PromiseFsClient {
  let looseDirs: Set<string>;
  try {
    looseDirs = new Set(readdirSync(join(gitdir, 'objects')).filter((d) => /^[0-9a-f]{2}$/.test(d)));
  } catch {
    looseDirs = new Set();
  }
  const listings = new Map<string, Promise<string[]>>();
  const stats = new Map<string, Promise<Stats>>();
  const promises = {
    readFile(path?: string, options?: unknown) {
      if (path === undefined) return Promise.reject(ENOENT); // isomorphic-git's probe for a promise API
      const loose = LOOSE.exec(path);
      if (loose && !looseDirs.has(loose[1]!)) return Promise.reject(ENOENT);
      return fsp.readFile(path, options as undefined);
    },
    readdir(path: string) {
      let listing = listings.get(path);
      if (!listing) {
        listing = fsp.readdir(path);
        listings.set(path, listing);
      }
      return listing;
    },
    stat(path: string) {
      let s = stats.get(path);
      if (!s) {
        s = fsp.stat(path);
        stats.set(path, s);
      }
      return s;
    },
    lstat: (path: string) => fsp.lstat(path),
    readlink: (path: string) => fsp.readlink(path),
    writeFile: () => Promise.reject(new Error('read-only git view')),
    unlink: () => Promise.reject(new Error('read-only git view')),
    mkdir: () => Promise.reject(new Error('read-only git view')),
    rmdir: () => Promise.reject(new Error('read-only git view')),
    symlink: () => Promise.reject(new Error('read-only git view')),
    chmod: () => Promise.reject(new Error('read-only git view')),
  };
  return { promises };
}
