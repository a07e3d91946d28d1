/**
 * The commands `envctl run` gives buildah and podman (builder/container.ts),
 * without running them: an OCI runtime like builds (rootless when not root),
 * the storage driver builds use, the host's network for a tool's port, and
 * the image only by digest.
 */
import { expect } from 'chai';
import { engineArgs, runContainer, type ContainerRun } from '../src/builder/container.js';
import { EnvctlError } from '../src/model/errors.js';

const IMAGE = `127.0.0.1:5115/envctl/runner@sha256:${'a'.repeat(64)}`;
const RUN: ContainerRun = {
  image: IMAGE, script: 'echo hi', env: [{ name: 'GREETING', value: 'hello' }], secrets: [],
  mounts: [{ host: '/work/p', container: '/mnt/project' }], insecure: true, storage: 'overlay',
};

describe('envctl run: the container commands', () => {
  it('as root: buildah run in an OCI container (runc, cgroupfs) on the builds\' storage driver, the image pulled only if missing', () => {
    const [from, run, rm] = engineArgs('buildah', RUN, '/tmp/s', 'envctl-run-x', true);
    expect(from).to.deep.equal(['--storage-driver', 'overlay', 'from', '--name', 'envctl-run-x', '--pull=missing', '--tls-verify=false', IMAGE]);
    expect(run).to.deep.equal(['--storage-driver', 'overlay', 'run', '--isolation', 'oci', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--network', 'host',
      '--volume', '/work/p:/mnt/project', '--volume', '/tmp/s:/run/envctl:ro', '--env', 'GREETING=hello', 'envctl-run-x', '--', '/bin/sh', '-c', 'echo hi']);
    expect(rm).to.deep.equal(['--storage-driver', 'overlay', 'rm', 'envctl-run-x']);
    expect(run).to.not.include('chroot');
  });

  it('not root: the same runtime in a user namespace (--isolation rootless); vfs when asked', () => {
    const [, run] = engineArgs('buildah', { ...RUN, storage: 'vfs' }, '/tmp/s', 'n', false);
    expect(run!.slice(0, 11)).to.deep.equal(['--storage-driver', 'vfs', 'run', '--isolation', 'rootless', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--network', 'host']);
  });

  it('a bare chroot only when envctl.yaml says isolation: chroot', () => {
    const [, run] = engineArgs('buildah', { ...RUN, isolation: 'chroot' }, '/tmp/s', 'n', true);
    expect(run!.slice(2, 6)).to.deep.equal(['run', '--isolation', 'chroot', '--network']);
  });

  it('podman: created (the only step that may pull), started attached, removed', () => {
    const steps = engineArgs('podman', { ...RUN, authFile: '/tmp/a.json' }, '/tmp/s', 'n', false);
    expect(steps[0]!.slice(0, 6)).to.deep.equal(['create', '--name', 'n', '--pull=missing', '--tls-verify=false', '--authfile']);
    expect(steps[0]).to.include(IMAGE);
    expect(steps.slice(1)).to.deep.equal([['start', '--attach', 'n'], ['rm', '--force', 'n']]);
  });

  it('refuses an image named by tag: a local tag may be another clone\'s', async () => {
    for (const image of ['127.0.0.1:5115/envctl/runner:2', '127.0.0.1:5115/envctl/runner']) {
      const err = await runContainer('buildah', { ...RUN, image }).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(EnvctlError);
      expect((err as EnvctlError).toJSON()).to.deep.include({ kind: 'internal', code: 'image-not-by-digest' });
    }
  });
});
