/**
 * Snapshot → environments. An environment is `<dir>/<name>.yaml`, or
 * `<dir>/<name>/environment.yaml` with build-context files beside it.
 */
import type { Problem } from '../model/problem.js';
import type { Snapshot, SourceFile } from '../model/tree.js';
import { findSpecs, parseSpecFile, type ParsedSpecFile } from './spec-file.js';

export { NAME_PATTERN } from './spec-file.js';
export const FOLDER_SPEC = 'environment.yaml';

export interface LoadedEnvironment extends ParsedSpecFile {
  name: string;
  /** The YAML file, relative to the repository root. */
  file: string;
  /** The environment's folder when it has one; COPY sources resolve against it. */
  folder?: string;
  /** Build-context files: everything in the folder but the spec itself. */
  context: SourceFile[];
  /** Files of the shared folders its `context:` names, paths from the repository root (load/shared-context.ts). */
  shared?: SourceFile[];
}

export interface LoadResult {
  environments: LoadedEnvironment[];
  problems: Problem[];
}

export function loadEnvironments(snapshot: Snapshot, dir: string): LoadResult {
  const found = findSpecs(snapshot.files, {
    dir, specFile: FOLDER_SPEC, noun: 'an environment',
    rules: { file: 'environment-file', name: 'environment-name', duplicate: 'environment-duplicate' },
  });
  const problems: Problem[] = [...snapshot.problems, ...found.problems];
  const environments: LoadedEnvironment[] = [];
  for (const { name, file, folder, folderFiles } of found.specs) {
    const env = loadOne(name, file, folder, folderFiles.filter((f) => f !== file));
    problems.push(...env.problems);
    environments.push(env.environment);
  }
  return { environments, problems };
}

function loadOne(name: string, file: SourceFile, folder: string | undefined, context: SourceFile[]) {
  const { problems, ...parsed } = parseSpecFile(file, { rule: 'environment-empty', message: 'environment file is empty; it needs at least an owner' });
  const environment: LoadedEnvironment = { name, file: file.path, context, ...(folder ? { folder } : {}), ...parsed };
  return { environment, problems };
}

