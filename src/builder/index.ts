/** Picks the builder envctl.yaml asks for: buildah, docker buildx, or (auto) buildah when installed, else docker buildx. */
import type { Config } from '../model/config.js';
import { buildah } from './buildah.js';
import { dockerBuildx } from './docker.js';
import { BuilderUnavailable, type Builder } from './types.js';

export { BuildCancelled, BuilderUnavailable, BuildFailed, type Builder, type BuildRequest } from './types.js';

/** `buildx`: envctl.yaml's named buildx builder, checked before any build (builder: docker). */
export async function chooseBuilder(choice: Config['builder'], buildx: Config['buildx'] = {}): Promise<Builder> {
  if (choice === 'docker') return dockerBuildx(buildx.builder);
  try {
    return await buildah();
  } catch (err) {
    if (choice === 'buildah') throw new BuilderUnavailable(`buildah is not available (${(err as Error).message.split('\n')[0]}); run scripts/ensure.sh apt buildah`);
  }
  try {
    return await dockerBuildx(buildx.builder);
  } catch (err) {
    throw new BuilderUnavailable(`no builder found: buildah is not installed and ${(err as Error).message}`);
  }
}
