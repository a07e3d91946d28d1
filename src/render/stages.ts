/**
 * Build stages as they are rendered before the final FROM: `default` is the
 * default image from envctl.yaml, an image stands as written, an earlier
 * stage by its name. Stage images are not resolved to digests: the digests a
 * render is given differ between plan, sync and `keys.ts` (each asks for the
 * environment's own base), and the key must be one per revision. Pinning a
 * stage image by digest is the user's (base-image-unpinned warns on none).
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

export function renderedStages(env: CheckedEnvironment, config: Config): RenderedStage[] {
  return (env.spec.stages ?? []).map((stage) => ({
    name: stage.name,
    from: stageFrom(stage, config),
    // Trailing white space goes, as for the final block (dockerfile.ts instructionsBlock).
    instructions: stage.instructions.replace(/\s+$/, ''),
  }));
}

function stageFrom(stage: StageSpec, config: Config): string {
  const base = stage.base;
  if (typeof base === 'object' && 'stage' in base) return base.stage;
  return base === 'default' ? config.defaultBase.image : base.image;
}
