/**
 * `context:` entries: each must be a plain repository folder outside the
 * environments folder (load/shared-context.ts says which), must hold files
 * (a folder with none is most likely misspelt), and must not lay a file over
 * one of the environment folder's own (both enter the build context at the
 * same path).
 */
import { contextFolderProblem, isUnder } from '../load/shared-context.js';
import type { LoadedEnvironment } from '../load/environments.js';
import { problem, type Problem } from '../model/problem.js';
import type { EnvironmentSpec } from '../model/spec.js';
import { position, type SourceMap } from '../schema/index.js';

export function checkSharedContext(env: LoadedEnvironment, spec: EnvironmentSpec, source: SourceMap, environmentsDir: string): Problem[] {
  const out: Problem[] = [];
  const own = new Set(env.context.map((f) => f.path.slice((env.folder ?? '').length + 1)));
  (spec.context ?? []).forEach((folder, i) => {
    const at = position(source, `/context/${i}`, 'value');
    const refused = contextFolderProblem(folder, environmentsDir);
    if (refused !== undefined) {
      out.push(problem(at, 'error', 'context-path', `context folder ${refused}`));
      return;
    }
    const files = (env.shared ?? []).filter((f) => isUnder(f.path, folder));
    if (files.length === 0) {
      out.push(problem(at, 'error', 'context-missing', `context folder "${folder}" holds no files in the repository`));
      return;
    }
    const clash = files.find((f) => own.has(f.path) || [...own].some((p) => isUnder(f.path, p) || isUnder(p, f.path)));
    if (clash) {
      out.push(problem(at, 'error', 'context-collision',
        `context folder "${folder}" puts ${clash.path} in the build context where ${env.folder}/ has its own file at that path; rename one of them`));
    }
  });
  return out;
}
