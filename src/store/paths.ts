/**
 * Every path under `.envctl/`, the repository's local state, built here and
 * nowhere else. None of it is committed (.gitignore) and all of it can be
 * rebuilt: caches from git history, claims from running syncs, build folders
 * from the plan, the embedded registry from a sync.
 *
 * Paths are only handed out through the guard (`statePaths.*` are async and
 * check first), so a new writer cannot forget it: `.envctl` must be absent or
 * a real folder (not a link, not a file), nothing under it may be tracked by
 * git (the index or the head commit), and no folder or file on the way to
 * the path asked for may be a symbolic link. Otherwise a committed `.envctl`
 * link (or a link planted under it) would send caches, build folders, logs
 * and their `rm -rf` outside the repository.
 */
import { lstat, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { trackedFiles } from '../git/commit.js';
import { gitdirOf, ownGitdir, resolveCommit } from '../git/history.js';
import { ObjectStore, parseCommit, parseTree } from '../git/objects.js';
import { EnvctlError } from '../model/errors.js';
import { STATE_DIR } from '../model/tree.js';

/** The folder itself, relative to the repository root (for messages and ignore rules; never join it yourself). */
export { STATE_DIR };

/** The codes of StateFolderRefused: all are about the clone, not the command line. */
export const STATE_FOLDER_CODES = ['state-folder-tracked', 'state-folder-link', 'state-folder-not-folder'] as const;
export type StateFolderCode = (typeof STATE_FOLDER_CODES)[number];

/**
 * envctl will not write through `.envctl/` (input, about the clone): code
 * `state-folder-tracked` (git tracks something under it), `state-folder-link`
 * (it, or a folder or file under it, is a symbolic link), or
 * `state-folder-not-folder` (a file stands where a folder must be);
 * `data.path` is the offending path relative to the repository root.
 */
export class StateFolderRefused extends EnvctlError {
  constructor(code: StateFolderCode, path: string, message: string, hint: string) {
    super('input', code, message, { hint, data: { path } });
  }
}

const TRACKED_HINT = `run git rm -r --cached ${STATE_DIR} and commit, and keep ${STATE_DIR}/ in .gitignore`;

/** One entry of a path under .envctl: a folder on the way, or the file or folder asked for. */
type Want = 'folder' | 'file';

/**
 * Checks the state folder and the path `parts` under it, returning the
 * absolute path. Each existing step (`.envctl`, then each part) is looked at
 * with lstat: a link anywhere is refused, a folder on the way must be a
 * folder, and the last step must be what is asked for. Absent steps are
 * fine (the caller makes them, as real folders, since nothing above is a link).
 */
async function guarded(root: string, parts: string[], last: Want): Promise<string> {
  await notTracked(root);
  const steps = [STATE_DIR, ...parts];
  for (let i = 0; i < steps.length; i++) {
    const rel = steps.slice(0, i + 1).join('/');
    const info = await lstat(join(root, ...steps.slice(0, i + 1))).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (info === undefined) break;
    if (info.isSymbolicLink()) {
      throw new StateFolderRefused('state-folder-link', rel, `${rel} is a symbolic link; envctl keeps its local state in a real folder and will not write through a link`,
        i === 0 ? `remove the link (rm ${STATE_DIR}; if it is committed, git rm --cached ${STATE_DIR} and commit) and run again` : `remove the link (rm ${rel}) and run again`);
    }
    const want: Want = i === steps.length - 1 ? last : 'folder';
    if (want === 'folder' ? !info.isDirectory() : !info.isFile()) {
      throw new StateFolderRefused('state-folder-not-folder', rel, `${rel} is not a ${want === 'folder' ? 'folder' : 'plain file'}; envctl keeps its local state there`,
        `remove ${rel} and run again`);
    }
  }
  return join(root, ...steps);
}

/**
 * Nothing under .envctl is in the index or the head commit's tree: a clone
 * checks tracked files out, links included. Remembered per repository while
 * the index file and the head are unchanged, since paths are asked for often
 * (a sync polls its claims).
 */
const checked = new Map<string, string>();

async function notTracked(root: string): Promise<void> {
  const gitdir = gitdirOf(root);
  const index = await stat(join(ownGitdir(root), 'index')).then((s) => `${s.ino}:${s.size}:${s.mtimeMs}`, () => 'none');
  const head = await resolveCommit(root, 'HEAD').catch(() => undefined);
  const key = `${index}\0${head ?? ''}`;
  if (checked.get(root) === key) return;
  const inIndex = (await trackedFiles(root, STATE_DIR).catch(() => [] as string[])).find((p) => p === STATE_DIR || p.startsWith(`${STATE_DIR}/`));
  if (inIndex !== undefined) {
    throw new StateFolderRefused('state-folder-tracked', inIndex, `git tracks ${inIndex}: ${STATE_DIR}/ is envctl's local state and must not be committed`, TRACKED_HINT);
  }
  if (head !== undefined && inHeadTree(gitdir, head)) {
    throw new StateFolderRefused('state-folder-tracked', STATE_DIR, `the head commit ${head.slice(0, 12)} holds ${STATE_DIR}: it is envctl's local state and must not be committed`, TRACKED_HINT);
  }
  checked.set(root, key);
}

function inHeadTree(gitdir: string, head: string): boolean {
  const store = new ObjectStore(gitdir);
  try {
    const tree = parseCommit(store.read(head).data).tree;
    return parseTree(store.read(tree).data, (p) => p === STATE_DIR).length > 0;
  } finally {
    store.close();
  }
}

/** The log paths a record may name (ledger/results.ts): what `statePaths.log` makes. */
export { LOG_PATH } from '../ledger/results.js';

export const statePaths = {
  /** The revision index of one branch: its folder, index.json and revisions.jsonl. */
  revisionIndex: async (root: string, branch: string) => {
    const parts = ['cache', 'revisions', encodeURIComponent(branch)];
    return {
      dir: await guarded(root, parts, 'folder'),
      index: await guarded(root, [...parts, 'index.json'], 'file'),
      log: await guarded(root, [...parts, 'revisions.jsonl'], 'file'),
    };
  },
  /** Content keys remembered per files id, one file per config fingerprint. */
  keyMemo: (root: string, fingerprint: string) => guarded(root, ['cache', 'keys', `${fingerprint}.json`], 'file'),
  /** Claims of builds in progress on this machine, with their locks (created exclusively, renamed into place: never written through). */
  claims: (root: string) => guarded(root, ['sync'], 'folder'),
  /** What each running buildah build found in local storage before it started: the folder, or one environment's note. */
  leftovers: (root: string) => guarded(root, ['leftovers'], 'folder'),
  leftoverNote: (root: string, environment: string) => guarded(root, ['leftovers', `${environment}.json`], 'file'),
  /** One environment's Dockerfile and build context, laid out for the builder (replaced whole: renamed and removed). */
  build: (root: string, environment: string) => guarded(root, ['build', environment], 'folder'),
  /** A review build's OCI image layout (sync/review-build.ts). */
  review: (root: string, environment: string) => guarded(root, ['review', environment], 'folder'),
  /** Build logs, read by the site. */
  logs: (root: string) => guarded(root, ['logs'], 'folder'),
  /** One build's log: the path its record names (relative to the root) and the file to write. */
  log: async (root: string, environment: string, revision: number, startedAt: string) => {
    const name = `${environment}-${revision}-${startedAt.replace(/[:.]/g, '')}.log`;
    return { relative: `${STATE_DIR}/logs/${name}`, file: await guarded(root, ['logs', name], 'file') };
  },
  /** The embedded registry's folder, its data folder, and its config and log files. */
  registry: async (root: string) => ({
    dir: await guarded(root, ['registry'], 'folder'),
    data: await guarded(root, ['registry', 'data'], 'folder'),
    config: await guarded(root, ['registry', 'config.yml'], 'file'),
    log: await guarded(root, ['registry', 'registry.log'], 'file'),
  }),
  /** The embedded registry's id, made once: it answers with it, so envctl knows the registry on the port is this repository's. */
  registryId: (root: string) => guarded(root, ['registry', 'id'], 'file'),
  /** Where `envctl base` makes the default image, and the root file system in it. */
  base: async (root: string) => ({ dir: await guarded(root, ['base'], 'folder'), rootfs: await guarded(root, ['base', 'rootfs'], 'folder') }),
};

/** The repository whose embedded registry keeps its data in `dir` (what another registry's root header names); `dir` itself when it is not such a folder. */
export function repositoryOfRegistry(dir: string): string {
  const tail = `/${STATE_DIR}/registry`;
  return dir.endsWith(tail) ? dir.slice(0, -tail.length) : dir;
}
