/**
 * Before any build: does every base image the builds need exist? A missing
 * default base used to fail every build on it with buildah's "manifest
 * unknown", each recorded as failed. Now the embedded registry gets its
 * default base made, as `envctl base` makes it; anything else missing is
 * named once, with what makes it, and its builds (and those built on them)
 * are neither attempted nor recorded.
 */
import { ensureBase } from '../builder/base.js';
import type { Config } from '../model/config.js';
import { errorLine } from '../model/errors.js';
import { baseImageOf, baseOf } from '../model/spec.js';
import type { HeadPlan } from '../repository/plan.js';

export interface MissingImage {
  image: string;
  /** Environments whose builds wait for it: those on it, and those built on them. */
  environments: string[];
  /** What makes it, or why it could not be made. */
  hint: string;
}

/**
 * The plan with builds on missing base images taken out, after making the
 * default base where envctl can (then planned again: the base's digest is
 * part of every content key on it).
 */
export async function checkBases(root: string, config: Config, plan: HeadPlan, replan: () => Promise<HeadPlan>, log: (line: string) => void): Promise<{ plan: HeadPlan; missingImages: MissingImage[] }> {
  let missing = missingBaseImages(plan, config);
  const failures = new Map<string, unknown>();
  let made = false;
  for (const image of missing.keys()) {
    if (!canMakeDefaultBase(image, config)) continue;
    log(`the default base ${image} is not in the embedded registry: making it as envctl base does`);
    try {
      await ensureBase(root, config, { log });
      made = true;
    } catch (err) {
      failures.set(image, err);
    }
  }
  if (made) {
    plan = await replan();
    missing = missingBaseImages(plan, config);
  }
  if (missing.size === 0) return { plan, missingImages: [] };
  const missingImages = heldBack(plan, missing, config, failures);
  const held = new Set(missingImages.flatMap((m) => m.environments));
  return {
    plan: { ...plan, builds: plan.builds.filter((b) => !held.has(b.environment)), groups: plan.groups.map((g) => g.filter((n) => !held.has(n))).filter((g) => g.length > 0) },
    missingImages,
  };
}

/**
 * Base images of planned builds that the registry says it lacks: not found
 * among the plan's digests, nor among the images it could not ask about
 * (those builds go ahead: the builder may still pull them).
 */
export function missingBaseImages(plan: HeadPlan, config: Config): Map<string, string[]> {
  const missing = new Map<string, string[]>();
  for (const step of plan.builds) {
    if (step.action !== 'build') continue;
    const env = plan.environments.find((e) => e.name === step.environment);
    const ref = env ? baseImageOf(baseOf(env.spec), config.defaultBase.image) : undefined;
    if (!ref || ref.includes('@') || plan.imageDigests.has(ref) || plan.unknownImages.has(ref)) continue;
    missing.set(ref, [...(missing.get(ref) ?? []), step.environment]);
  }
  return missing;
}

/** The default base, when the embedded registry is where it goes: envctl can make it (debootstrap). */
export function canMakeDefaultBase(image: string, config: Config): boolean {
  return image === config.defaultBase.image && config.registry.embedded && image.startsWith(`${config.registry.address}/`);
}

/** Each missing image with the environments held back by it, dependents included, and what makes it. */
export function heldBack(plan: HeadPlan, missing: Map<string, string[]>, config: Config, failures: Map<string, unknown> = new Map()): MissingImage[] {
  return [...missing].map(([image, direct]) => {
    const held = new Set(direct);
    for (const step of plan.builds) if (step.after.some((a) => held.has(a))) held.add(step.environment);
    const failure = failures.get(image);
    const hint = failure !== undefined ? `making it failed: ${errorLine(failure)}`
      : image === config.defaultBase.image ? 'make it with `envctl base` (debootstrap, as root), or set defaultBase.image in envctl.yaml to an image the registry has'
        : 'push it to its registry, or change the environments\' base';
    return { image, environments: plan.builds.map((b) => b.environment).filter((n) => held.has(n)), hint };
  });
}
