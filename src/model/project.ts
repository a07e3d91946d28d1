/**
 * Projects, models and data sets: what uses an environment. Each is a YAML
 * file `projects/<name>.yaml` (models/, datasets/ alike), or a folder
 * `projects/<name>/project.yaml` whose other files are the project's own
 * (its requirements.txt, code); a folder is what `envctl run` mounts.
 */
export type ConsumerKind = 'project' | 'model' | 'dataset';

/** The folder each kind lives in, relative to the repository root. */
export const CONSUMER_DIRS: Record<ConsumerKind, string> = { project: 'projects', model: 'models', dataset: 'datasets' };

/** The spec file inside a consumer's folder. */
export const CONSUMER_SPEC: Record<ConsumerKind, string> = { project: 'project.yaml', model: 'model.yaml', dataset: 'dataset.yaml' };

export interface ConsumerSpec {
  title?: string;
  description?: string;
  owner: string;
  /** A name follows the environment's active revision; `{ name, revision }` pins one. */
  environment: string | { name: string; revision: number | 'active' };
  /** What a job runs when none is given (`envctl run`, the k8s Pod of a job). */
  command?: string;
}

export interface Consumer {
  kind: ConsumerKind;
  name: string;
  /** The spec file, relative to the repository root. */
  file: string;
  /** The consumer's folder when it has one (mounted as the project folder by `envctl run`). */
  folder?: string;
  spec: ConsumerSpec;
  /** Whether the folder holds a requirements.txt (installed at start, before post-setup). */
  hasRequirements: boolean;
}

/** The environment and revision a consumer asks for. */
export function environmentOf(spec: ConsumerSpec): { name: string; revision: number | 'active' } {
  return typeof spec.environment === 'string' ? { name: spec.environment, revision: 'active' } : { name: spec.environment.name, revision: spec.environment.revision };
}
