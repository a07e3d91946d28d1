/**
 * An environment as it was at a revision: its YAML, and (when it passes the
 * schema) its rendered Dockerfile and content key (remembered in
 * store/keys.ts), with its base named as the ledger knows it (keys.ts).
 * Also the revisions of an environment for the CLI's revisions, show, diff
 * and rollback, with a branch this clone lacks named.
 */
import { createHash } from 'node:crypto';
import { checkEnvironments } from '../check/index.js';
import { openKeyMemo } from '../store/keys.js';
import git from 'isomorphic-git';
import fs from 'node:fs';
import { attachSharedAt } from '../git/shared-context.js';
import { sharedFolders } from '../load/shared-context.js';
import { gitdirOf, openObjects, readEntryFiles, resolveBranch, type EnvironmentEntry } from '../git/history.js';
import { loadEnvironments, type LoadedEnvironment } from '../load/environments.js';
import type { Config } from '../model/config.js';
import { notFound } from '../model/errors.js';
import { baseOf, type ResolvedBase } from '../model/spec.js';
import { KEY_VERSION, RenderError, renderEnvironment, type Rendered } from '../render/index.js';
import type { Revision } from '../revisions/number.js';
import { revisionsOf } from '../store/revision-index.js';
import type { BuildRecord } from '../ledger/model.js';
import type { Repository } from './index.js';
import { baseDigest, baseOptions, isResolved, revisionBuild, type KeyContext } from './keys.js';

export interface EnvironmentAt {
  /** The YAML text. */
  spec: string;
  /** Undefined when the spec does not pass the schema there. */
  rendered?: Rendered;
  /** With `rendered`: false when a base environment is named by its tag (the ledger has no build of it), so a build would record another key. */
  keyResolved?: boolean;
  /** With `rendered`: the base the spec names. */
  base?: ResolvedBase;
  /** Build-context files (a folder environment's other files), paths relative to its folder, sorted. */
  context: ContextFile[];
}

export interface ContextFile {
  path: string;
  bytes: Uint8Array;
  executable: boolean;
}

/** A revision's content key, and whether its base was named by digest. */
export interface RevisionKey {
  contentKey: string;
  resolved: boolean;
}

/** Where an environment is read from: its name and files at a revision. */
export type RevisionAt = Pick<Revision, 'environment' | 'entry' | 'number'> & Partial<Pick<Revision, 'commit'>>;

/**
 * One loaded environment checked alone and rendered. With `ctx`, its base is
 * named as the ledger (or registry) knows it: as the revision's build
 * (`built`) stood on it, else by the base environment's built image;
 * without, by tag.
 */
export function renderLoaded(loaded: LoadedEnvironment | undefined, config: Config, ctx?: KeyContext, built?: BuildRecord): EnvironmentAt {
  const digestOf = (base: ResolvedBase) => (ctx ? baseDigest(base, config, ctx, built) : undefined);
  const at = renderWith(loaded, config, digestOf, ctx);
  // A build planned while the registry gave no digest hashed the image's tag (and recorded the digest after): show that one.
  if (at.rendered && at.base && at.base.kind !== 'environment' && digestOf(at.base) !== undefined && built?.contentKey && at.rendered.contentKey !== built.contentKey) {
    const tagged = renderWith(loaded, config, () => undefined);
    if (tagged.rendered?.contentKey === built.contentKey) return tagged;
  }
  return at;
}

/** Rendered with the base digest `pick` chooses for the base the spec names (undefined: by tag). */
function renderWith(loaded: LoadedEnvironment | undefined, config: Config, pick: (base: ResolvedBase) => string | undefined, ctx?: KeyContext): EnvironmentAt {
  const spec = loaded?.text ?? '';
  if (!loaded) return { spec, context: [] };
  const context = loaded.context
    .map((f) => ({ path: f.path.slice((loaded.folder ?? '').length + 1), bytes: f.bytes, executable: f.executable }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const checked = checkEnvironments([loaded], { config }).environments[0];
  if (!checked) return { spec, context };
  const base = baseOf(checked.spec);
  const digest = pick(base);
  try {
    const rendered = renderEnvironment(checked, { config, all: new Map([[checked.name, checked]]), ...baseOptions(checked, config, digest, ctx) });
    return { spec, rendered, keyResolved: isResolved(base, config, ctx, digest, checked), base, context };
  } catch (err) {
    if (err instanceof RenderError) return { spec, context }; // a revision that cannot render has no Dockerfile or key
    throw err;
  }
}

/** The environment's files at its entry; with `commit`, the shared folders it names as they were there. */
async function loadedAt(root: string, config: Config, name: string, entry: EnvironmentEntry, commit?: string): Promise<LoadedEnvironment | undefined> {
  const files = await readEntryFiles({ dir: root, folder: config.environmentsDir }, name, entry);
  const loaded = loadEnvironments({ files, problems: [] }, config.environmentsDir).environments.find((e) => e.name === name);
  if (loaded && commit !== undefined && sharedFolders([loaded], config.environmentsDir).length > 0) {
    const store = openObjects(root);
    try {
      attachSharedAt(store, commit, [loaded], config.environmentsDir);
    } finally {
      store.close();
    }
  }
  return loaded;
}

/** The environment at a revision; with `ctx`, its base as that revision's build (or the ledger now) names it. */
export async function environmentAt(root: string, config: Config, at: RevisionAt, ctx?: KeyContext): Promise<EnvironmentAt> {
  const built = ctx ? revisionBuild(ctx.ledger, at.environment, at.number) : undefined;
  return renderLoaded(await loadedAt(root, config, at.environment, at.entry, at.commit), config, ctx, built);
}

/** What else decides a key besides the environment's files and its base's digest: the parts of envctl.yaml render uses. */
function fingerprint(config: Config): string {
  const parts = [KEY_VERSION, 'by-base-digest', config.platform, config.defaultBase.image, config.registry.address, config.registry.prefix];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** Memo entry per files id: the base the spec names, and the key by the base digest it was computed with ('' for the tag). */
interface Remembered {
  base: ResolvedBase;
  keys: Record<string, string>;
  /** It names shared folders (`context:`): its keys are not remembered. */
  shared?: true;
}

/** The key of a revision that shares folders: rendered from its files and shared folders at its commit. */
async function sharedKey(root: string, config: Config, r: Revision, ctx: KeyContext): Promise<RevisionKey | null> {
  const at = await environmentAt(root, config, r, ctx);
  return at.rendered && at.base ? { contentKey: at.rendered.contentKey, resolved: at.keyResolved ?? false } : null;
}

/**
 * Content key of each revision (null where its spec does not render), in the
 * same order, each against its base as `ctx` knows it (renderLoaded).
 */
export async function revisionKeys(root: string, config: Config, revisions: Revision[], ctx: KeyContext = { ledger: new Map() }): Promise<(RevisionKey | null)[]> {
  const memo = await openKeyMemo(root, fingerprint(config));
  const out: (RevisionKey | null)[] = [];
  for (const r of revisions) {
    const id = `${r.environment}:${r.entry.form}:${r.entry.oid}`;
    const text = memo.get(id);
    let known = typeof text === 'string' ? (JSON.parse(text) as Remembered) : text;
    // Its key also depends on shared folders outside its files, so the files id cannot name it: computed each time.
    if (known?.shared) {
      out.push(await sharedKey(root, config, r, ctx));
      continue;
    }
    let loaded: Promise<LoadedEnvironment | undefined> | undefined;
    /** The key against `digest`, rendered once per files id and digest. */
    const keyWith = async (digest: string | undefined): Promise<string | undefined> => {
      if (known === null) return undefined;
      const remembered = known?.keys[digest ?? ''];
      if (remembered !== undefined) return remembered;
      const env = await (loaded ??= loadedAt(root, config, r.environment, r.entry, r.commit));
      const at = renderWith(env, config, () => digest);
      known = at.rendered && at.base ? { base: at.base, keys: { ...(known?.keys ?? {}), [digest ?? '']: at.rendered.contentKey } } : null;
      if (known && env?.shared) known.shared = true;
      memo.set(id, known === null ? null : JSON.stringify(known));
      return at.rendered?.contentKey;
    };
    if (known === undefined) await keyWith(undefined); // learns the base
    if (known === null || known === undefined) {
      out.push(null);
      continue;
    }
    if (known.shared) {
      out.push(await sharedKey(root, config, r, ctx));
      continue;
    }
    const { base } = known;
    const built = revisionBuild(ctx.ledger, r.environment, r.number);
    let digest = baseDigest(base, config, ctx, built);
    if (digest !== undefined && base.kind !== 'environment' && built?.contentKey && (await keyWith(digest)) !== built.contentKey) {
      if ((await keyWith(undefined)) === built.contentKey) digest = undefined; // built on the tag (see renderLoaded)
    }
    const key = await keyWith(digest);
    out.push(key === undefined ? null : { contentKey: key, resolved: isResolved(base, config, ctx, digest) });
  }
  await memo.save();
  return out;
}

/**
 * An environment's revisions on the configured branch (earlier names
 * included). None because the branch is missing from this clone (a CI
 * checkout of one commit, a clone that only has origin/main) is a not-found
 * error naming the branch and where it can be fetched from, not "no revisions".
 */
export async function revisionsFor(repo: Repository, name: string): Promise<Revision[]> {
  const list = await revisionsOf(repo.root, repo.config, name);
  if (list.length === 0) await requireBranch(repo);
  return list;
}

async function requireBranch(repo: Repository): Promise<void> {
  const { branch } = repo.config;
  if (await resolveBranch(repo.root, branch)) return;
  const remotes: string[] = [];
  const known = await git.listRemotes({ fs, gitdir: gitdirOf(repo.root) }).catch(() => []);
  for (const { remote } of known) if (await resolveBranch(repo.root, `refs/remotes/${remote}/${branch}`)) remotes.push(remote);
  const remote = remotes[0];
  throw notFound('branch-not-found', remote !== undefined
    ? `branch ${branch} does not exist in this clone, only ${remote}/${branch}: revisions are numbered on ${branch} itself`
    : `branch ${branch} does not exist in this clone (envctl.yaml names it as the branch revisions are numbered on)`, {
    hint: remote !== undefined ? `create it from the remote: git fetch ${remote} ${branch}:${branch}` : `fetch it (git fetch <remote> ${branch}:${branch}), or commit to it`,
    data: { branch, remotes },
  });
}

export interface RevisionRow extends Revision {
  /** ISO 8601. */
  date: string;
  /** Null when the revision's spec does not render. */
  contentKey: string | null;
  /** False when the key is against a base environment's tag (nothing of it built): a build will record another key. Null without a key. */
  keyResolved: boolean | null;
  /** The earliest revision with the same key (a git revert, an envctl rollback). */
  sameKeyAs: number | null;
}

/** `envctl revisions`: every revision with its content key against its base as the ledger knows it. */
export async function revisionTable(repo: Repository, name: string, ctx: KeyContext): Promise<RevisionRow[]> {
  const list = await revisionsFor(repo, name);
  const keys = await revisionKeys(repo.root, repo.config, list, ctx);
  const firstWithKey = new Map<string, number>();
  return list.map((r, i) => {
    const key = keys[i] ?? null;
    const sameAs = key === null ? undefined : firstWithKey.get(key.contentKey);
    if (key !== null && sameAs === undefined) firstWithKey.set(key.contentKey, r.number);
    return { ...r, date: new Date(r.time * 1000).toISOString(), contentKey: key?.contentKey ?? null, keyResolved: key?.resolved ?? null, sameKeyAs: sameAs ?? null };
  });
}
