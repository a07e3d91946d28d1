/**
 * render: a checked environment → Dockerfile, run spec and content key.
 * Deterministic: identical inputs give byte-identical output.
 */
import type { CheckedEnvironment } from '../check/index.js';
import type { Config } from '../model/config.js';
import { baseImageOf, baseOf } from '../model/spec.js';
import { renderBuildPart, renderHeader, renderLabels, renderSyntax, type RevisionInfo } from './dockerfile.js';
import { contentKey } from './key.js';
import { renderRunSpec, type RunSpec } from './runspec.js';
import { renderedStages } from './stages.js';

export { RenderError } from './dockerfile.js';
export type { RevisionInfo } from './dockerfile.js';
export type { RunSpec, RunVariable, LifecycleStep, CommandStep, RunCommand } from './runspec.js';
export { IMAGE_PLACEHOLDER } from './runspec.js';
export { contentKey, KEY_VERSION, shortKey } from './key.js';

export interface Rendered {
  name: string;
  dockerfile: string;
  runSpec: RunSpec;
  contentKey: string;
  /** The FROM reference used. */
  from: string;
}

/**
 * Where a base environment's image is; the ledger answers with a digest once
 * it exists. Without one, a tag stands in: `:active` or the pinned revision.
 */
export type BaseResolver = (environment: string, revision: number | 'active') => string;

export function imageName(config: Config, environment: string): string {
  return `${config.registry.address}/${config.registry.prefix}${environment}`;
}

/** The environment's layer-cache repository (envctl.yaml cache.repository: `{image}`, `{environment}`), no tag. */
export function cacheRepository(config: Config, environment: string): string {
  return config.cache.repository.split('{image}').join(imageName(config, environment)).split('{environment}').join(environment);
}

/**
 * The tag of an environment's image at a revision: the revision number, with
 * the platform after it when the environment names its own (`3-linux-arm64`),
 * so an image for another platform than the site's is told apart by its tag
 * alone (`docker pull …:3` on the site's platform never gets an arm64 image).
 */
export function imageTag(revision: number, platform: string | undefined, config: Pick<Config, 'platform'>): string {
  return platform === undefined || platform === config.platform ? String(revision) : `${revision}-${platform.split('/').join('-')}`;
}

/** A tag `imageTag` could have made for `revision`: the number, maybe with a platform after it. */
export function isRevisionTag(tag: string, revision: number): boolean {
  return tag === String(revision) || new RegExp(`^${revision}-[a-z0-9]+-[a-z0-9_]+(?:-[a-z0-9]+)?$`).test(tag);
}

export function tagResolver(config: Config): BaseResolver {
  return (environment, revision) => `${imageName(config, environment)}:${revision}`;
}

export interface RenderOptions {
  config: Config;
  /** All checked environments by name, for the base chain. */
  all: Map<string, CheckedEnvironment>;
  /** For the base environment and every environment a stage is built on (each by its name). */
  resolveBase?: BaseResolver;
  revision?: RevisionInfo;
  /** Image reference for the run spec, when built. */
  image?: string;
  /** Digests of the default and custom base images, by reference, when the registry told them: FROM pins them, and the key covers them. */
  imageDigests?: Map<string, string>;
}

export function renderEnvironment(env: CheckedEnvironment, opts: RenderOptions): Rendered {
  const from = fromOf(env, opts);
  const stages = renderedStages(env, opts.config, opts.resolveBase ?? tagResolver(opts.config));
  const input = { env, from, stages, ...(opts.revision ? { revision: opts.revision } : {}), ...(opts.config.source ? { source: opts.config.source } : {}) };
  const build = renderBuildPart(input);
  const syntax = renderSyntax(input); // '' without a directive: the key stays as before
  const key = contentKey({
    dockerfile: syntax + build,
    context: env.context.map((file) => ({ path: file.path.slice((env.folder ?? '').length + 1), file })),
    ...(env.shared ? { shared: env.shared } : {}),
    base: from,
    platform: env.spec.platform ?? opts.config.platform,
    secrets: Object.entries(env.spec.buildSecrets ?? {}).map(([id, s]) => ({ id, env: s.env })),
    ...(env.spec.buildArgs ? { buildArgs: env.spec.buildArgs } : {}),
  });
  return {
    name: env.name,
    dockerfile: syntax + renderHeader(input) + build + renderLabels(input),
    runSpec: renderRunSpec(env, chainOf(env, opts.all), opts.image, opts.revision?.number ?? null),
    contentKey: key,
    from,
  };
}

function fromOf(env: CheckedEnvironment, opts: RenderOptions): string {
  const base = baseOf(env.spec);
  if (base.kind === 'environment') return (opts.resolveBase ?? tagResolver(opts.config))(base.environment, base.revision);
  const ref = baseImageOf(base, opts.config.defaultBase.image)!;
  const digest = ref.includes('@') ? undefined : opts.imageDigests?.get(ref);
  return digest ? `${ref}@${digest}` : ref;
}

/** Base environments, nearest first; stops at a cycle or a missing name (check reports those). */
export function chainOf(env: CheckedEnvironment, all: Map<string, CheckedEnvironment>): CheckedEnvironment[] {
  const chain: CheckedEnvironment[] = [];
  const seen = new Set([env.name]);
  let base = baseOf(env.spec);
  while (base.kind === 'environment' && !seen.has(base.environment)) {
    const next = all.get(base.environment);
    if (!next) break;
    chain.push(next);
    seen.add(next.name);
    base = baseOf(next.spec);
  }
  return chain;
}
