/**
 * Every path under `.envctl/`, the repository's local state, built here and
 * nowhere else. None of it is committed (.gitignore) and all of it can be
 * rebuilt: caches from git history, claims from running syncs, build folders
 * from the plan, the embedded registry from a sync.
 */
import { join } from 'node:path';

/** The folder itself, relative to the repository root. */
export const STATE_DIR = '.envctl';

export const statePaths = {
  root: (root: string) => join(root, STATE_DIR),
  /** The revision index of one branch (index.json, revisions.jsonl). */
  revisionIndex: (root: string, branch: string) => join(root, STATE_DIR, 'cache', 'revisions', encodeURIComponent(branch)),
  /** Content keys remembered per files id, one file per config fingerprint. */
  keyMemo: (root: string, fingerprint: string) => join(root, STATE_DIR, 'cache', 'keys', `${fingerprint}.json`),
  /** Claims of builds in progress on this machine, with their locks. */
  claims: (root: string) => join(root, STATE_DIR, 'sync'),
  /** What each running buildah build found in local storage before it started, so the next sync can remove what a killed one left. */
  leftovers: (root: string) => join(root, STATE_DIR, 'leftovers'),
  /** One environment's Dockerfile and build context, laid out for the builder. */
  build: (root: string, environment: string) => join(root, STATE_DIR, 'build', environment),
  /** Build logs; `log` gives the path a build record names (relative to the root). */
  logs: (root: string) => join(root, STATE_DIR, 'logs'),
  log: (environment: string, revision: number, startedAt: string) => `${STATE_DIR}/logs/${environment}-${revision}-${startedAt.replace(/[:.]/g, '')}.log`,
  /** The embedded registry's config and data. */
  registry: (root: string) => join(root, STATE_DIR, 'registry'),
  /** The embedded registry's id, made once: it answers with it, so envctl knows the registry on the port is this repository's. */
  registryId: (root: string) => join(root, STATE_DIR, 'registry', 'id'),
  /** Where `envctl base` makes the default image. */
  base: (root: string) => join(root, STATE_DIR, 'base'),
};

/** A log path as sync writes it (relative, under .envctl/logs, one plain file name): the only logs the site copies. */
export const LOG_PATH = /^\.envctl\/logs\/[A-Za-z0-9._-]+\.log$/;
