/**
 * Build stages as they are rendered before the final FROM: each base
 * resolved as the environment's own is (the default image from envctl.yaml;
 * an image by digest when the registry told it), an earlier stage by name.
 */
import type { CheckedEnvironment } from '../check/index.js';
import type { Config } from '../model/config.js';
import type { StageSpec } from '../model/spec.js';

export interface RenderedStage {
  name: string;
  /** The FROM reference: an image (by digest when known) or an earlier stage's name. */
  from: string;
  instructions: string;
}

export function renderedStages(env: CheckedEnvironment, config: Config, imageDigests?: Map<string, string>): RenderedStage[] {
  return (env.spec.stages ?? []).map((stage) => ({
    name: stage.name,
    from: stageFrom(stage, config, imageDigests),
    // Trailing white space goes, as for the final block (dockerfile.ts instructionsBlock).
    instructions: stage.instructions.replace(/\s+$/, ''),
  }));
}

function stageFrom(stage: StageSpec, config: Config, imageDigests?: Map<string, string>): string {
  const base = stage.base;
  if (typeof base === 'object' && 'stage' in base) return base.stage;
  const ref = base === 'default' ? config.defaultBase.image : base.image;
  const digest = ref.includes('@') ? undefined : imageDigests?.get(ref);
  return digest ? `${ref}@${digest}` : ref;
}
