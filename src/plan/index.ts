/**
 * plan: the builds the ledger lacks for the branch head, in dependency
 * order (a base before what is built on it). Pure: the head's checked
 * environments, their latest revisions and the ledger come in as data.
 */
import type { CheckedEnvironment } from '../check/index.js';
import { activeBuild, isRetried, latestAttempts, succeededBuild, type BuildRecord, type Ledger } from '../ledger/model.js';
import type { Config } from '../model/config.js';
import { baseImageOf, baseOf, stageEnvironments } from '../model/spec.js';
import { imageName, imageTag, renderEnvironment } from '../render/index.js';
import type { Revision } from '../revisions/number.js';

export type BuildReason = 'new revision' | 'base changed' | 'shared context changed' | 'retry' | 'interrupted';

export interface PlannedBuild {
  environment: string;
  revision: number;
  commit: string;
  /** `reuse`: an earlier revision with the same content key built this image; tag it, build nothing. */
  action: 'build' | 'reuse';
  reason: BuildReason;
  /** Content key as far as it is known now; null while a base in this plan is still to be built. */
  contentKey: string | null;
  reuse?: { revision: number; digest: string };
  /** The image's tag (render/index.ts imageTag): the revision, with the environment's own platform after it. */
  tag: string;
  /** Environments in this plan that must finish first. */
  after: string[];
}

export interface Plan {
  builds: PlannedBuild[];
  /** Groups for a CI matrix: an environment and those built on it stay together, each in order. */
  groups: string[][];
}

export interface PlanInput {
  config: Config;
  /** Environments at the head that pass the schema. */
  environments: CheckedEnvironment[];
  /** Latest revision of each environment at the head. */
  latest: Map<string, Revision>;
  ledger: Ledger;
  /** Digests of default and custom base images, as the registry reports them now. */
  imageDigests?: Map<string, string>;
  /**
   * Base images whose registry could not be asked for a digest: the content
   * key of an environment on one is unknown (null) and nothing is reused for
   * it, since keying it by the tag would treat the image as absent.
   */
  unknownImages?: Set<string>;
}

export function planBuilds(input: PlanInput): Plan {
  const byName = new Map(input.environments.map((e) => [e.name, e]));
  const order = dependencyOrder(input.environments);
  const planned = new Map<string, PlannedBuild>();

  /** The digest a base environment's reference resolves to now, if built. */
  const digestOf = (name: string, revision: number | 'active'): string | undefined => {
    const ledger = input.ledger.get(name);
    return (revision === 'active' ? activeBuild(ledger) : succeededBuild(ledger?.builds ?? [], revision))?.digest;
  };

  for (const name of order) {
    const env = byName.get(name)!;
    const rev = input.latest.get(name);
    if (!rev) continue;
    const base = baseOf(env.spec);
    const baseName = base.kind === 'environment' ? base.environment : undefined;
    // A base planned for reuse already has its digest; only a base to be built is pending. A pin on the very
    // revision being planned (an imported history pins its bases so) waits for it as `active` does.
    const basePlanned = baseName !== undefined ? planned.get(baseName) : undefined;
    const basePlan = base.kind === 'environment' && basePlanned !== undefined && (base.revision === 'active' || base.revision === basePlanned.revision) ? basePlanned : undefined;
    const basePending = basePlan !== undefined && basePlan.action === 'build';
    const imageRef = baseImageOf(base, input.config.defaultBase.image);
    const baseDigest = basePlan?.action === 'reuse' ? basePlan.reuse!.digest
      : base.kind === 'environment' ? digestOf(base.environment, base.revision)
        : imageRef?.includes('@') ? imageRef.split('@')[1] : input.imageDigests?.get(imageRef!);
    const digestUnknown = imageRef !== undefined && !imageRef.includes('@') && input.unknownImages?.has(imageRef) === true;
    // Environments a stage copies from: like a base environment, by digest, the one being built first.
    const copied = stageEnvironments(env.spec).map((s) => {
      const p = s.revision === 'active' ? planned.get(s.environment) : undefined;
      return { ...s, pending: p?.action === 'build', digest: p?.action === 'reuse' ? p.reuse!.digest : p?.action === 'build' ? undefined : digestOf(s.environment, s.revision) };
    });
    const copyPending = copied.filter((c) => c.pending).map((c) => c.environment);
    const resolveBase = (b: string, revision: number | 'active') => {
      if (base.kind === 'environment' && b === base.environment && revision === base.revision) return `${imageName(input.config, b)}@${baseDigest}`;
      return `${imageName(input.config, b)}@${copied.find((c) => c.environment === b && c.revision === revision)!.digest}`;
    };
    const key = basePending || (base.kind === 'environment' && baseDigest === undefined) || digestUnknown || copied.some((c) => c.digest === undefined)
      ? null
      : renderEnvironment(env, {
        config: input.config, all: byName, resolveBase,
        ...(input.imageDigests ? { imageDigests: input.imageDigests } : {}),
      }).contentKey;

    const builds = input.ledger.get(name)?.builds ?? [];
    const last = latestAttempts(builds).get(rev.number);
    // A shared folder (`context:`) changed outside the environment's files: no new revision, but the
    // latest one's image is out of date, as when its base image moved (so the same revision is rebuilt).
    const sharedChanged = env.shared !== undefined && key !== null && last?.status === 'succeeded' && last.contentKey !== undefined && last.contentKey !== key;
    // What a stage copies from is in no field of the record but the key: a new image of it changes the key.
    const copiedChanged = copyPending.length > 0 || (copied.length > 0 && key !== null && last?.status === 'succeeded' && last.contentKey !== undefined && last.contentKey !== key);
    const reason = whyBuild(last, basePending || copiedChanged, baseDigest) ?? (sharedChanged ? 'shared context changed' : undefined);
    if (!reason) continue;
    const earlier = key === null ? undefined : builds.find((b) => b.status === 'succeeded' && b.contentKey === key && b.digest);
    const build: PlannedBuild = {
      environment: name, revision: rev.number, commit: rev.commit,
      action: earlier ? 'reuse' : 'build', reason, contentKey: key, tag: imageTag(rev.number, env.spec.platform, input.config),
      after: [...new Set([...(basePending ? [baseName!] : []), ...copyPending])],
    };
    if (earlier) build.reuse = { revision: earlier.revision, digest: earlier.digest! };
    planned.set(name, build);
  }
  const builds = order.filter((n) => planned.has(n)).map((n) => planned.get(n)!);
  return { builds, groups: groupsOf(builds) };
}

function whyBuild(last: BuildRecord | undefined, basePending: boolean, baseDigest: string | undefined): BuildReason | undefined {
  if (!last) return 'new revision';
  if (last.status === 'queued' || last.status === 'building') return 'interrupted';
  // Registry trouble, builds skipped because their base failed, and unexpected errors are worth another
  // try; a failing RUN is not (it fails the same way until the content changes). See FailureKind.
  if (isRetried(last)) return 'retry';
  if (basePending) return 'base changed';
  if (last.status === 'succeeded' && baseDigest !== undefined && last.baseDigest !== undefined && last.baseDigest !== baseDigest) return 'base changed';
  return undefined;
}

/** Bases first; ties by name, so the order is stable. */
export function dependencyOrder(envs: CheckedEnvironment[]): string[] {
  const byName = new Map(envs.map((e) => [e.name, e]));
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string) => {
    if (state.get(name)) return; // done, or a cycle (check reports those)
    state.set(name, 'visiting');
    const env = byName.get(name)!;
    const base = baseOf(env.spec);
    if (base.kind === 'environment' && byName.has(base.environment)) visit(base.environment);
    for (const s of stageEnvironments(env.spec)) if (byName.has(s.environment)) visit(s.environment);
    state.set(name, 'done');
    out.push(name);
  };
  for (const name of [...byName.keys()].sort()) visit(name);
  return out;
}

/** Connected parts of the base graph (stages' environments included) among planned builds, each in dependency order. */
function groupsOf(builds: PlannedBuild[]): string[][] {
  const parent = new Map(builds.map((b) => [b.environment, b.environment]));
  const find = (x: string): string => (parent.get(x) === x ? x : find(parent.get(x)!));
  for (const b of builds) for (const a of b.after) if (parent.has(a)) parent.set(find(b.environment), find(a));
  const groups = new Map<string, string[]>();
  for (const b of builds) {
    const root = find(b.environment);
    groups.set(root, [...(groups.get(root) ?? []), b.environment]);
  }
  return [...groups.values()];
}
