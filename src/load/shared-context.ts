/**
 * Shared build context: repository folders an environment names in
 * `context:` (`context: [shared/scripts]`), whose files join its build
 * context under their repository path, so `COPY shared/scripts /opt/scripts`
 * works beside the environment folder's own files. Pure: the folders are
 * read by files/shared-context.ts (work tree) or git/shared-context.ts (a
 * commit), then attached here.
 */
import { STATE_DIR, type SourceFile } from '../model/tree.js';
import type { LoadedEnvironment } from './environments.js';

/** Folders no environment may share: git's, envctl's own state. */
const PRIVATE = new Set(['.git', STATE_DIR]);

/**
 * Why a `context:` entry is refused, or undefined when it is a usable
 * folder. One spelling per folder (no `./`, `..`, `//`, trailing `/`), so
 * the same folder always keys and owns the same way. The environments
 * folder is refused whole: an environment's own files already are its
 * context, and another's belong to its owners.
 */
export function contextFolderProblem(path: string, environmentsDir: string): string | undefined {
  if (path.startsWith('/')) return `"${path}" is absolute; name a folder of the repository, relative to its root`;
  if (path.includes('\\')) return `"${path}" holds a backslash; separate folders with "/"`;
  const parts = path.split('/');
  if (parts.some((p) => p === '..')) return `"${path}" climbs out with ".."; name a folder of the repository, relative to its root`;
  if (parts.some((p) => p === '' || p === '.')) return `"${path}" is not written plainly; write it as ${plain(path)}`;
  if (PRIVATE.has(parts[0]!)) return `"${path}" is inside ${parts[0]}/, which is never part of a build`;
  if (path === environmentsDir || path.startsWith(`${environmentsDir}/`) || environmentsDir.startsWith(`${path}/`)) {
    return `"${path}" overlaps the environments folder ${environmentsDir}/; an environment's own files are its context already, so share files from a folder outside it`;
  }
  return undefined;
}

function plain(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return parts.length > 0 ? `"${parts.join('/')}"` : 'a folder name';
}

/** The usable folders a spec names (entries that are not strings or are refused are left to check). */
export function contextFoldersOf(data: unknown, environmentsDir: string): string[] {
  const list = typeof data === 'object' && data !== null ? (data as { context?: unknown }).context : undefined;
  if (!Array.isArray(list)) return [];
  return [...new Set(list.filter((p): p is string => typeof p === 'string' && contextFolderProblem(p, environmentsDir) === undefined))];
}

/** Every usable folder any of the environments names, sorted: what the reader has to read. */
export function sharedFolders(environments: readonly LoadedEnvironment[], environmentsDir: string): string[] {
  return [...new Set(environments.flatMap((e) => contextFoldersOf(e.data, environmentsDir)))].sort();
}

/** True when `file` lies in `folder`. */
export function isUnder(file: string, folder: string): boolean {
  return file.startsWith(`${folder}/`);
}

/**
 * Gives each environment naming folders the files read from them
 * (`shared`, paths from the repository root). An environment naming none
 * gets no `shared` field, so everything about it stays as before.
 */
export function attachShared(environments: LoadedEnvironment[], files: readonly SourceFile[], environmentsDir: string): LoadedEnvironment[] {
  for (const env of environments) {
    const folders = contextFoldersOf(env.data, environmentsDir);
    if (folders.length === 0) continue;
    env.shared = files.filter((f) => folders.some((d) => isUnder(f.path, d)));
  }
  return environments;
}
