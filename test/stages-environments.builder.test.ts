/**
 * Copying from another environment, built by real buildah and pushed to a
 * real registry: environment b has a stage on environment a and copies a
 * file from it. One `envctl sync` builds a first, then b FROM a's image by
 * digest; b's image holds the file and nothing else of a's.
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

describe('copying from another environment with buildah: one sync builds the source, then the copier on its digest', function () {
  this.timeout(900_000);
  const lab = suiteRegistry('test/busybox:1');
  const cleanup = lab.dirs;

  it('environment b copies a file from environment a\'s image; a second sync builds nothing', async () => {
    const storage = await tempDir('envctl-stages-env-storage-');
    cleanup.push(storage);
    const conf = await storageConf(storage);
    const dir = await tempDir('envctl-stages-env-');
    cleanup.push(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: "127.0.0.1:${lab.port}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }', 'builder: buildah'),
      '.gitignore': '.envctl/\n',
      'environments/a.yaml': yaml('owner: a', 'instructions: |', '  RUN mkdir -p /opt/made && echo made-in-a > /opt/made/file && echo a-only > /a-only'),
      'environments/b.yaml': yaml(
        'owner: a',
        'stages:',
        '  - name: froma',
        '    base: { environment: a }',
        'instructions: |',
        '  COPY --from=froma /opt/made/file /opt/from-a',
      ),
    }, 'environments');

    const env = { CONTAINERS_STORAGE_CONF: conf };
    const sync = await execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false, all: true, env });
    expect(sync.exitCode, String(sync.all)).to.equal(0);
    const { ledger } = await readLedger(dir, 'envctl-state');
    const a = ledger.get('a')!.builds.at(-1)!;
    const b = ledger.get('b')!.builds.at(-1)!;
    expect([a.status, b.status]).to.deep.equal(['succeeded', 'succeeded']);
    expect(Date.parse(b.startedAt)).to.be.at.least(Date.parse(a.endedAt!));
    const dockerfile = await readFile(join(dir, '.envctl', 'build', 'b', 'Dockerfile'), 'utf8');
    expect(dockerfile).to.contain(`FROM 127.0.0.1:${lab.port}/envctl/a@${a.digest} AS froma\n`);

    const base = `http://127.0.0.1:${lab.port}/v2/envctl/b`;
    const manifest = await (await fetch(`${base}/manifests/${b.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as { layers: { digest: string; mediaType: string }[] };
    const files = new Map<string, string>();
    for (const layer of manifest.layers) {
      const bytes = Buffer.from(await (await fetch(`${base}/blobs/${layer.digest}`)).arrayBuffer());
      for (const [path, text] of tarFiles(layerTar(bytes))) files.set(path, text);
    }
    expect(files.get('opt/from-a')).to.equal('made-in-a\n');
    expect(files.has('a-only'), [...files.keys()].join(' ')).to.equal(false);

    // The key b recorded is the one plan computes from the ledger: nothing is left to build.
    const again = await execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false, all: true, env });
    expect(again.exitCode, String(again.all)).to.equal(0);
    const after = (await readLedger(dir, 'envctl-state')).ledger;
    expect([after.get('a')!.builds.length, after.get('b')!.builds.length]).to.deep.equal([1, 1]);
  });
});
