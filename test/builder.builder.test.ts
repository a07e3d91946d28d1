/**
 * Builders as the build machine has them: buildah installed (`builder:
 * auto` picks it), a docker client without the buildx plugin. The argument
 * arrays and progress lines are in builder.test.ts.
 */
import { expect } from 'chai';
import { dockerBuildxVersion } from '../src/builder/docker.js';
import { BuilderUnavailable, chooseBuilder } from '../src/builder/index.js';

describe('builder: buildah and docker buildx', () => {
  it('docker buildx is reported by version, or, when missing (as on this machine), named with what to do instead', async () => {
    const got = await dockerBuildxVersion().then((v) => v, (e: unknown) => e);
    if (typeof got === 'string') {
      expect(got).to.match(/^docker buildx v?\d+\.\d+/);
      return;
    }
    expect(got).to.be.instanceOf(BuilderUnavailable);
    expect((got as Error).message).to.match(/^docker buildx is not available .*builder: buildah/);
    const chosen = await chooseBuilder('docker').then(() => undefined, (e: unknown) => e);
    expect(chosen).to.be.instanceOf(BuilderUnavailable);
  });

  it('auto picks buildah where it is installed', async () => {
    expect((await chooseBuilder('auto')).version).to.match(/^buildah \d+\.\d+/);
  });
});
