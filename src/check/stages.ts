/**
 * Build stages: each stage's instructions pass through the same checks as
 * the final ones (checkInstructions, located inside `stages[i].instructions`),
 * stage names are unique, a stage's base is an image, the default, an
 * earlier stage or another environment (checked in bases.ts), and every `COPY --from=` / `RUN --mount=…,from=` names an
 * earlier stage or an image pinned by digest. Anything else the builder would
 * read as an image name and pull: a typo of a stage name, `docker.io/evil/x`,
 * a `$VARIABLE` decided at build time.
 */
import type { Flag } from 'dockerfile-ast';
import type { LoadedEnvironment } from '../load/environments.js';
import type { Config } from '../model/config.js';
import { problem, type Location, type Problem } from '../model/problem.js';
import { imageWithArgs, type EnvironmentSpec, type StageSpec } from '../model/spec.js';
import { position, type SourceMap } from '../schema/index.js';
import { parseDockerfile } from './dockerfile.js';
import { checkInstructions, LAYER_KEYWORDS, locator, type ParsedInstruction } from './instructions.js';

export interface StageFindings {
  problems: Problem[];
  /** False when a stage's instructions would swallow the FROM rendered after them. */
  endsCleanly: boolean;
  /** Layers each stage's instructions add, by index: in the image when it stands on the stage. */
  layers: number[];
}

/** Same pattern as the schema's image reference, with the digest required. */
const PINNED = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[a-f0-9]{64}$/;

/** The stages' own checks; `final` are the environment's own instructions, whose --from may name any stage. */
export function checkStages(env: LoadedEnvironment, spec: EnvironmentSpec, source: SourceMap, builder: Config['builder'], final: readonly ParsedInstruction[]): StageFindings {
  const problems: Problem[] = [];
  let endsCleanly = true;
  const stages = spec.stages ?? [];
  const names = stages.map((s) => s.name);
  const layers: number[] = [];
  stages.forEach((stage, i) => {
    const earlier = names.slice(0, i);
    if (earlier.includes(stage.name)) {
      problems.push(problem(position(source, `/stages/${i}/name`, 'value'), 'error', 'stage-duplicate', `stage "${stage.name}" is already the name of an earlier stage; stage names are unique`));
    }
    problems.push(...checkStageBase(stage, i, earlier, source, spec));
    const pointer = `/stages/${i}/instructions`;
    const found = checkInstructions(env, stage.instructions ?? '', builder, pointer);
    problems.push(...found.problems, ...checkFroms(found.instructions, earlier, names, locator(env, pointer)));
    layers.push(found.instructions.filter((ins) => LAYER_KEYWORDS.has(ins.keyword)).length);
    endsCleanly &&= found.endsCleanly;
  });
  problems.push(...checkFroms(final, names, names, locator(env)));
  const b = spec.base;
  if (typeof b === 'object' && 'stage' in b && !names.includes(b.stage)) {
    problems.push(problem(position(source, '/base/stage', 'value'), 'error', 'base-stage-unknown',
      `the image is built on stage "${b.stage}", which is not one of the stages${known(names).replace('earlier stages', 'stages')}`));
  }
  return { problems, endsCleanly, layers };
}

function checkStageBase(stage: StageSpec, i: number, earlier: string[], source: SourceMap, spec: EnvironmentSpec): Problem[] {
  const base = stage.base;
  if (typeof base !== 'object') return [];
  if ('stage' in base) {
    if (earlier.includes(base.stage)) return [];
    return [problem(position(source, `/stages/${i}/base/stage`, 'value'), 'error', 'stage-base-unknown',
      `stage "${stage.name}" is built on stage "${base.stage}", which is not an earlier stage${known(earlier)}`)];
  }
  // Another environment: whether it exists, and loops through it, are check/bases.ts's (it sees every environment).
  if ('environment' in base) return [];
  // Read with the build arguments, as the rendered FROM is; one still `${…}` could not be, and check/build-args.ts says why.
  const image = imageWithArgs(base.image, spec);
  if (image.includes('$')) return [];
  if (!/[:@]/.test(image.split('/').pop() ?? '') || /:latest$/.test(image)) {
    return [problem(position(source, `/stages/${i}/base/image`, 'value'), 'warning', 'base-image-unpinned',
      `stage base image "${image}" names no version; pin a tag or @sha256 digest so rebuilds start from the same image`)];
  }
  return [];
}

/**
 * The --from of every COPY and every RUN --mount in one block. `earlier` are
 * the stages it may copy from; `all` every stage, to say why a later one is refused.
 */
export function checkFroms(instructions: readonly ParsedInstruction[], earlier: readonly string[], all: readonly string[], locate: (line: number, col: number) => Location): Problem[] {
  const out: Problem[] = [];
  for (const ins of instructions) {
    if (ins.keyword !== 'COPY' && ins.keyword !== 'RUN') continue;
    for (const { value, line, col } of fromValues(ins)) {
      const found = fromProblem(value, ins.keyword, earlier, all);
      if (found) out.push(problem(locate(line, col), 'error', found.rule, found.message));
    }
  }
  return out;
}

/** Keyword, blanks, then a first argument that is neither a dash, a blank nor the escape character. */
const NO_FLAGS = /^[A-Za-z]+[ \t]+[^-\s\\]/;

interface FromValue { value: string; line: number; col: number }

/** Each --from value with its place in the block (0-based line and column). */
function fromValues(ins: ParsedInstruction): FromValue[] {
  // Only COPY and RUN carry --from, and only as a flag: most instructions have none, and need no second parse.
  if ((ins.keyword !== 'COPY' && ins.keyword !== 'RUN') || !ins.text.includes('--')) return [];
  // Flags lead: a first argument on the keyword's own line that cannot start "--" means there are none
  // (`RUN pip install --no-cache-dir …`, most RUNs), and no second parse is needed.
  if (NO_FLAGS.test(ins.text)) return [];
  // Parsed alone after a FROM, as instructions.ts parses the block: parser line 1 is the instruction's first line.
  const parsed = parseDockerfile(`FROM scratch\n${ins.text}`).getInstructions()[1];
  if (!parsed || !('getFlags' in parsed)) return [];
  const place = (r: { line: number; character: number }) => ({
    line: ins.blockLine - 1 + (r.line - 1),
    col: r.line === 1 ? ins.blockCol + r.character : r.character,
  });
  const out: FromValue[] = [];
  for (const flag of (parsed as unknown as { getFlags(): Flag[] }).getFlags()) {
    const name = flag.getName().toLowerCase();
    if (ins.keyword === 'COPY' && name === 'from') {
      const range = flag.getValueRange() ?? flag.getNameRange();
      out.push({ value: flag.getValue() ?? '', ...place(range.start) });
    } else if (ins.keyword === 'RUN' && name === 'mount') {
      for (const option of flag.getOptions()) {
        if (option.getName().toLowerCase() !== 'from') continue;
        const range = option.getValueRange() ?? option.getNameRange();
        out.push({ value: option.getValue() ?? '', ...place(range.start) });
      }
    }
  }
  return out;
}

function fromProblem(value: string, keyword: string, earlier: readonly string[], all: readonly string[]): { rule: string; message: string } | undefined {
  const what = keyword === 'COPY' ? 'COPY --from' : 'RUN --mount from';
  if (earlier.includes(value) || PINNED.test(value)) return undefined;
  if (value.includes('$')) {
    return { rule: 'from-variable', message: `${what}=${value}: a variable is decided at build time, so it may name any image for the builder to pull; name an earlier stage${known(earlier)} or an image by digest` };
  }
  if (/^[0-9]+$/.test(value)) {
    return { rule: 'from-index', message: `${what}=${value}: name the stage instead of its index${known(earlier)} (indices shift as stages are added)` };
  }
  if (all.includes(value)) {
    return { rule: 'from-later-stage', message: `${what}=${value}: stage "${value}" is this stage or a later one; copy only from earlier stages${known(earlier)}` };
  }
  if (/[/:.@]/.test(value)) {
    return { rule: 'from-unpinned', message: `${what}=${value}: an image must be pinned by digest (name@sha256:…), so the content key covers what is copied; or declare a stage with base {image: ${JSON.stringify(value)}} and copy from it` };
  }
  return { rule: 'from-unknown', message: `${what}=${value}: no earlier stage is named "${value}"${known(earlier)}; the builder would pull an image by that name` };
}

function known(names: readonly string[]): string {
  return names.length === 0 ? ' (there are no earlier stages)' : ` (earlier stages: ${names.join(', ')})`;
}
