/**
 * Rules about projects, models and data sets and the environments they run
 * in. Pure: the work tree's environments, the compared branch's facts and
 * the latest revision numbers come in as data.
 *
 * - the spec passes the schema [schema-*];
 * - the environment exists [consumer-unknown-environment]; when this change
 *   deletes one something still uses, the environment's side says so too,
 *   once per user [environment-deleted-in-use];
 * - an archived environment is not chosen anew (a new consumer, or a changed
 *   `environment` value); one already on it keeps working with a warning
 *   [consumer-archived-environment];
 * - a pinned revision exists [consumer-unknown-revision].
 */
import { consumerKey, KIND_WORD, sameChoice, type EnvironmentChoice, type LoadedConsumer } from '../load/consumers.js';
import { rawEnvironmentChoice } from './raw.js';
import { LineIndex } from '../source/lines.js';
import { problem, sortProblems, type Problem } from '../model/problem.js';
import type { Consumer, ConsumerSpec } from '../model/project.js';
import { position, PROJECT_SCHEMA_ID, schemaProblems, type SourceMap } from '../schema/index.js';

/** What the rules need to know of a work-tree environment (valid or not). */
export interface EnvironmentFacts {
  archived: boolean;
  /** The name it continues, when it declares one. */
  renamedFrom?: string;
}

/** The branch a change is compared with (`--against`, default HEAD). */
export interface ComparedBranch {
  /** How to name it in messages, e.g. `HEAD` or `origin/main`. */
  label: string;
  /**
   * Environments that exist there, with their spec file. Only names the
   * work tree lacks need be present: the rest exist on both sides.
   */
  environments: Map<string, { file: string }>;
  /**
   * Each consumer's environment choice there, by `consumerKey`. Only
   * consumers on archived environments need be present; a missing one is new.
   */
  choices: Map<string, EnvironmentChoice>;
}

export interface ConsumerCheckContext {
  /** Every environment in the work tree, by name. */
  environments: Map<string, EnvironmentFacts>;
  /** Undefined when there is nothing to compare with (no commits yet): every choice is new. */
  compared?: ComparedBranch;
  /**
   * The latest revision number of each environment on the numbering branch
   * (absent: none yet). Undefined skips the pinned-revision rule.
   */
  latestRevisions?: Map<string, number>;
  /** The numbering branch, for messages. */
  revisionsBranch?: string;
  /** Why revision numbers could not be read (a shallow clone): pins then get a warning instead. */
  revisionsUnknown?: string;
}

export interface CheckedConsumer extends Consumer {
  source: SourceMap;
}

export interface ConsumerCheck {
  /** Consumers whose spec passed the schema (they may still have other problems). */
  consumers: CheckedConsumer[];
  problems: Problem[];
}

export function sourceOf(c: LoadedConsumer): SourceMap {
  return { file: c.file, positions: c.positions, lines: c.lines };
}

/** Schema only: the consumers whose spec passes it, typed, and the schema's problems. */
export function typedConsumers(loaded: LoadedConsumer[]): ConsumerCheck & { invalidEnvironment: Set<LoadedConsumer> } {
  const consumers: CheckedConsumer[] = [];
  const problems: Problem[] = [];
  // Consumers whose `environment` value itself fails the schema: the other rules leave them alone.
  const invalidEnvironment = new Set<LoadedConsumer>();
  for (const c of loaded) {
    if (c.data === undefined || c.data === null) continue; // its YAML problems are already reported
    const source = sourceOf(c);
    const found = schemaProblems(PROJECT_SCHEMA_ID, c.data, source);
    problems.push(...found);
    if (found.length > 0) {
      // A typo elsewhere should not hide what the environment choice implies.
      if (!environmentValid(c.data)) invalidEnvironment.add(c);
      continue;
    }
    const typed: CheckedConsumer = { kind: c.kind, name: c.name, file: c.file, spec: c.data as ConsumerSpec, hasRequirements: c.hasRequirements, source };
    if (c.folder) typed.folder = c.folder;
    consumers.push(typed);
  }
  return { consumers, problems, invalidEnvironment };
}

const PROBE: SourceMap = { file: '', positions: new Map(), lines: new LineIndex('') };

/** Whether the `environment` value alone passes the schema. */
function environmentValid(data: unknown): boolean {
  const env = (data as { environment?: unknown }).environment;
  return env !== undefined && schemaProblems(PROJECT_SCHEMA_ID, { owner: 'probe', environment: env }, PROBE).length === 0;
}

export function checkConsumers(loaded: LoadedConsumer[], ctx: ConsumerCheckContext): ConsumerCheck {
  const { consumers, problems, invalidEnvironment } = typedConsumers(loaded);
  /** Environments this change deletes (or renames) that consumers still use. */
  const users = new Map<string, { renamedTo?: string; list: LoadedConsumer[] }>();

  for (const c of loaded) {
    if (c.data === undefined || c.data === null || invalidEnvironment.has(c)) continue;
    const choice = rawEnvironmentChoice(c.data);
    if (!choice) continue;
    const source = sourceOf(c);
    const word = KIND_WORD[c.kind];
    // At the name: the value itself, or `name:` in the mapping form.
    const at = () => position(source, typeof (c.data as { environment?: unknown }).environment === 'object' ? '/environment/name' : '/environment', 'value');
    const env = ctx.environments.get(choice.name);

    if (!env) {
      const before = ctx.compared?.environments.get(choice.name);
      const renamed = [...ctx.environments].find(([, e]) => e.renamedFrom === choice.name)?.[0];
      if (before) {
        const entry = users.get(choice.name) ?? { list: [], ...(renamed !== undefined ? { renamedTo: renamed } : {}) };
        entry.list.push(c);
        users.set(choice.name, entry);
      }
      const message = renamed !== undefined
        ? `${word} "${c.name}" uses environment "${choice.name}", which this change renames to "${renamed}": point it at "${renamed}"`
        : before
          ? `${word} "${c.name}" uses environment "${choice.name}", which this change deletes: choose another environment, or archive "${choice.name}" instead of deleting it`
          : `environment "${choice.name}" does not exist${suggest(choice.name, [...ctx.environments.keys()])}`;
      problems.push(problem(at(), 'error', 'consumer-unknown-environment', message));
      continue;
    }

    if (env.archived) {
      const key = consumerKey(c.kind, c.name);
      const previous = ctx.compared?.choices.get(key);
      const kept = sameChoice(previous, choice);
      problems.push(kept
        ? problem(at(), 'warning', 'consumer-archived-environment',
          `environment "${choice.name}" is archived; this ${word} keeps working, but move it to another environment`)
        : problem(at(), 'error', 'consumer-archived-environment', previous === undefined
          ? `environment "${choice.name}" is archived and cannot be chosen by a new ${word}`
          : `environment "${choice.name}" is archived and cannot be chosen anew (${ctx.compared!.label} has ${describeChoice(previous)}); keep the ${word}'s choice as it was, or move it to another environment`));
    }

    if (typeof choice.revision === 'number' && !ctx.latestRevisions && ctx.revisionsUnknown) {
      problems.push(problem(position(source, '/environment/revision', 'value'), 'warning', 'consumer-unknown-revision',
        `revision ${choice.revision} of environment "${choice.name}" was not checked: ${ctx.revisionsUnknown}`));
    }
    if (typeof choice.revision === 'number' && ctx.latestRevisions) {
      const latest = ctx.latestRevisions.get(choice.name) ?? 0;
      const branch = ctx.revisionsBranch ?? 'the main branch';
      if (choice.revision > latest) {
        problems.push(problem(position(source, '/environment/revision', 'value'), 'error', 'consumer-unknown-revision', latest === 0
          ? `environment "${choice.name}" has no revisions yet on ${branch}, so revision ${choice.revision} does not exist; pin one once it is merged, or use its active revision`
          : `environment "${choice.name}" has no revision ${choice.revision} on ${branch}; its latest is ${latest}`));
      }
    }
  }

  // The deleted environment's side: one error per user, where the environment's file was.
  for (const [name, { renamedTo, list }] of users) {
    const file = ctx.compared!.environments.get(name)!.file;
    for (const c of list) {
      const user = `${KIND_WORD[c.kind]} "${c.name}" (${c.file})`;
      problems.push(problem({ file, line: 1, col: 1 }, 'error', 'environment-deleted-in-use', renamedTo !== undefined
        ? `environment "${name}" is renamed to "${renamedTo}" by this change; still used by ${user} under its old name: point it at "${renamedTo}" in the same change`
        : `environment "${name}" is deleted by this change; still used by ${user}: move it to another environment first, or archive "${name}" instead`));
    }
  }
  return { consumers, problems: sortProblems(problems) };
}

function describeChoice(c: EnvironmentChoice): string {
  return c.revision === 'active' ? `"${c.name}"` : `"${c.name}" revision ${c.revision}`;
}

function suggest(name: string, known: string[]): string {
  const near = known.filter((k) => k.includes(name) || name.includes(k)).slice(0, 3);
  return near.length ? `; did you mean ${near.map((n) => `"${n}"`).join(' or ')}?` : '';
}
