/**
 * A review build: the plan's builds made here, in a pull request, without
 * pushing anything or writing the ledger, so a read-only token (and a
 * fork's) is enough. Bases first; an environment built on one built here
 * builds FROM that local image. Each image goes to an OCI image layout
 * under `.envctl/review/` (where its size is read, and its packages), and
 * the registry's layer cache is read, never written. What each build found
 * is plain data (plan/review-builds.ts ReviewBuild) for the plan comment;
 * a build that fails makes the check fail.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildFailed, BuilderUnavailable, chooseBuilder, type Builder } from '../builder/index.js';
import { TestFailed } from '../builder/tests.js';
import { BuildSecretMissing, requireSecrets } from '../builder/secrets.js';
import { replaceDir } from '../files/write.js';
import { activeBuild, succeededBuild, type BuildRecord } from '../ledger/model.js';
import { diffPackages, type InstalledPackage } from '../packages/index.js';
import { readLayoutPackages } from '../registry/layers.js';
import { localImagePackages, LocalImageUnreadable } from '../builder/image-files.js';
import { packagesOfBuild } from '../repository/packages.js';
import type { Config } from '../model/config.js';
import { EnvctlError } from '../model/errors.js';
import { buildArgValues } from '../model/spec.js';
import type { PlannedBuild } from '../plan/index.js';
import { REVIEW_BUILDS_FORMAT, type ReviewBuild } from '../plan/review-builds.js';

export { REVIEW_BUILDS_FORMAT };
import { writeLoginFile } from '../registry/auth.js';
import { registryAccess } from '../registry/client.js';
import { ensureEmbeddedRegistry } from '../registry/embedded.js';
import { imageName, renderEnvironment } from '../render/index.js';
import { planRepository } from '../repository/plan.js';
import { reviewRepository } from '../repository/review.js';
import { statePaths } from '../store/paths.js';
import { buildSecretsOf, cacheOf, layOut, NoBaseImage } from './build-step.js';
import { failureOf, onlyGroups } from './index.js';
import { LocalStorage } from './storage.js';
import { testStep } from './test-step.js';
import type { SyncEvent } from './types.js';


export interface ReviewBuildsFile {
  format: typeof REVIEW_BUILDS_FORMAT;
  /** The commit built (the pull request's merge commit), when known. */
  head: string | null;
  builds: ReviewBuild[];
}

export interface ReviewBuildOptions {
  /** What to build: a branch or commit; default HEAD, the checkout. */
  branch?: string;
  /** Only the groups holding these environments (as sync --only). */
  only?: string[];
  /**
   * The branch the change merges into: only the environments the change
   * touches and those that rebuild on them are built, not what the target
   * itself still lacks (its own retries, its unsynced revisions).
   */
  base?: string;
  progress?: (event: SyncEvent) => void;
}

export interface ReviewBuildResult extends ReviewBuildsFile {
  failed: number;
}

/** The local name of an environment's review image: `localhost/` names are never pulled or pushed. */
export const reviewTag = (environment: string, tag: string): string => `localhost/envctl-review/${environment}:${tag}`;

export async function reviewBuild(root: string, config: Config, opts: ReviewBuildOptions = {}): Promise<ReviewBuildResult> {
  const progress = opts.progress ?? (() => undefined);
  // The plan asks the registry for base digests; the embedded one is started for it, as sync does.
  const registry = config.registry.embedded ? await ensureEmbeddedRegistry(root, config.registry.embeddedPort) : undefined;
  try {
    // The checkout as it is: a pull request's merge commit, detached, is what merging makes main.
    const full = await planRepository(root, config, opts.branch ?? 'HEAD');
    let keep = opts.only ? new Set(onlyGroups(full, opts.only).groups.flat()) : undefined;
    if (opts.base !== undefined) {
      const review = await reviewRepository(root, { target: opts.base, offline: true });
      const touched = new Set(review.environments.flatMap((e) => [e.environment, ...e.rebuilds]));
      keep = new Set([...(keep ?? touched)].filter((n) => touched.has(n)));
    }
    const plan = keep ? { ...full, builds: full.builds.filter((b) => keep!.has(b.environment)) } : full;
    const head = plan.head ?? null;
    if (plan.builds.length === 0) return { format: REVIEW_BUILDS_FORMAT, head, builds: [], failed: 0 };
    const builder = plan.builds.some((b) => b.action === 'build') ? await chooseBuilder(config.builder, config.buildx) : undefined;
    if (builder && builder.kind !== 'buildah') throw new BuilderUnavailable('a review build needs buildah: docker buildx keeps its images to itself, where envctl cannot read their packages');
    const local = builder ? await LocalStorage.open(root, config, false) : undefined;
    const ctx: ReviewContext = { root, config, plan, built: new Map(), local, access: registryAccess(config), progress };
    const builds: ReviewBuild[] = [];
    for (const step of plan.builds) {
      progress({ environment: step.environment, revision: step.revision, state: 'building', message: `review build (${step.reason})` });
      const build = await reviewStep(step, ctx, builder);
      builds.push(build);
      progress({ environment: step.environment, revision: step.revision, state: build.status, message: build.status === 'succeeded' ? 'built in review' : `failed: ${build.reason}` });
    }
    // What could not be built here (a build secret) is said, but does not fail the check.
    return { format: REVIEW_BUILDS_FORMAT, head, builds, failed: builds.filter((b) => b.status === 'failed' && b.failure?.kind !== 'unbuildable').length };
  } finally {
    await registry?.stop();
  }
}

interface ReviewContext {
  root: string;
  config: Config;
  plan: Awaited<ReturnType<typeof planRepository>>;
  /** Environments built in this review → their image (local name, or a reused digest) and revision, or null when their build failed. */
  built: Map<string, { image: string; revision: number } | null>;
  local: LocalStorage | undefined;
  access: ReturnType<typeof registryAccess>;
  progress: (event: SyncEvent) => void;
}

async function reviewStep(step: PlannedBuild, ctx: ReviewContext, builder: Builder | undefined): Promise<ReviewBuild> {
  const ledger = ctx.plan.ledger.get(step.environment);
  const active = activeBuild(ledger);
  const out: ReviewBuild = {
    environment: step.environment, revision: step.revision, status: 'succeeded',
    ...(active ? { active: { revision: active.revision, ...(active.size !== undefined ? { size: active.size } : {}) } } : {}),
  };
  const failedBase = step.after.find((a) => ctx.built.get(a) === null);
  if (failedBase) {
    ctx.built.set(step.environment, null);
    return { ...out, status: 'failed', failure: { kind: 'skipped' }, reason: `its base ${failedBase} did not build` };
  }
  const image = step.action === 'reuse' ? `${imageName(ctx.config, step.environment)}@${step.reuse!.digest}` : reviewTag(step.environment, step.tag);
  try {
    let size: number | undefined;
    let packages: InstalledPackage[] | undefined;
    if (step.action === 'reuse') {
      // The same build inputs as a revision already built: its image is this one, nothing to build.
      const earlier = succeededBuild(ledger?.builds ?? [], step.reuse!.revision);
      size = earlier?.size;
      packages = earlier ? await packagesOf(ctx, step.environment, earlier) : undefined;
    } else {
      const built = await buildHere(step, ctx, builder!);
      size = built.size;
      packages = built.packages;
    }
    // The image's tests and its tools' checks, as sync runs them before a revision may become active.
    await testStep(step, stepContext(ctx), reviewRecord(step), new AbortController().signal, image);
    ctx.built.set(step.environment, { image, revision: step.revision });
    const before = active ? (active.revision === step.reuse?.revision ? packages : await packagesOf(ctx, step.environment, active)) : [];
    return {
      ...out, ...(size !== undefined ? { size } : {}),
      ...(packages !== undefined && before !== undefined ? { packages: diffPackages(before, packages) } : {}),
    };
  } catch (err) {
    ctx.built.set(step.environment, null);
    // A pull request is given no secrets (a fork's must not be): an environment that needs one cannot be built here.
    if (err instanceof BuildSecretMissing) return { ...out, status: 'failed', failure: { kind: 'unbuildable' }, reason: `needs the build secret ${String(err.data?.secret)} (variable ${String(err.data?.variable)}), which a pull request is not given` };
    const { failure, reason } = failureOf(err, ctx.config);
    const tail = err instanceof BuildFailed || err instanceof TestFailed ? { logTail: err.logTail } : {};
    return { ...out, status: 'failed', failure: { kind: failure.kind }, reason, ...tail };
  }
}

/** A built revision's packages from its SBOM or layers; undefined when the registry cannot say (the comment then has no package diff). */
async function packagesOf(ctx: ReviewContext, environment: string, build: BuildRecord): Promise<InstalledPackage[] | undefined> {
  return packagesOfBuild(ctx.config, environment, build, ctx.access).then((p) => p.packages, () => undefined);
}

/** What sync's test step needs of a sync, for a review (nothing recorded, nothing claimed). */
function stepContext(ctx: ReviewContext): Parameters<typeof testStep>[1] {
  return { root: ctx.root, config: ctx.config, plan: ctx.plan, done: new Map(), progress: ctx.progress, access: ctx.access, ...(ctx.local ? { local: ctx.local } : {}) };
}

/** A record for the test step's log; never written to the ledger. */
function reviewRecord(step: PlannedBuild): BuildRecord {
  const startedAt = new Date().toISOString();
  return { id: `review-${step.revision}-${startedAt}`, revision: step.revision, commit: step.commit, contentKey: step.contentKey ?? '', status: 'building', startedAt };
}

/** Render with bases resolved (built here: the local image; else the active or pinned digest), build, write the OCI layout. */
async function buildHere(step: PlannedBuild, ctx: ReviewContext, builder: Builder): Promise<{ size?: number; packages?: InstalledPackage[] }> {
  const { root, config } = ctx;
  const all = new Map(ctx.plan.environments.map((e) => [e.name, e]));
  const env = all.get(step.environment)!;
  const resolveBase = (name: string, revision: number | 'active'): string => {
    const here = ctx.built.get(name);
    // Built here: what the change makes active, and the revision a pin names when it is this one (imported histories pin so).
    if (here && (revision === 'active' || revision === here.revision)) return here.image;
    const ledger = ctx.plan.ledger.get(name);
    const digest = revision === 'active' ? activeBuild(ledger)?.digest : succeededBuild(ledger?.builds ?? [], revision)?.digest;
    if (!digest) throw new NoBaseImage(name);
    return `${imageName(config, name)}@${digest}`;
  };
  const rendered = renderEnvironment(env, {
    config, all, resolveBase, imageDigests: ctx.plan.imageDigests,
    revision: { number: step.revision, commit: step.commit, created: new Date().toISOString() },
  });
  const secrets = buildSecretsOf(env);
  requireSecrets(step.environment, secrets);
  const dir = await statePaths.build(root, step.environment);
  await replaceDir(dir, (d) => layOut(d, rendered.dockerfile, env));
  await mkdir(await statePaths.logs(root), { recursive: true });
  const log = await statePaths.log(root, step.environment, step.revision, new Date().toISOString());
  const layout = await statePaths.review(root, step.environment); // checked: no link on the way (store/paths.ts)
  // One image per layout: an earlier review's blobs would only pile up.
  await rm(layout, { recursive: true, force: true });
  await mkdir(layout, { recursive: true });
  const tag = reviewTag(step.environment, step.tag);
  // The registry's login for pulling bases and reading the cache (a private registry's read-only token), as sync passes it.
  const login = await writeLoginFile(config.registry.address);
  const build = () => builder.buildAndPush({
    contextDir: join(dir, 'context'), dockerfile: join(dir, 'Dockerfile'), tag, platform: env.spec.platform ?? config.platform,
    noCache: env.spec.noCache === true, isolation: config.isolation, insecure: config.registry.insecure, logFile: log.file,
    destination: `oci:${layout}:${step.tag}`,
    ...(env.spec.buildArgs ? { buildArgs: buildArgValues(env.spec) } : {}),
    ...(ctx.local ? { storage: ctx.local.driver } : {}),
    // Main's layers are read, never written: the review's token may not write, and a review must not change main's cache.
    ...(config.cache.registry && !env.spec.noCache ? { cacheFrom: cacheOf(env, all, config).cacheFrom } : {}),
    ...(secrets.length > 0 ? { secrets } : {}),
    ...(login ? { authFile: login.file } : {}),
  });
  // Noted as sync's builds are, so a review killed mid-build leaves nothing the next sync does not remove.
  try {
    await (ctx.local ? ctx.local.building(step.environment, build) : build());
  } finally {
    await login?.remove();
  }
  const platform = env.spec.platform ?? config.platform;
  // Packages unreadable (an image past the metadata limits) leave the comment without a diff, not the build failed.
  // From local storage, unpacked (builder/image-files.ts); from the layout's layers where buildah cannot mount it.
  const fromLayout = () => readLayoutPackages(layout, { platform, name: step.tag });
  const read = await (ctx.local
    ? localImagePackages(tag, { storage: ctx.local.driver }).catch((err: unknown) => (err instanceof LocalImageUnreadable ? fromLayout() : Promise.reject(err)))
    : fromLayout()).catch(() => undefined);
  // The size is a figure for the comment: a layout it cannot be read from leaves it out, not the build failed.
  const size = await layoutSize(layout, step.tag).catch(() => undefined);
  return { ...(size !== undefined ? { size } : {}), ...(read ? { packages: read.packages } : {}) };
}

interface Descriptor { digest: string; size: number; annotations?: Record<string, string> }

/** Compressed bytes of the image tagged `tag` in an OCI layout (config and layers), as imageSize counts a pushed one. */
export async function layoutSize(layout: string, tag: string): Promise<number> {
  const blob = async <T>(digest: string): Promise<T> => JSON.parse(await readFile(join(layout, 'blobs', ...digest.split(':')), 'utf8')) as T;
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag) ?? index.manifests.at(-1);
  if (!entry) throw new EnvctlError('external', 'review-layout-missing', `the review image ${tag} is not in ${layout}`, { host: 'buildah' });
  const manifest = await blob<{ config: Descriptor; layers: Descriptor[] }>(entry.digest);
  return manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
}
