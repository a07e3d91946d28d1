/**
 * One content key everywhere. A key hashes the FROM reference, so it is the
 * key a build records only when the base is named by digest. The ledger
 * knows the digest of a base environment once it is built (its active
 * build, or its pinned revision's), and of every base a revision was built
 * on (`baseDigest` of that revision's build); the registry knows a default or
 * custom image's. `revisions`, `render`, `show` and `diff` resolve bases this
 * way, as plan and sync do. A key against a base environment's tag (nothing
 * of it built yet), or against an image whose registry could not be asked,
 * is marked unresolved: no build records it.
 */
import type { CheckedEnvironment } from '../check/index.js';
import { readLedger } from '../git/ledger.js';
import { activeBuild, latestAttempts, succeededBuild, type BuildRecord, type Ledger } from '../ledger/model.js';
import type { Config } from '../model/config.js';
import { baseImageOf, baseOf, stageEnvironments, type ResolvedBase } from '../model/spec.js';
import { imageName, renderEnvironment, tagResolver, type BaseResolver, type Rendered, type RenderOptions } from '../render/index.js';
import type { Repository } from './index.js';
import { baseImageLookups } from './plan.js';

export interface KeyContext {
  ledger: Ledger;
  /** Digests of default and custom base images, by reference, as the registry gives them now. */
  imageDigests?: Map<string, string>;
  /** Base images whose registry could not be asked: a key against their tag is unresolved (plan leaves it unknown). */
  unknownImages?: Set<string>;
}

/** The ledger, and with `registry` the base images' digests (as plan asks for them). */
export async function keyContext(repo: Repository, opts: { registry?: CheckedEnvironment[] } = {}): Promise<KeyContext> {
  const [{ ledger }, images] = await Promise.all([
    readLedger(repo.root, repo.config.stateBranch),
    opts.registry ? baseImageLookups(repo.root, repo.config, opts.registry) : undefined,
  ]);
  return { ledger, ...(images ? { imageDigests: images.digests, unknownImages: new Set(images.unknown.keys()) } : {}) };
}

/** The build a revision's image came from (its newest succeeded attempt), else its latest attempt. */
export function revisionBuild(ledger: Ledger, environment: string, revision: number): BuildRecord | undefined {
  const builds = ledger.get(environment)?.builds ?? [];
  return succeededBuild(builds, revision) ?? latestAttempts(builds).get(revision);
}

/**
 * The digest FROM will name: the one the revision's build stood on, else the
 * base environment's built image, else the registry's answer for an image.
 * Undefined when nothing knows it (or an image pins its own digest).
 */
export function baseDigest(base: ResolvedBase, config: Config, ctx: KeyContext, built?: BuildRecord): string | undefined {
  if (built?.baseDigest) return built.baseDigest;
  if (base.kind === 'environment') {
    return environmentDigest(ctx.ledger, base.environment, base.revision);
  }
  const ref = baseImageOf(base, config.defaultBase.image)!;
  return ref.includes('@') ? undefined : ctx.imageDigests?.get(ref);
}

/**
 * Whether a key against this base and digest can be one a build records. A
 * base environment named by its tag cannot: sync builds only on a base
 * environment's built image, by digest. A base image by tag can (as plan
 * --offline keys it, and as a build keys an image its registry says it
 * lacks), unless its registry could not be asked: then plan leaves the key
 * unknown.
 */
export function isResolved(base: ResolvedBase, config: Config, ctx: KeyContext | undefined, digest: string | undefined, env?: CheckedEnvironment): boolean {
  // An environment a stage copies from is, like a base environment, only ever built on by digest.
  if (env && stageEnvironments(env.spec).some((s) => !ctx || environmentDigest(ctx.ledger, s.environment, s.revision) === undefined)) return false;
  if (digest !== undefined) return true;
  if (base.kind === 'environment') return false;
  return !ctx?.unknownImages?.has(baseImageOf(base, config.defaultBase.image)!);
}

/** The digest of an environment's active (or pinned revision's) built image, as the ledger has it. */
export function environmentDigest(ledger: Ledger, environment: string, revision: number | 'active'): string | undefined {
  const entry = ledger.get(environment);
  return (revision === 'active' ? activeBuild(entry) : succeededBuild(entry?.builds ?? [], revision))?.digest;
}

/**
 * Render options naming `env`'s base by `digest`, or by its tag without one.
 * An environment a stage is built on is named as the ledger knows it now
 * (`ctx`), else by tag: a build records no digest of what it copied from, so
 * a past revision's key is shown against that environment's image today.
 */
export function baseOptions(env: CheckedEnvironment, config: Config, digest: string | undefined, ctx?: KeyContext): Pick<RenderOptions, 'resolveBase' | 'imageDigests'> {
  const base = baseOf(env.spec);
  const tag = tagResolver(config);
  const stage: BaseResolver = (name, revision) => {
    const found = ctx ? environmentDigest(ctx.ledger, name, revision) : undefined;
    return found ? `${imageName(config, name)}@${found}` : tag(name, revision);
  };
  if (digest === undefined) return { resolveBase: stage };
  if (base.kind === 'environment') {
    const own = base;
    return { resolveBase: (name, revision) => (name === own.environment && revision === own.revision ? `${imageName(config, name)}@${digest}` : stage(name, revision)) };
  }
  return { resolveBase: stage, imageDigests: new Map([[baseImageOf(base, config.defaultBase.image)!, digest]]) };
}

export interface ResolvedRender extends Rendered {
  /** False when FROM names a base environment by its tag (none of it built): a build will record another key. */
  keyResolved: boolean;
}

/** The work tree's environments rendered with their bases as the ledger (and registry) know them now, as plan does for the head. */
export function renderResolved(envs: CheckedEnvironment[], config: Config, ctx: KeyContext, names?: Set<string>): ResolvedRender[] {
  const all = new Map(envs.map((e) => [e.name, e]));
  return envs.filter((e) => !names || names.has(e.name)).map((e) => {
    const base = baseOf(e.spec);
    const digest = baseDigest(base, config, ctx);
    return { ...renderEnvironment(e, { config, all, ...baseOptions(e, config, digest, ctx) }), keyResolved: isResolved(base, config, ctx, digest, e) };
  });
}
