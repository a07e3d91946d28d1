/**
 * Build logs in the catalog site. A record's `log` is data (from the ledger,
 * which any results file or push can write), and the site is published: a
 * log is copied only when its name is one sync writes, it sits in the real
 * `.envctl/logs` (store/paths.ts refuses a tracked or linked state folder),
 * it is a plain file (lstat: not a link, FIFO or device) and its real path is
 * inside that folder. The copy opens it with O_NOFOLLOW and checks it is the
 * same file that was looked at, so a link swapped in between is not followed.
 * Anything refused is left out with a warning; the site is still written.
 */
import { constants, createWriteStream } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isInside } from '../files/links.js';
import { LOG_PATH } from '../ledger/results.js';
import { StateFolderRefused, statePaths } from '../store/paths.js';

/** A local log accepted for the site: where it is, and which file it was (device and inode) when looked at. */
export interface CheckedLog {
  file: string;
  /** Its file name, also its name in the site's logs/ folder. */
  name: string;
  /** Whose log, for warnings (`python 3`). */
  what: string;
  dev: number;
  ino: number;
}

export interface LogFolder {
  dir: string;
  real: string;
}

/** The logs folder, checked; undefined when there is none (no build ran on this machine) or the state folder is refused (said in `warnings`). */
export async function logFolder(root: string, warnings: string[]): Promise<LogFolder | undefined> {
  let dir: string;
  try {
    dir = await statePaths.logs(root);
  } catch (err) {
    if (!(err instanceof StateFolderRefused)) throw err;
    warnings.push(`build logs are not in the site: ${err.message}`);
    return undefined;
  }
  const real = await realpath(dir).catch(() => undefined);
  return real === undefined ? undefined : { dir, real };
}

const URL = /^https?:\/\/[^\s\u0000-\u001f\u007f"<>\\]+$/;

/**
 * The href for a record's log: a CI URL as it is, or `logs/<name>` for a
 * local log that passed the checks (then added to `logs`). A log that is
 * not on this machine has no link and no warning (a CI job's log stays on
 * its runner); one that is there but refused has a warning.
 */
export async function siteLog(at: LogFolder | undefined, log: string, what: string, logs: Map<string, CheckedLog>, warnings: string[]): Promise<string | undefined> {
  if (URL.test(log)) return log;
  const refuse = (why: string) => {
    warnings.push(`${what}: its log ${JSON.stringify(log)} is not in the site: ${why}`);
    return undefined;
  };
  // The ledger's path is never joined as given: only .envctl/logs/<plain name>.log, and only its name is used.
  if (!LOG_PATH.test(log)) return refuse('it is not a log sync writes (.envctl/logs/<name>.log)');
  if (at === undefined) return undefined;
  const name = basename(log);
  const file = join(at.dir, name);
  const info = await lstat(file).catch(() => undefined);
  if (info === undefined) return undefined;
  if (info.isSymbolicLink()) return refuse('it is a symbolic link');
  if (!info.isFile()) return refuse('it is not a plain file');
  const real = await realpath(file).catch(() => undefined);
  if (real === undefined || !isInside(at.real, real)) return refuse('it is not inside .envctl/logs');
  logs.set(`logs/${name}`, { file, name, what, dev: info.dev, ino: info.ino });
  return `logs/${name}`;
}

/** Copies a checked log to `dest`; why not, if it was not (it was replaced, by a link or another file, since it was looked at). */
export async function copyLog(log: CheckedLog, dest: string): Promise<string | undefined> {
  let handle;
  try {
    // O_NOFOLLOW: a link put in its place fails to open (ELOOP); O_NONBLOCK: a FIFO put there does not hang the open.
    handle = await open(log.file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ELOOP' ? 'it became a symbolic link' : `it cannot be opened (${code ?? 'error'})`;
  }
  try {
    const now = await handle.stat();
    if (!now.isFile() || now.dev !== log.dev || now.ino !== log.ino) return 'it was replaced since it was looked at';
    await pipeline(handle.createReadStream({ start: 0, autoClose: false }), createWriteStream(dest, { flags: 'wx' }));
    return undefined;
  } finally {
    await handle.close();
  }
}
