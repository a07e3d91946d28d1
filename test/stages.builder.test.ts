/**
 * A two-stage environment built by real buildah and pushed to a real
 * registry: the builder stage writes files, the final stage copies one of
 * them; the pushed image holds that file and none of the builder stage's
 * others (only the final stage makes the image).
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from '../src/git/ledger.js';
import { commit, git } from './fixtures/repo.js';
import { suiteRegistry } from './fixtures/registry.js';
import { tempDir, yaml } from './helpers.js';
import { layerTar, storageConf, tarFiles } from './fixtures/storage.js';

const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');

describe('build stages with buildah: only the final stage makes the image', function () {
  this.timeout(600_000);
  const lab = suiteRegistry('test/busybox:1');
  const cleanup = lab.dirs;

  it('the final stage copies the builder stage\'s file; the builder\'s other files are not in the pushed image', async () => {
    const storage = await tempDir('envctl-stages-storage-');
    cleanup.push(storage);
    const conf = await storageConf(storage);
    const dir = await tempDir('envctl-stages-');
    cleanup.push(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: "127.0.0.1:${lab.port}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }', 'builder: buildah'),
      '.gitignore': '.envctl/\n',
      'environments/twostage/environment.yaml': yaml(
        'owner: a',
        'stages:',
        '  - name: build',
        '    base: default',
        '    instructions: |',
        '      COPY source.txt /src/source.txt',
        '      RUN mkdir -p /out && (echo built-by-stage; cat /src/source.txt) > /out/app && echo junk > /builder-only',
        'instructions: |',
        '  COPY --from=build /out/app /opt/app',
      ),
      'environments/twostage/source.txt': 'from-the-context\n',
    }, 'environments');

    const sync = await execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false, all: true, env: { CONTAINERS_STORAGE_CONF: conf } });
    expect(sync.exitCode, String(sync.all)).to.equal(0);
    const dockerfile = await (await import('node:fs/promises')).readFile(join(dir, '.envctl', 'build', 'twostage', 'Dockerfile'), 'utf8');
    expect(dockerfile).to.match(new RegExp(`FROM 127\\.0\\.0\\.1:${lab.port}/test/busybox:1 AS build\n`));

    const digest = (await readLedger(dir, 'envctl-state')).ledger.get('twostage')!.builds.at(-1)!.digest!;
    const base = `http://127.0.0.1:${lab.port}/v2/envctl/twostage`;
    const manifest = await (await fetch(`${base}/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as { layers: { digest: string; mediaType: string }[] };
    const files = new Map<string, string>();
    for (const layer of manifest.layers) {
      const bytes = Buffer.from(await (await fetch(`${base}/blobs/${layer.digest}`)).arrayBuffer());
      for (const [path, text] of tarFiles(layerTar(bytes))) files.set(path, text);
    }
    expect(files.get('opt/app')).to.equal('built-by-stage\nfrom-the-context\n');
    expect(files.has('bin/busybox'), [...files.keys()].join(' ')).to.equal(true);
    for (const path of files.keys()) expect(path).to.not.match(/builder-only|^out\/|^src\//);
    // The busybox base layer and the one COPY layer: the builder stage's RUN and COPY add none.
    expect(manifest.layers).to.have.length(2);
  });
});
