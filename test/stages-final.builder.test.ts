/**
 * The final image on one of its stages, that stage's base named through
 * build arguments (one referring to another), built by real buildah and
 * pushed to a real registry: the pushed image holds the stage's file and its
 * own, stands on busybox, and has the layers check counted.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from '../src/git/ledger.js';
import { commit, git } from './fixtures/repo.js';
import { suiteRegistry } from './fixtures/registry.js';
import { tempDir, yaml } from './helpers.js';
import { layerTar, storageConf, tarFiles } from './fixtures/storage.js';

const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');

describe('the final image on a stage with buildah', function () {
  this.timeout(600_000);
  const lab = suiteRegistry('test/busybox:1');
  const cleanup = lab.dirs;

  it('builds FROM the stage, whose base the build arguments name; the image holds both stages\' layers', async () => {
    const storage = await tempDir('envctl-stage-final-storage-');
    cleanup.push(storage);
    const conf = await storageConf(storage);
    const dir = await tempDir('envctl-stage-final-');
    cleanup.push(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: "127.0.0.1:${lab.port}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }',
        'builder: buildah', `imageLayers: { "127.0.0.1:${lab.port}/test/busybox:1": 1 }`),
      '.gitignore': '.envctl/\n',
      'environments/onstage/environment.yaml': yaml(
        'owner: a',
        'base: { stage: base }',
        'buildArgs:',
        `  REGISTRY: "127.0.0.1:${lab.port}"`,
        '  BASE_IMAGE: "$REGISTRY/test/busybox"',
        'stages:',
        '  - name: base',
        '    base: { image: "${BASE_IMAGE}:1" }',
        '    instructions: |',
        '      RUN echo from-the-stage > /stage.txt',
        'instructions: |',
        '  ARG BASE_IMAGE',
        '  RUN cat /stage.txt > /final.txt && echo "$BASE_IMAGE" >> /final.txt',
      ),
    }, 'environments');

    const validate = await execa(process.execPath, [BIN, 'validate'], { cwd: dir, reject: false, all: true });
    expect(validate.exitCode, String(validate.all)).to.equal(0);
    const sync = await execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false, all: true, env: { CONTAINERS_STORAGE_CONF: conf } });
    expect(sync.exitCode, String(sync.all)).to.equal(0);
    const dockerfile = await readFile(join(dir, '.envctl', 'build', 'onstage', 'Dockerfile'), 'utf8');
    expect(dockerfile).to.match(new RegExp(`FROM 127\\.0\\.0\\.1:${lab.port}/test/busybox:1(@sha256:[0-9a-f]{64})? AS base\n`));
    expect(dockerfile).to.match(/\nFROM base\n/);

    const digest = (await readLedger(dir, 'envctl-state')).ledger.get('onstage')!.builds.at(-1)!.digest!;
    const base = `http://127.0.0.1:${lab.port}/v2/envctl/onstage`;
    const manifest = await (await fetch(`${base}/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as { layers: { digest: string }[] };
    const files = new Map<string, string>();
    for (const layer of manifest.layers) {
      const bytes = Buffer.from(await (await fetch(`${base}/blobs/${layer.digest}`)).arrayBuffer());
      for (const [path, text] of tarFiles(layerTar(bytes))) files.set(path, text);
    }
    expect(files.get('stage.txt')).to.equal('from-the-stage\n');
    // The RUN read the stage's file, and the builder got BASE_IMAGE substituted (--build-arg is not expanded by it).
    expect(files.get('final.txt')).to.equal(`from-the-stage\n127.0.0.1:${lab.port}/test/busybox\n`);
    expect(files.has('bin/busybox')).to.equal(true);
    // busybox's layer, the stage's RUN and the final RUN: what check counts for an image on a stage.
    expect(manifest.layers).to.have.length(3);
  });
});
