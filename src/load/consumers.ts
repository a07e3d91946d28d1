/**
 * Snapshot → projects, models and data sets (consumers). Each is
 * `<dir>/<name>.yaml`, or `<dir>/<name>/<kind>.yaml` in a folder with the
 * consumer's own files (see model/project.ts). Pure, like the environment
 * loader: parsed YAML with source positions, problems located.
 */
import type { Problem } from '../model/problem.js';
import { CONSUMER_DIRS, CONSUMER_SPEC, type ConsumerKind } from '../model/project.js';
import type { Snapshot, SourceFile } from '../model/tree.js';
import { findSpecs, parseSpecFile, type ParsedSpecFile } from './spec-file.js';

export const CONSUMER_KINDS: ConsumerKind[] = ['project', 'model', 'dataset'];

/** How a kind reads in a message. */
export const KIND_WORD: Record<ConsumerKind, string> = { project: 'project', model: 'model', dataset: 'data set' };

/** The file in a consumer's folder that marks a requirements install at start. */
export const REQUIREMENTS_FILE = 'requirements.txt';

/**
 * The files of the consumer folders. Readers need not read every file of a
 * consumer's folder (code, data): the spec and requirements.txt are enough,
 * with `folders` naming the folders seen so one without a spec is reported.
 */
export interface ConsumerTree extends Snapshot {
  /** Folders seen under the consumer folders, e.g. `projects/churn`. */
  folders?: string[];
}

export interface LoadedConsumer extends ParsedSpecFile {
  kind: ConsumerKind;
  name: string;
  /** The spec file, relative to the repository root. */
  file: string;
  folder?: string;
  hasRequirements: boolean;
}

export interface ConsumerLoad {
  consumers: LoadedConsumer[];
  problems: Problem[];
}

export function loadConsumers(tree: ConsumerTree): ConsumerLoad {
  const problems: Problem[] = [...tree.problems];
  const consumers: LoadedConsumer[] = [];
  for (const kind of CONSUMER_KINDS) {
    const found = loadKind(kind, tree);
    consumers.push(...found.consumers);
    problems.push(...found.problems);
  }
  return { consumers, problems };
}

function loadKind(kind: ConsumerKind, tree: ConsumerTree): ConsumerLoad {
  const found = findSpecs(tree.files, {
    dir: CONSUMER_DIRS[kind], specFile: CONSUMER_SPEC[kind], noun: `a ${KIND_WORD[kind]}`,
    rules: { file: 'consumer-file', name: 'consumer-name', duplicate: 'consumer-duplicate' },
    ...(tree.folders ? { folders: tree.folders } : {}),
  });
  const problems = [...found.problems];
  const consumers: LoadedConsumer[] = [];
  for (const { name, file, folder, folderFiles } of found.specs) {
    const hasRequirements = folder !== undefined && folderFiles.some((f) => f.path === `${folder}/${REQUIREMENTS_FILE}`);
    const one = loadOne(kind, name, file, folder, hasRequirements);
    problems.push(...one.problems);
    consumers.push(one.consumer);
  }
  return { consumers, problems };
}

function loadOne(kind: ConsumerKind, name: string, file: SourceFile, folder: string | undefined, hasRequirements: boolean) {
  const { problems, ...parsed } = parseSpecFile(file, { rule: 'consumer-empty', message: `${KIND_WORD[kind]} file is empty; it needs at least an owner and an environment` });
  const consumer: LoadedConsumer = { kind, name, file: file.path, hasRequirements, ...(folder ? { folder } : {}), ...parsed };
  return { consumer, problems };
}

export interface EnvironmentChoice {
  name: string;
  revision: number | 'active';
}

export function sameChoice(a: EnvironmentChoice | undefined, b: EnvironmentChoice | undefined): boolean {
  return a !== undefined && b !== undefined && a.name === b.name && a.revision === b.revision;
}

/** `project/churn`: consumers are told apart by kind and name. */
export function consumerKey(kind: ConsumerKind, name: string): string {
  return `${kind}/${name}`;
}
