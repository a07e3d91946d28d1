/** envctl as a library: the stages in flow order, then the effects. */
export * from './model/problem.js';
export * from './model/spec.js';
export type { Config } from './model/config.js';
export type { Snapshot, SourceFile } from './model/tree.js';
export { loadConfig } from './load/config.js';
export { loadEnvironments, type LoadedEnvironment } from './load/environments.js';
export { parseYaml } from './load/yaml.js';
export { checkEnvironments, type CheckedEnvironment, type CheckContext, type CheckResult } from './check/index.js';
export { renderEnvironment, contentKey, shortKey, type Rendered, type RunSpec } from './render/index.js';
export { openRepository, validateRepository, type Repository, type Validation } from './repository/index.js';
export { renderAll, writeRendered } from './repository/render.js';
export { readWorkTree } from './files/worktree.js';
export { updateRevisions, revisionsOf } from './repository/revisions.js';
export type { Revision } from './revisions/number.js';
export { layerCount } from './registry/manifest.js';
export { main } from './cli/main.js';
