/**
 * sync: carry out the plan. For each planned build, bases first: tag the
 * earlier image when the content key was built before, otherwise render,
 * build and push; then run the image's tests (test-step.ts), and record
 * every result in one ledger commit. A failure is recorded with its reason
 * and log tail; the previous active revision stays active, and the other
 * environments still build. Claims (see
 * claims.ts) keep two syncs on one machine from building the same revision
 * and let a newer revision stop an older one's build.
 */
import { randomBytes } from 'node:crypto';
import { BuildCancelled, BuildFailed, chooseBuilder, type Builder } from '../builder/index.js';
import { recordBuilds } from '../git/ledger.js';
import { publishActive } from './publish.js';
import type { BuildRecord, Failure } from '../ledger/model.js';
import { EnvctlError, errorLine } from '../model/errors.js';
import { recordsByEnvironment, RESULTS_FORMAT, summaryOf } from '../ledger/results.js';
import type { Config } from '../model/config.js';
import type { PlannedBuild } from '../plan/index.js';
import { registryAccess } from '../registry/client.js';
import { ensureEmbeddedRegistry } from '../registry/embedded.js';
import { RegistryError, tagManifest } from '../registry/tag.js';
import { cacheRepository, imageName } from '../render/index.js';
import { checkBases } from './bases.js';
import { LocalStorage } from './storage.js';
import { buildStep, NoBaseImage } from './build-step.js';
import { testStep } from './test-step.js';
import { TestFailed } from '../builder/tests.js';
import type { StepContext, SyncOptions, SyncResult } from './types.js';
import { claimFor, release, supersededBy } from '../store/claims.js';
import { planRepository } from '../repository/plan.js';

export type { SyncEvent, SyncOptions, SyncResult } from './types.js';

export async function sync(root: string, config: Config, opts: SyncOptions = {}): Promise<SyncResult> {
  const progress = opts.progress ?? (() => undefined);
  // Started once, before planning: the plan asks it for base image digests and reuses it.
  const registry = config.registry.embedded ? await ensureEmbeddedRegistry(root, config.registry.embeddedPort) : undefined;
  const claimed: string[] = [];
  let local: LocalStorage | undefined;
  try {
    const planned = () => planRepository(root, config).then((p) => onlyGroups(p, opts.only));
    const { plan, missingImages } = await checkBases(root, config, await planned(), planned, opts.log ?? (() => undefined));
    const head = plan.head ?? null;
    // Published after the ledger holds the records, so a failure to publish never loses a build; a sync that
    // builds nothing still publishes (retries) what is active and not yet in the product.
    const publishing = async (): Promise<Pick<SyncResult, 'published'>> => {
      if (!config.publish || opts.record === false) return {};
      try {
        const published = await publishActive(root, config, { env: opts.env ?? process.env, ...(opts.only ? { only: opts.only } : {}) });
        return published.environments.length > 0 || published.notes.length > 0 ? { published } : {};
      } catch (err) {
        // The builds are recorded already; whatever stopped publishing must not stop the sync (its push among them).
        return { published: { environments: [], notes: [`publishing stopped: ${errorLine(err)}`], stopped: true } };
      }
    };
    if (plan.builds.length === 0) {
      const published = await publishing();
      const ledgerCommit = published.published?.ledgerCommit;
      return { head, builds: [], records: [], failed: 0, left: [], warnings: warningsFor(config), missingImages, ...published, ...(ledgerCommit ? { ledgerCommit } : {}) };
    }
    const done = new Map<string, BuildRecord>();
    const left = new Map<string, string>();
    // In dependency order: what another sync builds, it also builds on, so its dependents are left too;
    // what this sync took over from another, it takes with its dependents (theirs would only be skipped).
    const tookOver = new Set<string>();
    for (const step of plan.builds) {
      const leftBase = step.after.find((a) => left.has(a));
      if (leftBase) {
        left.set(step.environment, `its base ${leftBase} is being built by another sync`);
        continue;
      }
      const { holder, tookOver: from } = await claimFor(root, step.environment, step.revision, step.after.some((a) => tookOver.has(a)));
      if (from) tookOver.add(step.environment);
      if (!holder) {
        claimed.push(step.environment);
        progress({ environment: step.environment, revision: step.revision, state: 'queued', message: `queued (${step.reason})` });
      } else if (holder.revision > step.revision) {
        done.set(step.environment, cancelled(step, config, `superseded by revision ${holder.revision} (sync pid ${holder.pid})`));
      } else {
        left.set(step.environment, `being built by sync pid ${holder.pid}`);
      }
    }
    const toBuild = plan.builds.filter((b) => b.action === 'build' && claimed.includes(b.environment));
    const builder = toBuild.length > 0 ? await chooseBuilder(config.builder, config.buildx) : undefined;
    if (builder?.kind === 'buildah') {
      local = await LocalStorage.open(root, config, opts.prune === true);
      await local.removeLeftovers();
    }
    const stepWarnings: string[] = [];
    const ctx: StepContext = { root, config, plan, done, progress, access: registryAccess(config), ...(local ? { local } : {}), warn: (line) => stepWarnings.push(line) };
    const steps = new Map(plan.builds.map((b) => [b.environment, b]));

    const runStep = async (step: PlannedBuild): Promise<void> => {
      if (done.has(step.environment) || left.has(step.environment)) return;
      const record = await attempt(step, ctx, builder, opts.supersedePollMs ?? 1000);
      done.set(step.environment, record);
      if (local && step.action === 'build' && record.status === 'succeeded') {
        await local.pushed(record.image!, plan.builds.some((b) => !done.has(b.environment) && b.after.includes(step.environment)));
      }
      const message = record.status === 'succeeded' ? `succeeded ${record.digest}` : `${record.status}: ${record.reason}`;
      progress({ environment: step.environment, revision: step.revision, state: record.status, message });
    };

    // Groups share no environment, so up to `jobs` of them build at once; within a group, bases first.
    // (They may share buildah's cached steps: LocalStorage waits for running builds before it removes an image.)
    const queue = [...plan.groups];
    const worker = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        for (const name of group) await runStep(steps.get(name)!);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs ?? 1, queue.length)) }, worker));
    for (const [environment, why] of left) {
      progress({ environment, revision: steps.get(environment)!.revision, state: 'left', message: `left alone: ${why}` });
    }

    const recorded = plan.builds.filter((b) => done.has(b.environment));
    const all = recorded.map((b) => done.get(b.environment)!);
    const failed = all.filter((r) => r.status === 'failed').length;
    const builds = recorded.map((b, i) => ({ environment: b.environment, record: all[i]! }));
    const ledgerCommit = all.length === 0 || opts.record === false ? undefined
      : await recordBuilds(root, config.stateBranch, recordsByEnvironment([{ format: RESULTS_FORMAT, head, builds }]), { summary: summaryOf(all, head) });
    const storage = local ? await local.report(toBuild.flatMap((b) => [imageName(config, b.environment), cacheRepository(config, b.environment)])) : undefined;
    const published = await publishing();
    const lastCommit = published.published?.ledgerCommit ?? ledgerCommit;
    return {
      head, builds, records: all, failed, left: [...left.keys()], warnings: [...warningsFor(config), ...stepWarnings], missingImages,
      ...(lastCommit ? { ledgerCommit: lastCommit } : {}), ...(storage ? { storage } : {}), ...published,
    };
  } finally {
    // Claims go only after the ledger holds the results, so no other sync starts the same build meanwhile.
    await Promise.all(claimed.map((name) => release(root, name)));
    await registry?.stop();
  }
}

/** Said on every sync while envctl.yaml keeps RUN steps in a bare chroot. */
export const CHROOT_WARNING = 'isolation: chroot in envctl.yaml: RUN steps run in a bare chroot, which a step running as root can leave to read and write the host\'s files (the registry login among them); use isolation: oci';

function warningsFor(config: Config): string[] {
  return config.isolation === 'chroot' ? [CHROOT_WARNING] : [];
}

function newRecord(step: PlannedBuild, config: Config): BuildRecord {
  const startedAt = new Date().toISOString();
  return {
    id: `${step.revision}-${startedAt}-${randomBytes(3).toString('hex')}`,
    revision: step.revision, commit: step.commit, contentKey: step.contentKey ?? '', status: 'building', startedAt,
    image: `${imageName(config, step.environment)}:${step.tag}`,
  };
}

function cancelled(step: PlannedBuild, config: Config, reason: string): BuildRecord {
  const record = newRecord(step, config);
  return { ...record, status: 'cancelled', reason, failure: { kind: 'cancelled', code: 'build-cancelled' }, endedAt: record.startedAt };
}

/** The plan cut down to the groups holding the named environments (a group is never split). */
export function onlyGroups<P extends { builds: PlannedBuild[]; groups: string[][] }>(plan: P, only: string[] | undefined): P {
  if (!only) return plan;
  const groups = plan.groups.filter((g) => g.some((n) => only.includes(n)));
  const keep = new Set(groups.flat());
  return { ...plan, groups, builds: plan.builds.filter((b) => keep.has(b.environment)) };
}

const takenBy = (by: { revision: number; pid: number }, revision: number) =>
  by.revision > revision ? `superseded by revision ${by.revision} (sync pid ${by.pid})` : `taken over with its base by sync pid ${by.pid}`;

/** One planned build, start to end, as a finished record: succeeded, failed or cancelled. */
async function attempt(step: PlannedBuild, ctx: StepContext, builder: Builder | undefined, pollMs: number): Promise<BuildRecord> {
  const record = newRecord(step, ctx.config);
  const stop = new AbortController();
  const watch = setInterval(() => {
    void supersededBy(ctx.root, step.environment, step.revision).then((by) => {
      if (by) stop.abort(takenBy(by, step.revision));
    });
  }, pollMs);
  try {
    const by = await supersededBy(ctx.root, step.environment, step.revision);
    if (by) throw new BuildCancelled(takenBy(by, step.revision));
    const blockedBy = step.after.find((a) => ctx.done.get(a)?.status !== 'succeeded');
    if (blockedBy) throw new SkipError(blockedBy, ctx.done.get(blockedBy)?.failure?.kind === 'test');
    if (step.action === 'reuse') await reuse(step, ctx, record);
    else await buildStep(step, ctx, record, builder!, stop.signal);
    // Pushed (or tagged) is not yet active: the image's tests decide (test-step.ts).
    await testStep(step, ctx, record, stop.signal);
    record.status = 'succeeded';
  } catch (err) {
    const failed = failureOf(err, ctx.config);
    record.status = failed.failure.kind === 'cancelled' ? 'cancelled' : 'failed';
    record.reason = failed.failure.kind === 'cancelled' ? String(stop.signal.reason ?? failed.reason) : failed.reason;
    record.failure = failed.failure;
    if (err instanceof BuildFailed || err instanceof TestFailed) record.logTail = err.logTail;
  } finally {
    clearInterval(watch);
  }
  record.endedAt = new Date().toISOString();
  return record;
}

async function reuse(step: PlannedBuild, ctx: StepContext, record: BuildRecord): Promise<void> {
  ctx.progress({ environment: step.environment, revision: step.revision, state: 'reusing', message: `reusing revision ${step.reuse!.revision}'s image` });
  record.digest = await tagManifest(imageName(ctx.config, step.environment), step.reuse!.digest, step.tag, ctx.access);
  record.reusedFrom = step.reuse!.revision;
  record.builder = 'reused';
  const earlier = ctx.plan.ledger.get(step.environment)?.builds.find((b) => b.digest === step.reuse!.digest);
  if (earlier?.baseDigest) record.baseDigest = earlier.baseDigest;
  if (earlier?.size !== undefined) record.size = earlier.size;
  // The same image, so the same SBOM: its subject is this digest, found by the referrers API or its tag as it was.
  if (earlier?.sbom) record.sbom = earlier.sbom;
}

/**
 * A step's error → its failure as data and the one line for people, decided
 * here once by the error's type (never its words): see FailureKind. The
 * builder has already said whether a failed build was the registry's doing
 * (BuildFailed.trouble).
 */
export function failureOf(err: unknown, config: Config): { failure: Failure; reason: string } {
  const code = err instanceof EnvctlError ? { code: err.code } : {};
  if (err instanceof BuildCancelled) return { failure: { kind: 'cancelled', ...code }, reason: err.message };
  if (err instanceof SkipError || err instanceof NoBaseImage) return { failure: { kind: 'skipped', ...code }, reason: `skipped: ${err.message}` };
  // Built and pushed, but a test failed: the image's own doing, as a failing RUN is (not retried).
  if (err instanceof TestFailed) return { failure: { kind: 'test', ...code }, reason: err.message };
  if (err instanceof BuildFailed) {
    if (err.trouble === 'build') return { failure: { kind: 'build', ...code }, reason: err.message };
    // The builder's log does not say which registry; the one pushed to is named, as it is the one most often at fault.
    const host = `registry ${config.registry.address}`;
    return { failure: { kind: 'registry', ...code, host }, reason: `${host}: ${err.message}` };
  }
  if (err instanceof RegistryError) return { failure: { kind: 'registry', ...code, host: err.host! }, reason: errorLine(err) };
  // The spec itself cannot be built as it stands (it cannot be rendered): fails again until it changes.
  if (err instanceof EnvctlError && (err.kind === 'input' || err.kind === 'not-found')) return { failure: { kind: 'build', ...code }, reason: err.message };
  const host = err instanceof EnvctlError && err.host ? { host: err.host } : {};
  return { failure: { kind: 'unexpected', ...code, ...host }, reason: `error: ${errorLine(err)}` };
}

/** Not attempted: a base in this sync did not build. */
class SkipError extends EnvctlError {
  constructor(base: string, failedTests = false) {
    // A base that built but failed its tests has an image, just not one to stand on: said so, not "did not build".
    super('input', 'base-failed', `its base ${base} ${failedTests ? 'failed its image tests' : 'did not build'}`, { data: { base } });
  }
}
