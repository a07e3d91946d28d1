/**
 * check: loaded environments → typed specs and every problem, in one pass.
 * Pure: registry layer counts and the compared branch's bases come in as data.
 */
import type { LoadedEnvironment } from '../load/environments.js';
import type { Config } from '../model/config.js';
import { sortProblems, type Location, type Problem } from '../model/problem.js';
import type { EnvironmentSpec } from '../model/spec.js';
import type { SourceFile } from '../model/tree.js';
import { ENVIRONMENT_SCHEMA_ID, position, schemaFindings, type SourceMap } from '../schema/index.js';
import { checkBases, type BaseNode } from './bases.js';
import { checkBuildSecrets } from './build-secrets.js';
import { checkBuildArgs } from './build-args.js';
import { checkTools, checkVariables } from './fields.js';
import { checkInstructions, locator, type ParsedInstruction, type Where } from './instructions.js';
import { checkLayers, countLayers, type LayerCount } from './layers.js';
import { checkPolicies } from './policy.js';
import { checkSharedContext } from './shared-context.js';
import { checkStages } from './stages.js';
import { checkTests } from './tests.js';
import { usableSpec } from './raw.js';

export interface CheckContext {
  config: Config;
  /** Layer counts of base images read from their registries, by reference. */
  imageLayers?: Map<string, number>;
  /** Base images whose registry could not be asked for their layers, with why (the warning says so). */
  imageLayerTrouble?: Map<string, string>;
  /** Base environment of each environment on the branch compared with (for archived bases). */
  previousBases?: Map<string, string>;
}

export interface CheckedEnvironment {
  name: string;
  file: string;
  folder?: string;
  spec: EnvironmentSpec;
  context: SourceFile[];
  /** Files of the shared folders named in `context:`, paths from the repository root. */
  shared?: SourceFile[];
  instructions: ParsedInstruction[];
  /** False when the instructions would swallow what is rendered after them; render refuses those. */
  instructionsEndCleanly: boolean;
  layers: LayerCount;
  source: SourceMap;
}

export interface CheckResult {
  /** Environments whose spec passed the schema (they may still have other problems). */
  environments: CheckedEnvironment[];
  problems: Problem[];
}

/** A spec as checked: a whole valid one, or only the well-formed fields of one that failed the schema. */
interface Typed {
  env: LoadedEnvironment;
  spec: EnvironmentSpec;
  source: SourceMap;
  instructions: ParsedInstruction[];
  where: Where;
  endsCleanly: boolean;
  /** False after a schema failure: checked for what it can be, never returned as renderable. */
  valid: boolean;
  /** Its layers can be counted: its base and instructions are well-formed. */
  countable: boolean;
  /** Layers each stage adds (check/stages.ts), for an image standing on a stage. */
  stageLayers: number[];
}

export function checkEnvironments(loaded: LoadedEnvironment[], ctx: CheckContext): CheckResult {
  const problems: Problem[] = [];
  const known = new Set(loaded.map((e) => e.name));
  const typed: Typed[] = [];

  for (const env of loaded) {
    if (env.data === undefined) continue; // its YAML problems are already reported
    const t = typeSpec(env, ctx, problems);
    if (t) typed.push(t);
  }

  // Invalid specs take part too: their bases close cycles, their arguments pass down the chain.
  const nodes = new Map<string, BaseNode>(typed.map((t) => [t.env.name, { name: t.env.name, spec: t.spec, source: t.source }]));
  problems.push(...checkBases(nodes, known, ctx.previousBases));
  // After every spec is typed: an environment's run carries its bases' docker arguments too.
  problems.push(...checkPolicies(nodes, ctx.config.policy));

  const countable = typed.filter((t) => t.countable);
  const counts = countLayers(new Map(countable.map((t) => [t.env.name, { spec: t.spec, instructions: t.instructions, stageLayers: t.stageLayers }])), ctx.config, ctx.imageLayers ?? new Map());
  const environments: CheckedEnvironment[] = [];
  for (const t of countable) {
    const layers = counts.get(t.env.name) ?? { own: 0, base: undefined, total: undefined, atLeast: 0, chain: [], chainLength: 0 };
    const at = () => position(t.source, t.instructions.length > 0 ? '/instructions' : '/base', 'key');
    const trouble = layers.unknownImage !== undefined ? ctx.imageLayerTrouble?.get(layers.unknownImage) : undefined;
    problems.push(...checkLayers({ spec: t.spec, instructions: t.instructions }, layers, ctx.config, at, t.where, trouble));
    if (!t.valid) continue;
    const checked: CheckedEnvironment = {
      name: t.env.name, file: t.env.file, spec: t.spec, context: t.env.context,
      instructions: t.instructions, instructionsEndCleanly: t.endsCleanly, layers, source: t.source,
    };
    if (t.env.folder) checked.folder = t.env.folder;
    if (t.env.shared) checked.shared = t.env.shared;
    environments.push(checked);
  }
  return { environments, problems: unique(sortProblems(problems)) };
}

/**
 * The schema, then the checks of single fields. After a schema failure each
 * check still runs on the fields no schema error points inside (raw.ts
 * usableSpec), so one run shows every problem; a check of a broken field is
 * skipped, since its finding would repeat the schema's or be false.
 */
function typeSpec(env: LoadedEnvironment, ctx: CheckContext, problems: Problem[]): Typed | undefined {
  const source: SourceMap = { file: env.file, positions: env.positions, lines: env.lines };
  const schema = schemaFindings(ENVIRONMENT_SCHEMA_ID, env.data, source);
  problems.push(...schema.problems);
  const valid = schema.problems.length === 0;
  const usable = valid ? { spec: env.data as EnvironmentSpec, dropped: new Set<string>() } : usableSpec(env.data, schema.pointers);
  if (!usable) return undefined;
  const { spec, dropped } = usable;
  const found = dropped.has('instructions')
    ? { instructions: [], where: () => position(source, '/instructions', 'value'), endsCleanly: false, problems: [] }
    : checkInstructions(env, spec.instructions ?? '', ctx.config.builder);
  problems.push(...found.problems, ...checkVariables(spec, source), ...checkTools(spec, source));
  if (!dropped.has('tests')) problems.push(...checkTests(spec, source));
  if (!dropped.has('context')) problems.push(...checkSharedContext(env, spec, source, ctx.config.environmentsDir));
  if (!dropped.has('instructions') && !dropped.has('buildSecrets')) problems.push(...checkBuildSecrets({ spec, source, instructions: found.instructions, at: textAt(env), builder: ctx.config.builder }));
  // Stages: their own instructions checked in place, and every --from (the final block's too) against their names.
  const stages = dropped.has('stages') || dropped.has('instructions') ? undefined : checkStages(env, spec, source, ctx.config.builder, found.instructions);
  if (stages) problems.push(...stages.problems);
  const endsCleanly = found.endsCleanly && stages?.endsCleanly !== false;
  problems.push(...checkBuildArgs({ env, spec, source, instructions: found.instructions, where: found.where, locate: locator(env), dropped }));
  const countable = !dropped.has('instructions') && !dropped.has('base');
  return { env, spec, source, instructions: found.instructions, where: found.where, endsCleanly, valid, countable, stageLayers: stages?.layers ?? [] };
}

/** Where offset `offset` of an instruction's text is: its first line starts at the instruction's column, later lines at column 0. */
function textAt(env: LoadedEnvironment): (ins: ParsedInstruction, offset: number) => Location {
  const locate = locator(env);
  return (ins, offset) => {
    const before = ins.text.slice(0, offset);
    const nl = before.lastIndexOf('\n');
    const line = ins.blockLine - 1 + (before.split('\n').length - 1);
    return locate(line, nl === -1 ? ins.blockCol + offset : offset - nl - 1);
  };
}

/** Sorted problems without repeats (the same finding at the same place). */
function unique(sorted: Problem[]): Problem[] {
  const seen = new Set<string>();
  return sorted.filter((p) => {
    const key = JSON.stringify([p.file, p.line, p.col, p.severity, p.rule, p.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
