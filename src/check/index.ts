/**
 * check: loaded environments → typed specs and every problem, in one pass.
 * Pure: registry layer counts and the compared branch's bases come in as data.
 */
import type { LoadedEnvironment } from '../load/environments.js';
import type { Config } from '../model/config.js';
import { sortProblems, type Problem } from '../model/problem.js';
import type { EnvironmentSpec } from '../model/spec.js';
import type { SourceFile } from '../model/tree.js';
import { ENVIRONMENT_SCHEMA_ID, position, schemaProblems, type SourceMap } from '../schema/index.js';
import { checkBases, type BaseNode } from './bases.js';
import { checkTools, checkVariables } from './fields.js';
import { checkInstructions, type ParsedInstruction, type Where } from './instructions.js';
import { checkLayers, countLayers, type LayerCount } from './layers.js';
import { checkPolicies } from './policy.js';

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

export function checkEnvironments(loaded: LoadedEnvironment[], ctx: CheckContext): CheckResult {
  const problems: Problem[] = [];
  const known = new Set(loaded.map((e) => e.name));
  const typed: { env: LoadedEnvironment; spec: EnvironmentSpec; source: SourceMap; instructions: ParsedInstruction[]; where: Where; endsCleanly: boolean }[] = [];

  for (const env of loaded) {
    if (env.data === undefined) continue; // its YAML problems are already reported
    const source: SourceMap = { file: env.file, positions: env.positions, lines: env.lines };
    const schema = schemaProblems(ENVIRONMENT_SCHEMA_ID, env.data, source);
    problems.push(...schema);
    if (schema.length > 0) continue;
    const spec = env.data as EnvironmentSpec;
    const found = checkInstructions(env, spec.instructions ?? '', ctx.config.builder);
    problems.push(...found.problems);
    problems.push(...checkVariables(spec, source), ...checkTools(spec, source));
    typed.push({ env, spec, source, instructions: found.instructions, where: found.where, endsCleanly: found.endsCleanly });
  }

  const nodes = new Map<string, BaseNode>(typed.map((t) => [t.env.name, { name: t.env.name, spec: t.spec, source: t.source }]));
  problems.push(...checkBases(nodes, known, ctx.previousBases));
  // After every spec is typed: an environment's run carries its bases' docker arguments too.
  problems.push(...checkPolicies(nodes, ctx.config.policy));

  const counts = countLayers(new Map(typed.map((t) => [t.env.name, { spec: t.spec, instructions: t.instructions }])), ctx.config, ctx.imageLayers ?? new Map());
  const environments: CheckedEnvironment[] = [];
  for (const t of typed) {
    const layers = counts.get(t.env.name) ?? { own: 0, base: undefined, total: undefined, atLeast: 0, chain: [], chainLength: 0 };
    const at = () => position(t.source, t.instructions.length > 0 ? '/instructions' : '/base', 'key');
    const trouble = layers.unknownImage !== undefined ? ctx.imageLayerTrouble?.get(layers.unknownImage) : undefined;
    problems.push(...checkLayers({ spec: t.spec, instructions: t.instructions }, layers, ctx.config, at, t.where, trouble));
    const checked: CheckedEnvironment = {
      name: t.env.name, file: t.env.file, spec: t.spec, context: t.env.context,
      instructions: t.instructions, instructionsEndCleanly: t.endsCleanly, layers, source: t.source,
    };
    if (t.env.folder) checked.folder = t.env.folder;
    environments.push(checked);
  }
  return { environments, problems: sortProblems(problems) };
}
