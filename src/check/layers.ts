/**
 * The 127-layer limit: an image's layers are its base's plus one per RUN,
 * COPY or ADD. Counted along the chain of base environments down to an image
 * whose count the registry (or envctl.yaml) gives. When that image's count is
 * unknown the count is a lower bound, and the limit is still checked against
 * it (issue 14: "the count is a lower bound: report it as such (`at least
 * 131/127 layers`) and fail when the lower bound is over the limit").
 */
import type { Config } from '../model/config.js';
import { problem, type Location, type Problem } from '../model/problem.js';
import { normaliseReference } from '../model/reference.js';
import { baseOf, stageChain, type EnvironmentSpec } from '../model/spec.js';
import { consecutiveRuns, LAYER_KEYWORDS, type ParsedInstruction, type Where } from './instructions.js';

/** How many steps of a chain a count keeps and a message names: a chain can be as long as there are environments. */
export const CHAIN_SHOWN = 6;

export interface LayerCount {
  /** Layers the environment's own instructions add. */
  own: number;
  /** Layers of what it is built on; undefined when unknown. */
  base: number | undefined;
  total: number | undefined;
  /**
   * A lower bound on the layers: `total` when that is known; otherwise every
   * layer known along the chain, an image of unknown count counting
   * UNKNOWN_IMAGE_LAYERS and a base environment that cannot be counted
   * (unknown, or on a loop: its own error) nothing.
   */
  atLeast: number;
  /** When `total` is unknown: the image (or base environment) down the chain whose layers are not known. */
  uncounted?: { kind: 'image' | 'environment'; name: string };
  /**
   * What it stands on, nearest first, ending in an image reference: at most
   * CHAIN_SHOWN steps nearest, then the image; `chainLength` counts them all.
   */
  chain: string[];
  chainLength: number;
  /** Set when the count is unknown because this image's layers could not be learned. */
  unknownImage?: string;
}

export interface LayerInput {
  spec: EnvironmentSpec;
  /** All instructions, in order (layer-adding or not). */
  instructions: ParsedInstruction[];
  /** Layers each of its stages adds, by index (check/stages.ts); the ones the image stands on count. */
  stageLayers?: number[];
}

/**
 * When the image stands on one of its stages: the layers of that stage's
 * chain (each is in the image) and the chain's steps, nearest first, as
 * `stage <name>`; none otherwise.
 */
function stagePart(env: LayerInput): { layers: number; steps: string[] } {
  const chain = stageChain(env.spec) ?? [];
  return {
    layers: chain.reduce((n, i) => n + (env.stageLayers?.[i] ?? 0), 0),
    steps: chain.map((i) => `stage ${env.spec.stages![i]!.name}`),
  };
}

const adds = (i: ParsedInstruction) => LAYER_KEYWORDS.has(i.keyword);

/**
 * What an image of unknown count adds to the lower bound. One, not zero: an
 * image pulled as a base has a filesystem (image-spec v1.0: the manifest's
 * layers "MUST have the base layer at index 0"; v1.1 still says it SHOULD
 * have one entry). The exception is docker's reserved `scratch`, no image
 * at all, which is counted exactly as zero.
 */
export const UNKNOWN_IMAGE_LAYERS = 1;
const SCRATCH = 'scratch';

/**
 * The key of a count read for one platform of an image (an index holds a
 * manifest per platform, and their layers differ). `imageLayers` holds such
 * keys beside plain references, which count for every platform: a platform
 * and a reference contain no space, so the two cannot be mistaken.
 */
export const imageLayerKey = (ref: string, platform: string): string => `${platform} ${ref}`;

/**
 * Counts by normalised reference (model/reference.ts), so `ubuntu:noble` in
 * a spec finds `docker.io/library/ubuntu:noble` in envctl.yaml. Registry
 * counts win over declared ones, declared ones over `defaultBase.layers`;
 * a registry's count for the platform asked over one for any platform.
 */
function imageCounter(config: Config, imageLayers: Map<string, number>): (ref: string, platform: string) => number | undefined {
  const byRef = new Map<string, number>();
  byRef.set(normaliseReference(config.defaultBase.image), config.defaultBase.layers);
  for (const [ref, n] of Object.entries(config.imageLayers)) byRef.set(normaliseReference(ref), n);
  for (const [key, n] of imageLayers) {
    const space = key.indexOf(' ');
    byRef.set(space < 0 ? normaliseReference(key) : imageLayerKey(normaliseReference(key.slice(space + 1)), key.slice(0, space)), n);
  }
  return (ref, platform) => {
    if (ref === SCRATCH) return 0;
    const normal = normaliseReference(ref);
    return byRef.get(imageLayerKey(normal, platform)) ?? byRef.get(normal);
  };
}

/**
 * `imageLayers`: counts read from registry manifests, by reference or by
 * imageLayerKey (an environment's image is counted for its platform). Walks
 * each chain once, without recursion and keeping only CHAIN_SHOWN steps per
 * count, so a chain of 10,000 environments costs linear time and memory.
 */
export function countLayers(envs: Map<string, LayerInput>, config: Config, imageLayers: Map<string, number>): Map<string, LayerCount> {
  const out = new Map<string, LayerCount>();
  const imageCount = imageCounter(config, imageLayers);
  const ownOf = (env: LayerInput) => env.instructions.filter(adds).length;

  for (const start of envs.keys()) {
    // Down the chain to something already counted, an image, an unknown name or a loop.
    const path: string[] = [];
    const onPath = new Set<string>();
    let below: LayerCount | undefined;
    let name: string | undefined = start;
    while (name !== undefined && !out.has(name) && envs.has(name) && !onPath.has(name)) {
      path.push(name);
      onPath.add(name);
      const base = baseOf(envs.get(name)!.spec);
      name = base.kind === 'environment' ? base.environment : undefined;
    }
    if (name !== undefined && onPath.has(name)) {
      // A loop: its members stand on nothing countable (the cycle is its own error), so each counts its own layers only,
      // and what leads into the loop counts down to the member it names.
      const first = path.indexOf(name);
      for (const member of path.slice(first)) {
        const env = envs.get(member)!;
        const base = baseOf(env.spec);
        const on = base.kind === 'environment' ? base.environment : member;
        const own = ownOf(env);
        out.set(member, { own, base: undefined, total: undefined, atLeast: own, chain: [on], chainLength: 1, uncounted: { kind: 'environment', name: on } });
      }
      path.length = first;
    }
    if (name !== undefined) below = out.get(name);
    // Back up, counting each from the one below it; a base not counted (unknown, or on a loop) leaves the total unknown.
    for (let i = path.length - 1; i >= 0; i--) {
      const current = path[i]!;
      const env = envs.get(current)!;
      const own = ownOf(env);
      const base = baseOf(env.spec);
      // The stages it stands on sit between its own layers and what the chain of stages starts from.
      const stage = stagePart(env);
      let result: LayerCount;
      if (base.kind === 'environment') {
        const parent = i === path.length - 1 ? below : out.get(path[i + 1]!);
        const chain = [...stage.steps, base.environment, ...(parent?.chain ?? [])];
        const chainLength = stage.steps.length + 1 + (parent?.chainLength ?? 0);
        const total = parent?.total === undefined ? undefined : parent.total + stage.layers + own;
        result = { own, base: parent?.total === undefined ? undefined : parent.total + stage.layers, total, atLeast: own + stage.layers + (parent?.atLeast ?? 0), chain: capChain(chain), chainLength };
        if (total === undefined) result.uncounted = parent?.uncounted ?? { kind: 'environment', name: base.environment };
      } else {
        const ref = base.kind === 'image' ? base.image : config.defaultBase.image;
        const n = imageCount(ref, env.spec.platform ?? config.platform);
        const under = n === undefined ? undefined : n + stage.layers;
        result = { own, base: under, total: under === undefined ? undefined : under + own, atLeast: own + stage.layers + (n ?? UNKNOWN_IMAGE_LAYERS), chain: capChain([...stage.steps, ref]), chainLength: stage.steps.length + 1 };
        if (n === undefined) {
          result.unknownImage = ref;
          result.uncounted = { kind: 'image', name: ref };
        }
      }
      out.set(current, result);
    }
  }
  return out;
}

/** The nearest CHAIN_SHOWN steps and the image at the bottom. */
function capChain(chain: string[]): string[] {
  return chain.length <= CHAIN_SHOWN + 1 ? chain : [...chain.slice(0, CHAIN_SHOWN), chain[chain.length - 1]!];
}

/** `a → b → … (n more) → image`. */
export function describeChain(count: LayerCount): string {
  const { chain, chainLength } = count;
  if (chainLength <= chain.length) return chain.join(' → ');
  const hidden = chainLength - chain.length;
  return [...chain.slice(0, -1), `… (${hidden} more)`, chain[chain.length - 1]!].join(' → ');
}

/** `trouble`: why the registry of `count.unknownImage` could not be asked, when it could not (not: it was not asked, or lacks the image). */
export function checkLayers(input: LayerInput, count: LayerCount, config: Config, at: () => Location, where: Where, trouble?: string): Problem[] {
  const { limit, warnAt } = config.layers;
  const out: Problem[] = [];
  // Only where the image is named; environments built on it would repeat it, and an unknown base environment is its own error.
  if (count.unknownImage !== undefined) {
    const why = trouble !== undefined ? `: its registry could not be asked (${trouble})` : ' (its registry was not asked, or does not have it)';
    out.push(problem(at(), 'warning', 'layer-count-unknown',
      `cannot count the layers of base image "${count.unknownImage}"${why}; declare it under imageLayers in envctl.yaml`));
  }
  // A lower bound over the limit is as sure an error as an exact count; one near it is as sure a warning.
  const n = count.atLeast;
  if (n <= limit && n < warnAt) return out;
  const summary = layerSummary(count, limit);
  const advice = combineAdvice(input.instructions, where);
  if (n > limit) {
    const listed = input.instructions.filter(adds).map((l) => `${l.keyword} (line ${where(l).line})`);
    out.push(problem(at(), 'error', 'layer-limit',
      `the image would have ${summary}; the limit is ${limit}. Layers added here: ${listed.slice(0, 12).join(', ')}${listed.length > 12 ? `, and ${listed.length - 12} more` : ''}. ${advice}`));
  } else {
    out.push(problem(at(), 'warning', 'layer-limit-near', `the image will have ${summary}, near the limit of ${limit}. ${advice}`));
  }
  return out;
}

/** `128 layers: 120 from the base (…) and 8 here`, or `at least 131/127 layers: …` when the base's count is a lower bound. */
function layerSummary(count: LayerCount, limit: number): string {
  if (count.total !== undefined) return `${count.total} layers: ${count.base} from the base (${describeChain(count)}) and ${count.own} here`;
  const u = count.uncounted;
  const unknown = u?.kind === 'environment' ? `base environment "${u.name}" not counted`
    : `the layers of base image "${u?.name ?? count.chain[count.chain.length - 1]}" unknown, counted as ${UNKNOWN_IMAGE_LAYERS}`;
  return `at least ${count.atLeast}/${limit} layers: at least ${count.atLeast - count.own} from the base (${describeChain(count)}; ${unknown}) and ${count.own} here`;
}

/** Suggest the runs of consecutive RUNs (nothing else between) that could each become one layer. */
function combineAdvice(instructions: ParsedInstruction[], where: Where): string {
  const runs = consecutiveRuns(instructions).sort((a, b) => b.length - a.length);
  if (runs.length === 0) return 'Remove instructions or build on a base with fewer layers.';
  const parts = runs.slice(0, 3).map((r) => `the RUNs at lines ${where(r[0]!).line}–${where(r[r.length - 1]!).line} (saves ${r.length - 1})`);
  return `Combine with &&: ${parts.join('; ')}.`;
}
