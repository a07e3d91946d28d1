/**
 * Snapshot → environments. An environment is `<dir>/<name>.yaml`, or
 * `<dir>/<name>/environment.yaml` with build-context files beside it.
 */
import { problem, type Problem } from '../model/problem.js';
import type { Snapshot, SourceFile } from '../model/tree.js';
import { parseSpecFile, type ParsedSpecFile } from './spec-file.js';

export const NAME_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const FOLDER_SPEC = 'environment.yaml';

export interface LoadedEnvironment extends ParsedSpecFile {
  name: string;
  /** The YAML file, relative to the repository root. */
  file: string;
  /** The environment's folder when it has one; COPY sources resolve against it. */
  folder?: string;
  /** Build-context files: everything in the folder but the spec itself. */
  context: SourceFile[];
}

export interface LoadResult {
  environments: LoadedEnvironment[];
  problems: Problem[];
}

export function loadEnvironments(snapshot: Snapshot, dir: string): LoadResult {
  const problems: Problem[] = [...snapshot.problems];
  const prefix = `${dir}/`;
  const specs = new Map<string, { file: SourceFile; folder?: string }>();
  const folderFiles = new Map<string, SourceFile[]>();

  for (const f of snapshot.files) {
    if (!f.path.startsWith(prefix)) continue;
    const parts = f.path.slice(prefix.length).split('/');
    if (parts.length === 1) {
      const base = parts[0]!;
      if (!/\.ya?ml$/.test(base)) continue; // READMEs and the like
      const name = base.replace(/\.ya?ml$/, '');
      if (base.endsWith('.yml')) {
        problems.push(problem({ file: f.path, line: 1, col: 1 }, 'error', 'environment-file', `environment files end in .yaml; rename to ${dir}/${name}.yaml`));
        continue;
      }
      addSpec(name, f);
      continue;
    }
    const folderName = parts[0]!;
    const list = folderFiles.get(folderName) ?? [];
    list.push(f);
    folderFiles.set(folderName, list);
  }

  for (const [name, files] of folderFiles) {
    const spec = files.find((f) => f.path === `${prefix}${name}/${FOLDER_SPEC}`);
    if (!spec) {
      problems.push(problem({ file: files[0]!.path, line: 1, col: 1 }, 'warning', 'environment-file',
        `folder ${dir}/${name}/ has no ${FOLDER_SPEC}, so it is not an environment`));
      continue;
    }
    addSpec(name, spec, `${prefix}${name}`);
  }

  const environments: LoadedEnvironment[] = [];
  for (const [name, { file, folder }] of [...specs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const env = loadOne(name, file, folder, folder ? (folderFiles.get(name) ?? []).filter((f) => f !== file) : []);
    problems.push(...env.problems);
    environments.push(env.environment);
  }
  return { environments, problems };

  function addSpec(name: string, file: SourceFile, folder?: string) {
    if (!NAME_PATTERN.test(name)) {
      problems.push(problem({ file: file.path, line: 1, col: 1 }, 'error', 'environment-name',
        `environment name "${name}" must use lowercase letters, digits and single dashes`));
      return;
    }
    const other = specs.get(name);
    if (other) {
      problems.push(problem({ file: file.path, line: 1, col: 1 }, 'error', 'environment-duplicate',
        `environment "${name}" is defined twice: here and in ${other.file.path}`));
      return;
    }
    specs.set(name, folder ? { file, folder } : { file });
  }
}

function loadOne(name: string, file: SourceFile, folder: string | undefined, context: SourceFile[]) {
  const { problems, ...parsed } = parseSpecFile(file, { rule: 'environment-empty', message: 'environment file is empty; it needs at least an owner' });
  const environment: LoadedEnvironment = { name, file: file.path, context, ...(folder ? { folder } : {}), ...parsed };
  return { environment, problems };
}

/** The base environment a loaded file names, read defensively: its spec may not have passed the schema. */
export function rawBaseEnvironment(env: LoadedEnvironment): string | undefined {
  const base = (env.data as { base?: unknown } | null | undefined)?.base;
  if (base === null || typeof base !== 'object') return undefined;
  const name = (base as { environment?: unknown }).environment;
  return typeof name === 'string' ? name : undefined;
}

/** The named environments and everything they are built on, valid or not. */
export function withBases(names: Iterable<string>, loaded: LoadedEnvironment[]): Set<string> {
  const byName = new Map(loaded.map((e) => [e.name, e]));
  const out = new Set<string>();
  const pending = [...names];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (out.has(name)) continue;
    out.add(name);
    const env = byName.get(name);
    const base = env && rawBaseEnvironment(env);
    if (base !== undefined) pending.push(base);
  }
  return out;
}
