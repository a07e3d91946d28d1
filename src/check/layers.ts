/**
 * The 127-layer limit: an image's layers are its base's plus one per RUN,
 * COPY or ADD. Counted along the chain of base environments down to an image
 * whose count the registry (or envctl.yaml) gives.
 */
import type { Config } from '../model/config.js';
import { problem, type Location, type Problem } from '../model/problem.js';
import { baseOf, type EnvironmentSpec } from '../model/spec.js';
import { consecutiveRuns, LAYER_KEYWORDS, type ParsedInstruction, type Where } from './instructions.js';

export interface LayerCount {
  /** Layers the environment's own instructions add. */
  own: number;
  /** Layers of what it is built on; undefined when unknown. */
  base: number | undefined;
  total: number | undefined;
  /** What it stands on, nearest first, ending in an image reference. */
  chain: string[];
  /** Set when the count is unknown because this image's layers could not be learned. */
  unknownImage?: string;
}

export interface LayerInput {
  spec: EnvironmentSpec;
  /** All instructions, in order (layer-adding or not). */
  instructions: ParsedInstruction[];
}

const adds = (i: ParsedInstruction) => LAYER_KEYWORDS.has(i.keyword);

/** `imageLayers`: counts read from registry manifests, by reference. */
export function countLayers(envs: Map<string, LayerInput>, config: Config, imageLayers: Map<string, number>): Map<string, LayerCount> {
  const out = new Map<string, LayerCount>();
  const imageCount = (ref: string): number | undefined =>
    imageLayers.get(ref) ?? config.imageLayers[ref] ?? (ref === config.defaultBase.image ? config.defaultBase.layers : undefined);

  const visit = (name: string, seen: Set<string>): LayerCount | undefined => {
    const done = out.get(name);
    if (done) return done;
    const env = envs.get(name);
    if (!env || seen.has(name)) return undefined;
    seen.add(name);
    const own = env.instructions.filter(adds).length;
    const base = baseOf(env.spec);
    let result: LayerCount;
    if (base.kind === 'environment') {
      const parent = visit(base.environment, seen);
      result = { own, base: parent?.total, total: parent?.total === undefined ? undefined : parent.total + own, chain: [base.environment, ...(parent?.chain ?? [])] };
    } else {
      const ref = base.kind === 'image' ? base.image : config.defaultBase.image;
      const n = imageCount(ref);
      result = { own, base: n, total: n === undefined ? undefined : n + own, chain: [ref] };
      if (n === undefined) result.unknownImage = ref;
    }
    out.set(name, result);
    return result;
  };
  for (const name of envs.keys()) visit(name, new Set());
  return out;
}

/** `trouble`: why the registry of `count.unknownImage` could not be asked, when it could not (not: it was not asked, or lacks the image). */
export function checkLayers(input: LayerInput, count: LayerCount, config: Config, at: () => Location, where: Where, trouble?: string): Problem[] {
  const { limit, warnAt } = config.layers;
  if (count.total === undefined) {
    // Only where the image is named; environments built on it would repeat it, and an unknown base environment is its own error.
    if (count.unknownImage === undefined) return [];
    const why = trouble !== undefined ? `: its registry could not be asked (${trouble})` : ' (its registry was not asked, or does not have it)';
    return [problem(at(), 'warning', 'layer-count-unknown',
      `cannot count the layers of base image "${count.unknownImage}"${why}; declare it under imageLayers in envctl.yaml`)];
  }
  if (count.total <= limit && count.total < warnAt) return [];
  const summary = `${count.total} layers: ${count.base} from the base (${count.chain.join(' → ')}) and ${count.own} here`;
  const advice = combineAdvice(input.instructions, where);
  if (count.total > limit) {
    const listed = input.instructions.filter(adds).map((l) => `${l.keyword} (line ${where(l).line})`);
    return [problem(at(), 'error', 'layer-limit',
      `the image would have ${summary}; the limit is ${limit}. Layers added here: ${listed.slice(0, 12).join(', ')}${listed.length > 12 ? `, and ${listed.length - 12} more` : ''}. ${advice}`)];
  }
  return [problem(at(), 'warning', 'layer-limit-near', `the image will have ${summary}, near the limit of ${limit}. ${advice}`)];
}

/** Suggest the runs of consecutive RUNs (nothing else between) that could each become one layer. */
function combineAdvice(instructions: ParsedInstruction[], where: Where): string {
  const runs = consecutiveRuns(instructions).sort((a, b) => b.length - a.length);
  if (runs.length === 0) return 'Remove instructions or build on a base with fewer layers.';
  const parts = runs.slice(0, 3).map((r) => `the RUNs at lines ${where(r[0]!).line}–${where(r[r.length - 1]!).line} (saves ${r.length - 1})`);
  return `Combine with &&: ${parts.join('; ')}.`;
}
