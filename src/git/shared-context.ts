/**
 * The shared folders environments name in `context:`, read at a commit, so
 * revisions, show, diff, review and plan key an environment with its shared
 * files as they were there. Links (mode 120000) are skipped, as
 * readEntryFiles skips them in environment folders.
 */
import { attachShared, sharedFolders } from '../load/shared-context.js';
import type { LoadedEnvironment } from '../load/environments.js';
import type { SourceFile } from '../model/tree.js';
import { parseCommit, parseTree, type ObjectStore } from './objects.js';

/** The files under `folder` at `commit`, paths from the repository root; none when it is absent there. */
export function folderFilesAt(store: ObjectStore, commit: string, folder: string): SourceFile[] {
  let tree = parseCommit(store.read(commit).data).tree;
  for (const part of folder.split('/')) {
    const next = parseTree(store.read(tree).data, (p) => p === part).find((e) => e.type === 'tree');
    if (!next) return [];
    tree = next.oid;
  }
  const files: SourceFile[] = [];
  const walk = (oid: string, prefix: string): void => {
    for (const e of parseTree(store.read(oid).data)) {
      const path = `${prefix}/${e.path}`;
      if (e.type === 'tree') walk(e.oid, path);
      else if (e.type === 'blob' && e.mode !== '120000') files.push({ path, bytes: store.read(e.oid).data, executable: e.mode === '100755' });
    }
  };
  walk(tree, folder);
  return files;
}

/** Gives the environments the files of the shared folders they name, as they were at `commit`. */
export function attachSharedAt(store: ObjectStore, commit: string, environments: LoadedEnvironment[], environmentsDir: string): LoadedEnvironment[] {
  const folders = sharedFolders(environments, environmentsDir);
  if (folders.length === 0) return environments;
  return attachShared(environments, folders.flatMap((f) => folderFilesAt(store, commit, f)), environmentsDir);
}
