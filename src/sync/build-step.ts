/** One environment's build: render with its base pinned by digest, lay out the context, build and push. */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Builder } from '../builder/index.js';
import { requireSecrets } from '../builder/secrets.js';
import type { CheckedEnvironment } from '../check/index.js';
import { replaceDir } from '../files/write.js';
import { activeBuild, succeededBuild, type BuildRecord, type BuildSbom } from '../ledger/model.js';
import { countPackages } from '../packages/index.js';
import { buildSbom } from '../packages/sbom.js';
import { readImageManifest, readImagePackages, type ImagePackages } from '../registry/layers.js';
import { localImagePackages, LocalImageUnreadable } from '../builder/image-files.js';
import { pushSbom } from '../registry/sbom.js';
import type { PlannedBuild } from '../plan/index.js';
import { imageSize } from '../registry/manifest.js';
import { RegistryError, resolveDigest } from '../registry/tag.js';
import { EnvctlError, errorLine } from '../model/errors.js';
import { buildArgValues } from '../model/spec.js';
import { cacheRepository, chainOf, imageName, renderEnvironment } from '../render/index.js';
import { writeLoginFile } from '../registry/auth.js';
import { markBuilding } from '../store/claims.js';
import type { StepContext } from './types.js';
import { statePaths } from '../store/paths.js';

/** The base environment has no built image to build on (not found, code `base-unbuilt`): the step is skipped. */
export class NoBaseImage extends EnvctlError {
  constructor(name: string) {
    super('not-found', 'base-unbuilt', `base environment ${name} has no built image`, { data: { base: name } });
  }
}

export async function buildStep(step: PlannedBuild, ctx: StepContext, record: BuildRecord, builder: Builder, signal: AbortSignal): Promise<void> {
  const { root, config } = ctx;
  const all = new Map(ctx.plan.environments.map((e) => [e.name, e]));
  const env = all.get(step.environment)!;
  // The base by digest: built in this sync (active or the pinned revision), or active (or pinned) in the ledger.
  const resolveBase = (name: string, revision: number | 'active'): string => {
    const now = ctx.done.get(name);
    const ledger = ctx.plan.ledger.get(name);
    const digest = revision === 'active'
      ? (now?.status === 'succeeded' ? now.digest : activeBuild(ledger)?.digest)
      // A pinned revision built in this very sync (an imported history pins its bases so) is not in the ledger yet.
      : (now?.status === 'succeeded' && now.revision === revision ? now.digest : succeededBuild(ledger?.builds ?? [], revision)?.digest);
    if (!digest) throw new NoBaseImage(name);
    return `${imageName(config, name)}@${digest}`;
  };
  const rendered = renderEnvironment(env, {
    config, all, resolveBase, imageDigests: ctx.plan.imageDigests,
    revision: { number: step.revision, commit: step.commit, created: record.startedAt },
  });
  record.contentKey = rendered.contentKey;
  // Before any build: a build secret's variable missing from this environment fails the step, naming the variable only.
  const secrets = buildSecretsOf(env);
  requireSecrets(step.environment, secrets);
  // A registry that cannot be asked throws its RegistryError here: the step fails as registry trouble
  // (retried), never recorded as built with no base digest. An image the registry says it lacks is left
  // to the builder, which may have it locally or will fail pulling it.
  const baseDigest = rendered.from.includes('@') ? rendered.from.split('@')[1] : await resolveDigest(rendered.from, ctx.access);
  if (baseDigest) record.baseDigest = baseDigest;
  const dir = await statePaths.build(root, step.environment); // checked: no link on the way (store/paths.ts)
  await replaceDir(dir, (d) => layOut(d, rendered.dockerfile, env));
  await mkdir(await statePaths.logs(root), { recursive: true });
  const log = await statePaths.log(root, step.environment, step.revision, record.startedAt);
  record.log = log.relative;
  record.builder = builder.version;
  await markBuilding(root, step.environment, step.revision);
  ctx.progress({ environment: step.environment, revision: step.revision, state: 'building', message: `building (${step.reason})` });
  const logFile = log.file;
  const login = await writeLoginFile(config.registry.address);
  try {
    const build = () => builder.buildAndPush({
      contextDir: join(dir, 'context'), dockerfile: join(dir, 'Dockerfile'), tag: record.image!, platform: env.spec.platform ?? config.platform,
      noCache: env.spec.noCache === true, isolation: config.isolation, insecure: config.registry.insecure, logFile, signal,
      // This environment's own (a base's are not inherited), each with the earlier ones substituted, as an ARG default is.
      ...(env.spec.buildArgs ? { buildArgs: buildArgValues(env.spec) } : {}),
      ...(ctx.local ? { storage: ctx.local.driver } : {}),
      ...(config.buildx.builder ? { buildxBuilder: config.buildx.builder } : {}),
      ...(config.cache.registry ? cacheOf(env, all, config) : {}),
      ...(login ? { authFile: login.file } : {}),
      ...(secrets.length > 0 ? { secrets } : {}),
    });
    record.digest = await (ctx.local ? ctx.local.building(step.environment, build) : build());
  } finally {
    await login?.remove();
  }
  // The size is a figure for the catalog; the image is pushed. A registry that does not answer about it now
  // leaves the record without one rather than failing a good build.
  const size = await imageSize(`${imageName(config, step.environment)}@${record.digest}`, { access: ctx.access, platform: env.spec.platform ?? config.platform })
    .catch((err: unknown) => {
      if (err instanceof RegistryError) return undefined;
      throw err;
    });
  if (size !== undefined) record.size = size;
  // Likewise the SBOM: packages that cannot be read, or an SBOM the registry does not take, leave the record without one.
  const image = imageName(config, step.environment);
  ctx.progress({ environment: step.environment, revision: step.revision, state: 'building', message: `pushed ${record.digest}; reading its packages for the SBOM` });
  try {
    const sbom = await imageSbom(image, record.digest, env.spec.platform ?? config.platform, ctx, signal, record.image!);
    if (sbom) record.sbom = sbom;
    else ctx.warn?.(`${step.environment}@${step.revision}: no SBOM: the registry does not have ${image}@${record.digest} just pushed`);
  } catch (err) {
    ctx.warn?.(`${step.environment}@${step.revision}: no SBOM: ${errorLine(err)}${err instanceof EnvctlError ? '' : ' (a bug in envctl; please report it)'}`);
  }
}

/**
 * The image's packages, read back from the registry (registry/layers.ts),
 * as a CycloneDX SBOM pushed beside it (registry/sbom.ts); what the record
 * keeps of it. Undefined when the registry does not have the image.
 */
async function imageSbom(image: string, digest: string, platform: string, ctx: StepContext, signal: AbortSignal, tag: string): Promise<BuildSbom | undefined> {
  const read = await packagesAfterBuild(`${image}@${digest}`, tag, platform, ctx, signal);
  if (!read) return undefined;
  const created = new Date().toISOString();
  const text = buildSbom(read.packages, { image, digest, timestamp: created, ...(read.distro ? { distro: read.distro } : {}) });
  const pushed = await pushSbom(image, read.subject, text, ctx.access, { created, signal });
  return { digest: pushed.digest, packages: { ...countPackages(read.packages) } as Record<string, number> };
}

/**
 * The packages of the image just built: from buildah's local storage, where
 * it still is unpacked (builder/image-files.ts: no download, no gunzip),
 * with only its manifest asked of the registry (the SBOM's subject); from
 * its layers in the registry where local storage cannot say (docker buildx,
 * or an image buildah cannot mount).
 */
async function packagesAfterBuild(ref: string, tag: string, platform: string, ctx: StepContext, signal: AbortSignal): Promise<ImagePackages | undefined> {
  if (ctx.local) {
    try {
      const local = await localImagePackages(tag, { storage: ctx.local.driver, signal });
      const manifest = await readImageManifest(ref, { access: ctx.access, platform, signal });
      return manifest ? { ...local, subject: manifest.subject, layers: manifest.layers.length } : undefined;
    } catch (err) {
      if (!(err instanceof LocalImageUnreadable)) throw err;
      // Said, so a runner where buildah cannot mount does not pay the registry read on every build unknowingly.
      ctx.warn?.(`${tag}: packages read from the registry's layers: ${errorLine(err)}`);
    }
  }
  return readImagePackages(ref, { access: ctx.access, platform, signal });
}

/**
 * Its own cache repository first, then its bases' (nearest first): a
 * rebuilt base's layers are what a child starts from. Written to its own.
 */
export function cacheOf(env: CheckedEnvironment, all: Map<string, CheckedEnvironment>, config: StepContext['config']): { cacheFrom: string[]; cacheTo: string } {
  const own = cacheRepository(config, env.name);
  return { cacheFrom: [own, ...chainOf(env, all).map((b) => cacheRepository(config, b.name))], cacheTo: own };
}

/** An environment's build secrets as the builder takes them: each id and the variable it is read from. */
export function buildSecretsOf(env: CheckedEnvironment): { id: string; env: string }[] {
  return Object.entries(env.spec.buildSecrets ?? {}).map(([id, s]) => ({ id, env: s.env }));
}

export async function layOut(d: string, dockerfile: string, env: CheckedEnvironment): Promise<void> {
  await writeFile(join(d, 'Dockerfile'), dockerfile);
  await mkdir(join(d, 'context'), { recursive: true });
  // The environment folder's files at their path in it, shared folders' (`context:`) at their repository path.
  const files = [...env.context.map((f) => ({ f, rel: f.path.slice((env.folder ?? '').length + 1) })), ...(env.shared ?? []).map((f) => ({ f, rel: f.path }))];
  for (const { f, rel } of files) {
    const path = join(d, 'context', rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.bytes);
    if (f.executable) await chmod(path, 0o755);
  }
}
