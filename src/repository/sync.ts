/**
 * sync: carry out the plan. For each planned build, bases first: tag the
 * earlier image when the content key was built before, otherwise render,
 * build and push with buildah; then record every result in one ledger
 * commit. A failure is recorded with its reason and log tail; the previous
 * active revision stays active, and the other environments still build.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BuildFailed, buildahVersion, buildAndPush } from '../builder/buildah.js';
import type { CheckedEnvironment } from '../check/index.js';
import { replaceDir } from '../files/write.js';
import { recordBuilds } from '../git/ledger.js';
import { activeBuild, succeededBuild, type BuildRecord } from '../ledger/model.js';
import type { Config } from '../model/config.js';
import type { PlannedBuild } from '../plan/index.js';
import { ensureEmbeddedRegistry } from '../registry/embedded.js';
import { RegistryError, resolveDigest, tagManifest } from '../registry/tag.js';
import { imageName, renderEnvironment } from '../render/index.js';
import { planRepository } from './plan.js';

export interface SyncEvent {
  environment: string;
  revision: number;
  message: string;
}

export interface SyncResult {
  records: BuildRecord[];
  /** The ledger commit, when anything was recorded. */
  ledgerCommit?: string;
  failed: number;
}

export interface SyncOptions {
  /** Independent groups (an environment and those built on it) built at once. */
  jobs?: number;
  progress?: (e: SyncEvent) => void;
}

export async function sync(root: string, config: Config, opts: SyncOptions = {}): Promise<SyncResult> {
  const progress = opts.progress ?? (() => undefined);
  // Started once, before planning: the plan asks it for base image digests and reuses it.
  const registry = config.registry.embedded ? await ensureEmbeddedRegistry(root, config.registry.embeddedPort) : undefined;
  try {
    const plan = await planRepository(root, config);
    if (plan.builds.length === 0) return { records: [], failed: 0 };
    const byName = new Map(plan.environments.map((e) => [e.name, e]));
    const builder = plan.builds.some((b) => b.action === 'build') ? await buildahVersion() : 'reused';
    const done = new Map<string, BuildRecord>();
    const steps = new Map(plan.builds.map((b) => [b.environment, b]));

    const runStep = async (step: PlannedBuild): Promise<void> => {
      const startedAt = new Date().toISOString();
      const record: BuildRecord = {
        id: `${step.revision}-${startedAt}-${randomBytes(3).toString('hex')}`,
        revision: step.revision, commit: step.commit, contentKey: step.contentKey ?? '', status: 'building', startedAt,
        image: `${imageName(config, step.environment)}:${step.revision}`,
      };
      const blockedBy = step.after.find((a) => done.get(a)?.status !== 'succeeded');
      try {
        if (blockedBy) throw new SkipError(`its base ${blockedBy} did not build`);
        if (step.action === 'reuse') {
          progress({ environment: step.environment, revision: step.revision, message: `reusing revision ${step.reuse!.revision}'s image` });
          record.digest = await tagManifest(imageName(config, step.environment), step.reuse!.digest, String(step.revision), config.registry.insecure);
          record.reusedFrom = step.reuse!.revision;
          record.builder = 'reused';
          const earlier = plan.ledger.get(step.environment)?.builds.find((b) => b.digest === step.reuse!.digest);
          if (earlier?.baseDigest) record.baseDigest = earlier.baseDigest;
        } else {
          await build(root, config, step, byName.get(step.environment)!, record, { done, plan, builder, progress });
        }
        record.status = 'succeeded';
        progress({ environment: step.environment, revision: step.revision, message: `succeeded ${record.digest}` });
      } catch (err) {
        record.status = 'failed';
        record.reason = failureReason(err, config);
        if (err instanceof BuildFailed) record.logTail = err.logTail;
        progress({ environment: step.environment, revision: step.revision, message: `failed: ${record.reason}` });
      }
      record.endedAt = new Date().toISOString();
      done.set(step.environment, record);
    };

    // Groups share nothing, so up to `jobs` of them build at once; within a group, bases first.
    const queue = [...plan.groups];
    const worker = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        for (const name of group) await runStep(steps.get(name)!);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs ?? 1, queue.length)) }, worker));

    const all = plan.builds.map((b) => done.get(b.environment)!);
    const records = new Map(all.map((r, i) => [plan.builds[i]!.environment, [r]]));
    const failed = all.filter((r) => r.status === 'failed').length;
    const ledgerCommit = await recordBuilds(root, config.stateBranch, records, {
      summary: `envctl sync: ${all.length - failed} built or reused, ${failed} failed (${plan.head?.slice(0, 12) ?? 'no head'})`,
    });
    return { records: all, ledgerCommit, failed };
  } finally {
    await registry?.stop();
  }
}

/** One line on why a step failed; reasons starting with "registry" or "skipped" are retried by the next sync. */
function failureReason(err: unknown, config: Config): string {
  if (err instanceof SkipError) return `skipped: ${err.message}`;
  if (err instanceof BuildFailed) return err.stage === 'push' ? `registry ${config.registry.address}: ${err.message}` : err.message;
  if (err instanceof RegistryError) return `registry ${config.registry.address}: ${err.message}`;
  return `error: ${(err as Error).message}`;
}

class SkipError extends Error {}

interface BuildContext {
  done: Map<string, BuildRecord>;
  plan: Awaited<ReturnType<typeof planRepository>>;
  builder: string;
  progress: (e: SyncEvent) => void;
}

async function build(root: string, config: Config, step: PlannedBuild, env: CheckedEnvironment, record: BuildRecord, ctx: BuildContext): Promise<void> {
  // The base by digest: built in this sync, or active (or pinned) in the ledger.
  const resolveBase = (name: string, revision: number | 'active'): string => {
    const now = ctx.done.get(name);
    const ledger = ctx.plan.ledger.get(name);
    const digest = revision === 'active'
      ? (now?.status === 'succeeded' ? now.digest : activeBuild(ledger)?.digest)
      : succeededBuild(ledger?.builds ?? [], revision)?.digest;
    if (!digest) throw new SkipError(`base environment ${name} has no built image`);
    return `${imageName(config, name)}@${digest}`;
  };
  const rendered = renderEnvironment(env, {
    config, all: new Map(ctx.plan.environments.map((e) => [e.name, e])), resolveBase, imageDigests: ctx.plan.imageDigests,
    revision: { number: step.revision, commit: step.commit, created: record.startedAt },
  });
  record.contentKey = rendered.contentKey;
  record.baseDigest = rendered.from.includes('@') ? rendered.from.split('@')[1] : await resolveDigest(rendered.from, config.registry.insecure);
  const dir = join(root, '.envctl', 'build', step.environment);
  await replaceDir(dir, async (d) => {
    await writeFile(join(d, 'Dockerfile'), rendered.dockerfile);
    for (const f of env.context) {
      const path = join(d, 'context', f.path.slice((env.folder ?? '').length + 1));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, f.bytes);
      if (f.executable) await chmod(path, 0o755);
    }
    await mkdir(join(d, 'context'), { recursive: true });
  });
  const logDir = join(root, '.envctl', 'logs');
  await mkdir(logDir, { recursive: true });
  record.log = join('.envctl', 'logs', `${step.environment}-${step.revision}-${record.startedAt.replace(/[:.]/g, '')}.log`);
  record.builder = ctx.builder;
  ctx.progress({ environment: step.environment, revision: step.revision, message: `building (${step.reason})` });
  record.digest = await buildAndPush({
    contextDir: join(dir, 'context'), dockerfile: join(dir, 'Dockerfile'), tag: record.image!,
    noCache: env.spec.noCache === true, insecure: config.registry.insecure, logFile: join(root, record.log),
  });
}
