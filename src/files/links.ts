/**
 * The one rule for symbolic links in folders envctl reads from the work
 * tree (environments, projects, models, data sets): a link is followed only
 * while it stays inside its folder. A link that leads out (to /etc/passwd, to
 * a secret elsewhere) or points nowhere is a located error, never read.
 */
import type { Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { problem, type Problem } from '../model/problem.js';

export interface Confinement {
  /** The folder's real path: links must resolve inside it. */
  realTop: string;
  /** The folder as the user names it, for messages (`environments`). */
  label: string;
  problems: Problem[];
}

export function isInside(realTop: string, real: string): boolean {
  return real === realTop || real.startsWith(realTop + sep);
}

/**
 * The file or folder at `abs` with links followed, or undefined when it is
 * absent, or is a link that is broken or leads out (then a problem at `rel`).
 */
export async function followInside(abs: string, rel: string, within: Confinement): Promise<Stats | undefined> {
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    // Absent and not a link: nothing there (an optional file). A link that cannot be resolved is broken.
    if (await lstat(abs).then((s) => s.isSymbolicLink(), () => false)) {
      within.problems.push(problem({ file: rel, line: 1, col: 1 }, 'error', 'symlink-broken', 'symbolic link points nowhere'));
    }
    return undefined;
  }
  if (!isInside(within.realTop, real)) {
    within.problems.push(problem({ file: rel, line: 1, col: 1 }, 'error', 'symlink-escape',
      `symbolic link leads out of ${within.label}/ (to ${real}); copy the file in instead`));
    return undefined;
  }
  return stat(abs);
}
