/** One environment's build: render with its base pinned by digest, lay out the context, build and push. */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Builder } from '../builder/index.js';
import type { CheckedEnvironment } from '../check/index.js';
import { replaceDir } from '../files/write.js';
import { activeBuild, succeededBuild, type BuildRecord } from '../ledger/model.js';
import type { PlannedBuild } from '../plan/index.js';
import { imageSize } from '../registry/manifest.js';
import { resolveDigest } from '../registry/tag.js';
import { imageName, renderEnvironment } from '../render/index.js';
import { markBuilding } from '../store/claims.js';
import type { StepContext } from './types.js';
import { statePaths } from '../store/paths.js';

export class NoBaseImage extends Error {}

export async function buildStep(step: PlannedBuild, ctx: StepContext, record: BuildRecord, builder: Builder, signal: AbortSignal): Promise<void> {
  const { root, config } = ctx;
  const env = ctx.plan.environments.find((e) => e.name === step.environment)!;
  // The base by digest: built in this sync, or active (or pinned) in the ledger.
  const resolveBase = (name: string, revision: number | 'active'): string => {
    const now = ctx.done.get(name);
    const ledger = ctx.plan.ledger.get(name);
    const digest = revision === 'active'
      ? (now?.status === 'succeeded' ? now.digest : activeBuild(ledger)?.digest)
      : succeededBuild(ledger?.builds ?? [], revision)?.digest;
    if (!digest) throw new NoBaseImage(`base environment ${name} has no built image`);
    return `${imageName(config, name)}@${digest}`;
  };
  const rendered = renderEnvironment(env, {
    config, all: new Map(ctx.plan.environments.map((e) => [e.name, e])), resolveBase, imageDigests: ctx.plan.imageDigests,
    revision: { number: step.revision, commit: step.commit, created: record.startedAt },
  });
  record.contentKey = rendered.contentKey;
  record.baseDigest = rendered.from.includes('@') ? rendered.from.split('@')[1] : await resolveDigest(rendered.from, ctx.access);
  const dir = statePaths.build(root, step.environment);
  await replaceDir(dir, (d) => layOut(d, rendered.dockerfile, env));
  await mkdir(statePaths.logs(root), { recursive: true });
  record.log = statePaths.log(step.environment, step.revision, record.startedAt);
  record.builder = builder.version;
  await markBuilding(root, step.environment, step.revision);
  ctx.progress({ environment: step.environment, revision: step.revision, state: 'building', message: `building (${step.reason})` });
  record.digest = await builder.buildAndPush({
    contextDir: join(dir, 'context'), dockerfile: join(dir, 'Dockerfile'), tag: record.image!, platform: config.platform,
    noCache: env.spec.noCache === true, insecure: config.registry.insecure, logFile: join(root, record.log), signal,
    ...(ctx.authFile ? { authFile: ctx.authFile } : {}),
  });
  const size = await imageSize(`${imageName(config, step.environment)}@${record.digest}`, { access: ctx.access, platform: config.platform });
  if (size !== undefined) record.size = size;
}

async function layOut(d: string, dockerfile: string, env: CheckedEnvironment): Promise<void> {
  await writeFile(join(d, 'Dockerfile'), dockerfile);
  await mkdir(join(d, 'context'), { recursive: true });
  for (const f of env.context) {
    const path = join(d, 'context', f.path.slice((env.folder ?? '').length + 1));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.bytes);
    if (f.executable) await chmod(path, 0o755);
  }
}
