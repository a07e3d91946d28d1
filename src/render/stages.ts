/**
 * Build stages as they are rendered before the final FROM: `default` is the
 * default image from envctl.yaml, an image stands as written, an earlier
 * stage by its name, another environment as a base environment is named
 * (`resolve`: by digest once the ledger has its image, else by tag).
 *
 * Stage images are not resolved to digests: the digests a render is given
 * differ between plan, sync and `keys.ts` (each asks for the environment's
 * own base), and the key must be one per revision. Pinning a stage image by
 * digest is the user's (base-image-unpinned warns on none). An environment
 * is different: every caller resolves it from the ledger (sync from what it
 * built just now first), so its digest enters the key as a base's does.
 *
 * Copying from another environment is a stage on it, not a `--from=env:<name>`
 * form: one mechanism (stages already hold what --from may name), the
 * environment named once in YAML where check locates it, and a --from value
 * that stays plain Dockerfile, never a reference the builder would try to pull.
 */
import type { CheckedEnvironment } from '../check/index.js';
import type { Config } from '../model/config.js';
import { imageWithArgs, stageChain, type EnvironmentSpec, type StageSpec } from '../model/spec.js';

export interface RenderedStage {
  name: string;
  /** The FROM reference: an image (by digest when known) or an earlier stage's name. */
  from: string;
  instructions: string;
}

/** Where an environment's image is (render/index.ts BaseResolver). */
type Resolve = (environment: string, revision: number | 'active') => string;

export function renderedStages(env: CheckedEnvironment, config: Config, resolve: Resolve): RenderedStage[] {
  return (env.spec.stages ?? []).map((stage) => ({
    name: stage.name,
    from: stageFrom(stage, env.spec, config, resolve),
    // Trailing white space goes, as for the final block (dockerfile.ts instructionsBlock).
    instructions: (stage.instructions ?? '').replace(/\s+$/, ''),
  }));
}

function stageFrom(stage: StageSpec, spec: EnvironmentSpec, config: Config, resolve: Resolve): string {
  const base = stage.base;
  if (base === 'default') return config.defaultBase.image;
  if ('stage' in base) return base.stage;
  if ('environment' in base) return resolve(base.environment, base.revision ?? 'active');
  // Build arguments filled in by envctl, as for the final base: no ARG is declared before the first FROM, so the builder must see the reference itself.
  return imageWithArgs(base.image, spec);
}

/**
 * The stages as the final image standing on one of them needs them: the
 * stage its chain starts from is FROM `from` (the image base resolution
 * gives the final base: digest-pinned when known, an environment by digest),
 * so the image stands on exactly what plan, sync and the key name.
 */
export function withFinalBase(stages: readonly RenderedStage[], spec: EnvironmentSpec, from: string): RenderedStage[] {
  const chain = stageChain(spec);
  const root = chain?.[chain.length - 1];
  return root === undefined ? [...stages] : stages.map((s, i) => (i === root ? { ...s, from } : s));
}
