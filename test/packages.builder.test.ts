/**
 * What is inside the image, with real buildah and a real registry (Debian's
 * docker-registry, Distribution 2.8: no referrers API): sync reads a built
 * image's packages back from the registry and pushes its CycloneDX SBOM
 * beside it (tagged sha256-<hex>.sbom); a second revision adds a Debian
 * package and deletes a pip package in a layer of its own (a whiteout), and
 * envctl diff --packages says exactly that; git revert reuses the image and
 * its SBOM; the OCI layout reader reads what the registry reader reads.
 * The image is busybox with dpkg's status and dist-info METADATA copied in:
 * no network, seconds to build.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from '../src/git/ledger.js';
import { activeBuild, succeededBuild, type BuildRecord } from '../src/ledger/model.js';
import { loadConfig } from '../src/config/index.js';
import { resolveStorage, storageArgs } from '../src/builder/storage.js';
import { readImagePackages, readLayoutPackages } from '../src/registry/layers.js';
import { findSbom, sbomTag } from '../src/registry/sbom.js';
import { packagesFromSbom } from '../src/packages/sbom.js';
import { sync } from '../src/sync/index.js';
import { commit, git } from './fixtures/repo.js';
import { cyclonedxValidator } from './fixtures/cyclonedx.js';
import { suiteRegistry } from './fixtures/registry.js';
import { layerTar, tarFiles } from './fixtures/storage.js';
import { removeDir, tempDir, yaml } from './helpers.js';

const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');
const SITE = 'usr/lib/python3/dist-packages';
const DPKG = (...pkgs: [string, string][]) => pkgs.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: ${v}\nDescription: ${n}\n`).join('\n');
const METADATA = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: ${name}\n`;
const access = { insecure: [] };
const platform = 'linux/amd64';

/** The environment's folder: dpkg's status, two dist-info folders and os-release, copied to / in one layer. */
const root = (dpkg: string) => ({
  'environments/img/root/var/lib/dpkg/status': dpkg,
  [`environments/img/root/${SITE}/six-1.16.0.dist-info/METADATA`]: METADATA('six', '1.16.0'),
  [`environments/img/root/${SITE}/numpy-1.26.4.dist-info/METADATA`]: METADATA('numpy', '1.26.4'),
  'environments/img/root/etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
});
const spec = (...steps: string[]) => ({ 'environments/img/environment.yaml': yaml('owner: a', 'instructions: |', '  COPY root/ /', ...steps.map((s) => `  ${s}`)) });


describe('packages: the SBOM of every built image, and package diffs, with buildah and a real registry', function () {
  this.timeout(300_000);
  const lab = suiteRegistry('test/busybox:1');
  let dir: string;
  let config: ReturnType<typeof loadConfig>['config'];
  const repository = () => `127.0.0.1:${lab.port}/envctl/img`;
  const builds = async (): Promise<BuildRecord[]> => (await readLedger(dir, 'envctl-state')).ledger.get('img')!.builds;

  before(async () => {
    dir = await tempDir('envctl-packages-');
    lab.dirs.push(dir);
    const text = yaml(`registry: { address: "127.0.0.1:${lab.port}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }');
    config = loadConfig(new TextEncoder().encode(text)).config;
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, { 'envctl.yaml': text, '.gitignore': '.envctl/\n', ...spec(), ...root(DPKG(['curl', '7.88.1-10+deb12u5'], ['libc6', '2.36-9+deb12u4'])) }, 'img 1');
  });

  it('sync pushes the SBOM beside the image, tagged sha256-<hex>.sbom (no referrers API), and records it; it validates against CycloneDX 1.6', async () => {
    const result = await sync(dir, config);
    expect(result.failed).to.equal(0);
    expect(result.warnings).to.deep.equal([]);
    const first = succeededBuild(await builds(), 1)!;
    expect(first.sbom).to.deep.equal({ digest: first.sbom!.digest, packages: { deb: 2, pypi: 2 } });
    expect(first.sbom!.digest).to.match(/^sha256:[0-9a-f]{64}$/);
    // Distribution 2.8 has no referrers API: the tag scheme finds it.
    const tagged = await fetch(`http://127.0.0.1:${lab.port}/v2/envctl/img/manifests/${sbomTag(first.digest!)}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(tagged.status).to.equal(200);
    expect(tagged.headers.get('docker-content-digest')).to.equal(first.sbom!.digest);
    const found = (await findSbom(repository(), first.digest!, access))!;
    expect(found).to.include({ via: 'tag', digest: first.sbom!.digest });
    const validate = cyclonedxValidator();
    const doc = JSON.parse(found.text) as { metadata: { component: { name: string; version: string } }; components: { purl: string }[] };
    expect(validate(doc), JSON.stringify(validate.errors)).to.equal(true);
    expect(doc.metadata.component).to.include({ name: repository(), version: first.digest });
    expect(doc.components.map((c) => c.purl)).to.deep.equal([
      'pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64', 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64', 'pkg:pypi/numpy@1.26.4', 'pkg:pypi/six@1.16.0',
    ]);
    expect(packagesFromSbom(found.text)).to.deep.equal((await readImagePackages(`${repository()}@${first.digest}`, { access, platform }))!.packages);
  });

  it('a second revision adds a Debian package and deletes a pip package in a layer of its own: its whiteout takes the package off the list', async () => {
    await commit(dir, { ...spec(`RUN rm -rf /${SITE}/six-1.16.0.dist-info`), ...root(DPKG(['curl', '7.88.1-10+deb12u5'], ['jq', '1.6-2.1'], ['libc6', '2.36-9+deb12u4'])) }, 'img 2: jq in, six out');
    const result = await sync(dir, config);
    expect(result.failed).to.equal(0);
    const second = succeededBuild(await builds(), 2)!;
    expect(second.sbom?.packages).to.deep.equal({ deb: 3, pypi: 1 });
    // The RUN's layer holds the whiteout (the dist-info folder stays in the COPY layer below it).
    const manifest = await (await fetch(`http://127.0.0.1:${lab.port}/v2/envctl/img/manifests/${second.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as { layers: { digest: string }[] };
    const top = Buffer.from(await (await fetch(`http://127.0.0.1:${lab.port}/v2/envctl/img/blobs/${manifest.layers.at(-1)!.digest}`)).arrayBuffer());
    expect([...tarFiles(layerTar(top)).keys()]).to.include(`${SITE}/.wh.six-1.16.0.dist-info`);
    const listed = await execa(process.execPath, [BIN, 'packages', 'img', '--json'], { cwd: dir });
    const data = JSON.parse(listed.stdout) as { revision: number; source: string; packages: { ecosystem: string; name: string }[] };
    expect(data).to.include({ revision: 2, source: 'sbom' });
    expect(data.packages.map((p) => `${p.ecosystem} ${p.name}`)).to.deep.equal(['deb curl', 'deb jq', 'deb libc6', 'pypi numpy']);
    const table = await execa(process.execPath, [BIN, 'packages', 'img@1'], { cwd: dir });
    expect(table.stdout).to.contain('deb (2)').and.contain('pypi (2)').and.match(/^ {2}six +1\.16\.0$/m);
  });

  it('envctl diff --packages shows exactly the Debian package added and the pip package removed, and the size change', async () => {
    const text = await execa(process.execPath, [BIN, 'diff', 'img', '1', '2', '--packages'], { cwd: dir });
    const lines = text.stdout.split('\n');
    expect(lines.slice(1, -1)).to.deep.equal(['deb: 1 added', '  + jq 1.6-2.1', 'pypi: 1 removed', '  - six 1.16.0']);
    expect(lines.at(-1)).to.match(/^image size: .+ → .+ \([+−]/);
    const json = JSON.parse((await execa(process.execPath, [BIN, 'diff', 'img', '1', '2', '--packages', '--json'], { cwd: dir })).stdout) as Record<string, unknown>;
    expect(json.packages).to.deep.equal([
      { ecosystem: 'deb', added: [{ name: 'jq', version: '1.6-2.1' }], removed: [], changed: [] },
      { ecosystem: 'pypi', added: [], removed: [{ name: 'six', version: '1.16.0' }], changed: [] },
    ]);
    const [one, two] = [succeededBuild(await builds(), 1)!, succeededBuild(await builds(), 2)!];
    expect(json.sizeChange).to.equal(two.size! - one.size!);
  });

  it('git revert reuses revision 1\'s image, and its record keeps revision 1\'s SBOM, found for the new tag\'s digest', async () => {
    await git(dir, 'revert', '--no-edit', 'HEAD');
    const result = await sync(dir, config);
    expect(result.records.map((r) => [r.revision, r.builder, r.reusedFrom])).to.deep.equal([[3, 'reused', 1]]);
    const [one, three] = [succeededBuild(await builds(), 1)!, activeBuild((await readLedger(dir, 'envctl-state')).ledger.get('img'))!];
    expect(three.revision).to.equal(3);
    expect(three.digest).to.equal(one.digest);
    expect(three.sbom).to.deep.equal(one.sbom);
    const tagDigest = (await fetch(`http://127.0.0.1:${lab.port}/v2/envctl/img/manifests/3`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).headers.get('docker-content-digest')!;
    expect((await findSbom(repository(), tagDigest, access))?.digest).to.equal(one.sbom!.digest);
  });

  it('the OCI layout reader (buildah push IMAGE oci:DIR) gives the same packages as the registry reader', async () => {
    const two = succeededBuild(await builds(), 2)!;
    const layout = join(dir, '.envctl', 'layout');
    const { driver } = await resolveStorage('auto');
    await execa('buildah', [...storageArgs(driver), 'push', two.image!, `oci:${layout}`]);
    const fromLayout = (await readLayoutPackages(layout, { platform }))!;
    const fromRegistry = (await readImagePackages(`${repository()}@${two.digest}`, { access, platform }))!;
    expect(fromLayout.packages).to.deep.equal(fromRegistry.packages);
    expect(fromLayout.distro).to.equal('debian');
    expect(fromLayout.packages.map((p) => p.name)).to.deep.equal(['curl', 'jq', 'libc6', 'numpy']);
  });

  it('an image whose packages cannot be read is still a good build: recorded without sbom, and the sync says why', async () => {
    // A conda record past its 32 MiB limit (zeros: a small layer) is refused, not read into memory.
    await commit(dir, { ...spec('RUN mkdir -p /opt/conda/conda-meta && head -c 33554433 /dev/zero > /opt/conda/conda-meta/big-1-0.json') }, 'img 4: too much metadata');
    const result = await sync(dir, config);
    expect(result.failed).to.equal(0);
    const four = succeededBuild(await builds(), 4)!;
    expect(four).to.not.have.property('sbom');
    expect(result.warnings).to.have.length(1);
    // Read from local storage, where the image still is after its build: no layer to name.
    expect(result.warnings[0]).to.match(/^img@4: no SBOM: image .+: opt\/conda\/conda-meta\/big-1-0\.json \(33554433 bytes\) is larger than the 33554432 bytes envctl reads$/);
    const listed = await execa(process.execPath, [BIN, 'packages', 'img'], { cwd: dir, reject: false });
    expect(listed.exitCode).to.equal(1);
    // envctl packages reads the registry's layers, and names the layer.
    expect(listed.stderr).to.match(/big-1-0\.json \(33554433 bytes, in layer sha256:[0-9a-f]{64}\) is larger than the 33554432 bytes envctl reads/);
  });

  after(() => removeDir(dir));
});
