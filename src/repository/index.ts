/**
 * The library's front door for a repository on disk: read envctl.yaml and
 * the environments folder, gather the facts check needs from the outside
 * (registry layer counts, the compared branch's bases), then run the pure
 * stages.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { checkConsumers, type CheckedConsumer } from '../check/consumers.js';
import { checkEnvironments, type CheckedEnvironment } from '../check/index.js';
import { imageLayerKey } from '../check/layers.js';
import { readWorkTree } from '../files/worktree.js';
import { entriesAt, openObjects, resolveCommit } from '../git/history.js';
import { specValueAt } from '../git/spec-value.js';
import { withoutIgnored } from '../git/commit.js';
import { errorLine, inputError, notFound } from '../model/errors.js';
import { CONFIG_FILE, loadConfig } from '../config/index.js';
import { loadConsumers, type LoadedConsumer } from '../load/consumers.js';
import { readSharedFolders } from '../files/shared-context.js';
import { attachShared, sharedFolders } from '../load/shared-context.js';
import { loadEnvironments, type LoadedEnvironment } from '../load/environments.js';
import { isArchived, rawBaseEnvironment, rawBaseImage } from '../check/raw.js';
import type { Config } from '../model/config.js';
import { sortProblems, type Problem } from '../model/problem.js';
import { registryAccess, RegistryError } from '../registry/client.js';
import { layerCount } from '../registry/manifest.js';
import { consumerContext } from './consumers.js';
import { readConsumerTree } from '../files/consumers.js';

/**
 * A repository opened: its configuration at once, the work tree's sources on
 * first use (most commands need only the configuration and git).
 */
export interface Repository {
  root: string;
  config: Config;
  /** envctl.yaml's problems. */
  configProblems: Problem[];
  /** The environments and consumers of the work tree, read on the first call and kept. */
  sources(): Promise<Sources>;
}

export interface Sources {
  loaded: LoadedEnvironment[];
  /** Projects, models and data sets (projects/, models/, datasets/), parsed, not yet checked. */
  consumers: LoadedConsumer[];
  /** Config, read and YAML problems (of environments and consumers). */
  problems: Problem[];
}

export async function openRepository(root: string, env: NodeJS.ProcessEnv = process.env): Promise<Repository> {
  // ENVCTL_CONFIG names another config file; ENVCTL_REGISTRY overrides the registry (a CI job's own).
  const configFile = env.ENVCTL_CONFIG ?? CONFIG_FILE;
  const configBytes = await readFile(resolve(root, configFile)).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' && configFile === CONFIG_FILE) return undefined;
    if (e.code === 'ENOENT') throw notFound('config-missing', `no config file ${configFile}`, { data: { path: configFile }, hint: 'ENVCTL_CONFIG names it; unset it to use envctl.yaml' });
    // A folder, or a file this user may not read: the caller's to fix, not a fault in envctl.
    if (e.code === 'EISDIR' || e.code === 'EACCES') throw inputError('config-unreadable', `cannot read the config file ${configFile} (${e.code})`, { data: { path: configFile }, cause: e });
    throw e;
  });
  const { config, problems } = loadConfig(configBytes, configFile, env.ENVCTL_REGISTRY ? { registry: env.ENVCTL_REGISTRY } : {});
  let sources: Promise<Sources> | undefined;
  return { root, config, configProblems: problems, sources: () => (sources ??= readSources(root, config, problems)) };
}

async function readSources(root: string, config: Config, configProblems: Problem[]): Promise<Sources> {
  const [snapshot, consumerTree] = await Promise.all([readWorkTree(root, config.environmentsDir), readConsumerTree(root)]);
  // Files git ignores (caches, .pyc) are not build inputs: a build from a clean clone would not have them.
  snapshot.files = await withoutIgnored(root, snapshot.files);
  const loaded = loadEnvironments(snapshot, config.environmentsDir);
  const shared = await readSharedFolders(root, sharedFolders(loaded.environments, config.environmentsDir));
  attachShared(loaded.environments, await withoutIgnored(root, shared.files), config.environmentsDir);
  loaded.problems.push(...shared.problems);
  const consumers = loadConsumers(consumerTree);
  return { loaded: loaded.environments, consumers: consumers.consumers, problems: [...configProblems, ...loaded.problems, ...consumers.problems] };
}

export interface ValidateOptions {
  /** Skip registry look-ups (layer counts then come from envctl.yaml). */
  offline?: boolean;
  /**
   * Branch or commit to compare with for archived bases and environments, and
   * deleted environments still in use; default HEAD when the folder is a git
   * repository. Pinned revisions of consumers are checked against its
   * numbering (default: envctl.yaml's branch).
   */
  against?: string;
}

export interface Validation {
  environments: CheckedEnvironment[];
  /** Projects, models and data sets whose spec passed the schema. */
  consumers: CheckedConsumer[];
  problems: Problem[];
}

export async function validateRepository(repo: Repository, opts: ValidateOptions = {}): Promise<Validation> {
  const sources = await repo.sources();
  const [layerCounts, previousBases, consumerFacts] = await Promise.all([
    opts.offline ? { counts: new Map<string, number>(), trouble: new Map<string, string>() } : registryLayerCounts(repo.config, sources.loaded),
    basesAt(repo, sources.loaded, opts.against ?? 'HEAD'),
    consumerContext({ root: repo.root, config: repo.config, ...sources }, opts.against !== undefined ? { against: opts.against } : {}),
  ]);
  const checked = checkEnvironments(sources.loaded, { config: repo.config, imageLayers: layerCounts.counts, imageLayerTrouble: layerCounts.trouble, previousBases });
  const consumers = checkConsumers(sources.consumers, consumerFacts);
  return {
    environments: checked.environments,
    consumers: consumers.consumers,
    problems: sortProblems([...sources.problems, ...checked.problems, ...consumers.problems]),
  };
}

/**
 * Layer counts of every image something is built FROM directly, for each
 * platform it is built for (an environment's `platform:`, else envctl.yaml's),
 * looked up concurrently and keyed by imageLayerKey. Validation works
 * offline: a registry that cannot be asked leaves the count unknown, and
 * `trouble` (by reference) says why, so the warning tells "could not ask"
 * from "not there" (anything but a registry's failure is thrown).
 */
async function registryLayerCounts(config: Config, loaded: LoadedEnvironment[]): Promise<{ counts: Map<string, number>; trouble: Map<string, string> }> {
  const asks = new Map<string, { ref: string; platform: string }>();
  const ask = (ref: string, platform: string) => asks.set(imageLayerKey(ref, platform), { ref, platform });
  ask(config.defaultBase.image, config.platform);
  for (const env of loaded) {
    const platform = rawPlatform(env) ?? config.platform;
    const image = rawBaseImage(env);
    if (image !== undefined) ask(image, platform);
    else if (rawBaseEnvironment(env) === undefined) ask(config.defaultBase.image, platform);
  }
  const counts = new Map<string, number>();
  const trouble = new Map<string, string>();
  const access = registryAccess(config);
  await Promise.all([...asks].map(async ([key, { ref, platform }]) => {
    try {
      const n = await layerCount(ref, { platform, access });
      if (n !== undefined) counts.set(key, n);
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      trouble.set(ref, errorLine(err));
    }
  }));
  return { counts, trouble };
}

/** The platform a loaded file names, read defensively (its spec may not have passed the schema). */
function rawPlatform(env: LoadedEnvironment): string | undefined {
  const data = env.data;
  const platform = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>).platform : undefined;
  return typeof platform === 'string' ? platform : undefined;
}

/**
 * For environments now built on an archived environment, the base
 * environment each had at `ref` (keeping an archived base is allowed,
 * choosing one anew is not). Only those environments are read from git.
 */
async function basesAt(repo: Repository, loaded: LoadedEnvironment[], ref: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const archived = new Set(loaded.filter(isArchived).map((e) => e.name));
  const candidates = new Set(loaded.filter((e) => archived.has(rawBaseEnvironment(e) ?? '')).map((e) => e.name));
  if (candidates.size === 0) return out;
  const commit = await resolveCommit(repo.root, ref);
  if (!commit) {
    if (ref === 'HEAD') return out; // no commits yet: every choice is new
    throw notFound('ref-unknown', 'no such branch, tag or commit', { data: { option: 'against', value: ref } });
  }
  const src = { dir: repo.root, folder: repo.config.environmentsDir };
  const store = openObjects(repo.root);
  try {
    for (const [name, entry] of entriesAt(src, commit, candidates, store)) {
      const base = (await specValueAt(src, name, entry, store))?.base as { environment?: unknown } | undefined;
      if (base && typeof base === 'object' && typeof base.environment === 'string') out.set(name, base.environment);
    }
  } finally {
    store.close();
  }
  return out;
}
