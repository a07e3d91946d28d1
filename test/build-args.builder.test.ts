/**
 * Build arguments with real buildah and a real registry: the base image
 * reference takes its tag from a build argument, and a RUN step sees the
 * argument's value; the pushed image's layer holds what it wrote.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { readLedger } from '../src/git/ledger.js';
import { commit, git } from './fixtures/repo.js';
import { suiteRegistry } from './fixtures/registry.js';
import { tempDir, yaml } from './helpers.js';
import { storageConf } from './fixtures/storage.js';

const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');
/** Written by the RUN step from $NAME alone: found in a layer only if the value reached the build. */
const VALUE = 'value-from-build-arg-7f3a';

describe('build arguments with buildah: base tag and RUN from buildArgs', function () {
  this.timeout(600_000);
  const lab = suiteRegistry('test/busybox:1.36');
  const cleanup = lab.dirs;

  it('builds FROM the reference the arguments resolve, and RUN writes the argument\'s value into the image', async () => {
    const storage = await tempDir('envctl-args-storage-');
    cleanup.push(storage);
    const conf = await storageConf(storage);
    const dir = await tempDir('envctl-args-');
    cleanup.push(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: "127.0.0.1:${lab.port}" }`, 'builder: buildah'),
      '.gitignore': '.envctl/\n',
      'environments/args.yaml': yaml(
        'owner: a',
        'base:',
        `  image: "127.0.0.1:${lab.port}/test/busybox:\${BUSYBOX_VERSION}"`,
        'buildArgs:',
        '  BUSYBOX_VERSION: "1.36"',
        `  NAME: "${VALUE}"`,
        'instructions: |',
        '  ARG NAME',
        '  RUN echo "$NAME" > /name',
      ),
    }, 'environments');

    const sync = await execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false, all: true, env: { CONTAINERS_STORAGE_CONF: conf } });
    expect(sync.exitCode, String(sync.all)).to.equal(0);

    const dockerfile = await execa(process.execPath, [BIN, 'render', 'args'], { cwd: dir, reject: false, all: true, env: { ENVCTL_OFFLINE: '1' } });
    expect(String(dockerfile.all)).to.contain(`FROM 127.0.0.1:${lab.port}/test/busybox:1.36`);
    expect(String(dockerfile.all)).to.not.contain(VALUE); // the value comes from --build-arg, never the Dockerfile

    const record = (await readLedger(dir, 'envctl-state')).ledger.get('args')!.builds.at(-1)!;
    expect(record.status).to.equal('succeeded');
    const base = `http://127.0.0.1:${lab.port}/v2/envctl/args`;
    const manifest = await (await fetch(`${base}/manifests/${record.digest}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    })).json() as { layers: { digest: string; mediaType: string }[] };
    let found = false;
    for (const layer of manifest.layers) {
      const bytes = Buffer.from(await (await fetch(`${base}/blobs/${layer.digest}`)).arrayBuffer());
      const plain = layer.mediaType.includes('gzip') ? gunzipSync(bytes) : bytes;
      if (plain.includes(`${VALUE}\n`)) found = true;
    }
    expect(found, 'a layer holds /name with the value').to.equal(true);
  });
});
