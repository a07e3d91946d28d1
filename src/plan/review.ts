/**
 * The review of a change (a pull request): what merging it into the target
 * branch would do to each environment it touches. Pure: both sides'
 * checked environments, the target's revisions and the ledger come in as
 * data. Per changed environment: the revision it becomes, the spec and
 * rendered Dockerfile diffs, the layer count against the limit, its
 * problems, whether its build reuses an identical earlier image, and the
 * environments built on it that will rebuild.
 */
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import type { CheckedEnvironment } from '../check/index.js';
import type { Ledger } from '../ledger/model.js';
import type { Config } from '../model/config.js';
import { errorCount, type Problem } from '../model/problem.js';
import { baseOf } from '../model/spec.js';
import { renderEnvironment, tagResolver } from '../render/index.js';
import type { Revision } from '../revisions/number.js';
import { environmentOf, type Consumer, type ConsumerKind } from '../model/project.js';
import { planBuilds, type PlannedBuild } from './index.js';
import type { ReviewBuild } from './review-builds.js';

export interface ReviewSide {
  /** What the side is called in diffs: a branch, `HEAD`, `working tree`. */
  label: string;
  environments: CheckedEnvironment[];
  /** Each environment's spec text. */
  texts: Map<string, string>;
}

export interface ReviewInput {
  config: Config;
  target: ReviewSide & {
    /** Every revision on the target branch (deleted environments included: re-creation continues their numbers). */
    revisions: Revision[];
  };
  change: ReviewSide & { problems: Problem[] };
  ledger: Ledger;
  imageDigests?: Map<string, string>;
  /** Base images whose registry could not be asked (see PlanInput.unknownImages). */
  unknownImages?: Set<string>;
  /** The change's projects, models and data sets: who each changed environment reaches. */
  consumers?: Consumer[];
  /** The commit the change was planned at (a pull request's head), when known. */
  head?: string;
}

/** A project, model or data set a change reaches, through the environment it uses. */
export interface Reached {
  kind: ConsumerKind;
  name: string;
  owner: string;
  /** The environment it uses: the changed one or one that rebuilds because of it. */
  environment: string;
  /** The revision it is pinned to (its image does not move), or null: it follows the active revision. */
  pinned: number | null;
}

export interface EnvironmentReview {
  environment: string;
  change: 'added' | 'changed' | 'removed';
  /** The revision merging makes (null when removed). */
  revision: number | null;
  previousRevision: number | null;
  /** `build`, `reuse` (an identical earlier build's image is tagged), or null: nothing to build. */
  build: { action: 'build' | 'reuse'; contentKey: string | null; reusedRevision?: number } | null;
  /** `atLeast`: only when `total` is unknown (a base image's count is), the lower bound check/layers.ts checked against the limit. */
  layers: { total: number | null; limit: number; atLeast?: number };
  problems: Problem[];
  /** Environments built on this one's active revision that rebuild after it. */
  rebuilds: string[];
  /** Consumers of this environment and of every one in `rebuilds`, by environment (this one first), then kind and name. */
  reaches: Reached[];
  specDiff: string;
  /** Empty when nothing rendered differs, or when the change cannot be rendered (see `rendered`). */
  dockerfileDiff: string;
  /** False when the changed spec cannot be rendered until its problems are fixed. */
  rendered: boolean;
}

export interface Review {
  target: string;
  change: string;
  environments: EnvironmentReview[];
  /** Problems in the change that are not in any one environment (envctl.yaml, unknown files). */
  otherProblems: Problem[];
  errors: number;
  /** The commit the change was planned at, when known. */
  head?: string;
  /** What building the change in review found (status, size, packages), when it was built. */
  builds?: ReviewBuild[];
}

export function reviewChange(input: ReviewInput): Review {
  const { target, change, config } = input;
  const before = new Map(target.environments.map((e) => [e.name, e]));
  const after = new Map(change.environments.map((e) => [e.name, e]));
  const names = [...new Set([...before.keys(), ...after.keys(), ...target.texts.keys(), ...change.texts.keys()])].sort();
  const changed = names.filter((n) => fingerprint(before.get(n), target.texts.get(n)) !== fingerprint(after.get(n), change.texts.get(n)));

  const latestOnTarget = latestRevisions(target.revisions);
  const maxNumber = new Map<string, number>();
  for (const r of target.revisions) maxNumber.set(r.environment, Math.max(maxNumber.get(r.environment) ?? 0, r.number));
  const nextNumber = (name: string): number => {
    const from = after.get(name)?.spec.renamedFrom;
    const known = maxNumber.get(name) ?? (from !== undefined ? maxNumber.get(from) : undefined);
    return (known ?? 0) + 1;
  };

  // The builds the target needs now, and the builds it needs once the change is merged: the difference is the change's doing.
  const planOf = (envs: CheckedEnvironment[], latest: Map<string, Revision>) =>
    planBuilds({ config, environments: envs, latest, ledger: input.ledger, ...(input.imageDigests ? { imageDigests: input.imageDigests } : {}), ...(input.unknownImages ? { unknownImages: input.unknownImages } : {}) });
  const targetPlan = planOf(target.environments, latestOnTarget);
  const merged = new Map(latestOnTarget);
  for (const name of changed) {
    const prev = latestOnTarget.get(name);
    if (after.has(name)) merged.set(name, { ...(prev ?? placeholder(name)), environment: name, number: nextNumber(name), commit: 'merge' });
  }
  const mergedPlan = planOf(change.environments, merged);
  const already = new Set(targetPlan.builds.map((b) => `${b.environment}@${b.revision}`));
  const caused = mergedPlan.builds.filter((b) => changed.includes(b.environment) || !already.has(`${b.environment}@${b.revision}`));

  const environments = changed.map((name): EnvironmentReview => {
    const env = after.get(name);
    const planned = caused.find((b) => b.environment === name);
    const rebuilds = dependentsOf(name, mergedPlan.builds, change.environments).filter((n) => !changed.includes(n));
    return {
      environment: name,
      change: !env && !change.texts.has(name) ? 'removed' : !before.has(name) && !target.texts.has(name) ? 'added' : 'changed',
      revision: env || change.texts.has(name) ? nextNumber(name) : null,
      previousRevision: latestOnTarget.get(name)?.number ?? null,
      build: planned ? buildOf(planned) : null,
      layers: layersOf(env, config),
      problems: change.problems.filter((p) => belongsTo(p, name, env, config)),
      rebuilds,
      reaches: reachedThrough([name, ...rebuilds], input.consumers ?? []),
      specDiff: patch(`${name} spec`, target.label, change.label, target.texts.get(name) ?? '', change.texts.get(name) ?? ''),
      dockerfileDiff: renderable(env, change.texts.has(name))
        ? patch(`${name} Dockerfile`, target.label, change.label, dockerfile(before.get(name), before, config), dockerfile(env, after, config))
        : '',
      rendered: renderable(env, change.texts.has(name)),
    };
  });
  const otherProblems = change.problems.filter((p) => !names.some((n) => belongsTo(p, n, after.get(n), config)));
  return {
    target: target.label, change: change.label, environments, otherProblems,
    errors: errorCount(change.problems),
    ...(input.head !== undefined ? { head: input.head } : {}),
  };
}

function buildOf(b: PlannedBuild): NonNullable<EnvironmentReview['build']> {
  return b.action === 'reuse'
    ? { action: 'reuse', contentKey: b.contentKey, reusedRevision: b.reuse!.revision }
    : { action: 'build', contentKey: b.contentKey };
}

/** Environments whose builds wait on `name`'s, directly or through another. */
/** The consumers of each of `environments`, in that order, so a reviewer sees the changed environment's own first. */
function reachedThrough(environments: string[], consumers: Consumer[]): Reached[] {
  const out: Reached[] = [];
  for (const environment of environments) {
    const on = consumers.filter((c) => environmentOf(c.spec).name === environment)
      .sort((a, b) => (a.kind === b.kind ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.kind < b.kind ? -1 : 1));
    for (const c of on) {
      const { revision } = environmentOf(c.spec);
      out.push({ kind: c.kind, name: c.name, owner: c.spec.owner, environment, pinned: revision === 'active' ? null : revision });
    }
  }
  return out;
}

function dependentsOf(name: string, builds: PlannedBuild[], envs: CheckedEnvironment[]): string[] {
  const out = new Set<string>();
  // Only what follows the active revision; a pinned revision's image does not change.
  const stands = (env: string, on: string) => {
    const e = envs.find((x) => x.name === env);
    const base = e ? baseOf(e.spec) : undefined;
    return base?.kind === 'environment' && base.environment === on && base.revision === 'active';
  };
  for (let grew = true; grew;) {
    grew = false;
    for (const b of builds) {
      if (out.has(b.environment) || b.environment === name) continue;
      if ([name, ...out].some((on) => b.after.includes(on) || stands(b.environment, on))) {
        out.add(b.environment);
        grew = true;
      }
    }
  }
  return [...out].sort();
}

function belongsTo(p: Problem, name: string, env: CheckedEnvironment | undefined, config: Config): boolean {
  const dir = `${config.environmentsDir}/`;
  return p.file === env?.file || p.file === `${dir}${name}.yaml` || p.file.startsWith(`${dir}${name}/`);
}

function fingerprint(env: CheckedEnvironment | undefined, text: string | undefined): string {
  if (text === undefined) return 'absent';
  const h = createHash('sha256').update(text);
  for (const f of [...(env?.context ?? [])].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    h.update(`\0${f.path}\0${f.executable ? 'x' : '-'}\0`).update(f.bytes);
  }
  return h.digest('hex');
}

function latestRevisions(revisions: Revision[]): Map<string, Revision> {
  const out = new Map<string, Revision>();
  for (const r of revisions) if (!out.has(r.environment) || out.get(r.environment)!.number < r.number) out.set(r.environment, r);
  return out;
}

function placeholder(environment: string): Revision {
  return { environment, number: 0, commit: 'merge', subject: '', author: '', email: '', time: 0, entry: { oid: '', form: 'file' } };
}

/** A removed environment renders as nothing; one whose spec fails cannot be rendered at all. */
function renderable(env: CheckedEnvironment | undefined, present: boolean): boolean {
  return !present || (env !== undefined && env.instructionsEndCleanly);
}

/** The Dockerfile with bases named by tag, the same on both sides, so the diff shows only the change. */
function dockerfile(env: CheckedEnvironment | undefined, all: Map<string, CheckedEnvironment>, config: Config): string {
  if (!env || !env.instructionsEndCleanly) return '';
  try {
    return renderEnvironment(env, { config, all, resolveBase: tagResolver(config) }).dockerfile;
  } catch {
    return ''; // a base that cannot be resolved is reported as a problem
  }
}

function patch(what: string, from: string, to: string, a: string, b: string): string {
  return a === b ? '' : createTwoFilesPatch(`${what} (${from})`, `${what} (${to})`, a, b, undefined, undefined, { context: 3 })
    .split('\n').slice(1).join('\n'); // drop the ===== separator line
}

function layersOf(env: CheckedEnvironment | undefined, config: Config): EnvironmentReview['layers'] {
  const out: EnvironmentReview['layers'] = { total: env?.layers.total ?? null, limit: config.layers.limit };
  if (env && env.layers.total === undefined && env.layers.atLeast > 0) out.atLeast = env.layers.atLeast;
  return out;
}
