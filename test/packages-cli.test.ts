/**
 * envctl packages and envctl diff --packages in-process, on a repository
 * whose ledger names images in an OCI registry stand-in: read from the
 * layers, or from the SBOM beside the image once there is one; names and
 * versions from the image printed through printable; the usage errors.
 */
import { expect } from 'chai';
import { recordBuilds } from '../src/git/ledger.js';
import type { BuildRecord } from '../src/ledger/model.js';
import { buildSbom } from '../src/packages/sbom.js';
import { pushSbom } from '../src/registry/sbom.js';
import { runEnvctl } from './fixtures/cli.js';
import { makeTar, OciRegistry } from './fixtures/oci-registry.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';

const DPKG = (...pkgs: [string, string][]) => pkgs.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\n`).join('\n');
const METADATA = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;
const SITE = 'usr/lib/python3/dist-packages';

describe('envctl packages and diff --packages', () => {
  let registry: OciRegistry;
  let dir: string;
  const subjects: { digest: string; mediaType: string; size: number }[] = [];

  before(async () => {
    registry = new OciRegistry();
    await registry.start();
    dir = await tempDir('envctl-packages-cli-');
    await git(dir, 'init', '-q', '-b', 'main');
    const config = yaml(`registry: { address: "${registry.address}" }`);
    await commit(dir, { 'envctl.yaml': config, 'environments/a.yaml': yaml('owner: a', 'instructions: |', '  RUN echo 1') }, 'a 1');
    await commit(dir, { 'environments/a.yaml': yaml('owner: a', 'instructions: |', '  RUN echo 2') }, 'a 2');
    await commit(dir, { 'environments/a.yaml': yaml('owner: a', 'instructions: |', '  RUN echo 3') }, 'a 3 (not built)');
    subjects.push(registry.image('envctl/a', '1', [
      await makeTar([{ name: 'var/lib/dpkg/status', text: DPKG(['curl', '7.88.1'], ['libc6', '2.36-9'], ['git', '1:2.39.2-1']) }, { name: `${SITE}/six-1.16.0.dist-info/METADATA`, text: METADATA('six', '1.16.0') }]),
    ]));
    subjects.push(registry.image('envctl/a', '2', [
      await makeTar([{ name: 'var/lib/dpkg/status', text: DPKG(['curl', '7.88.1'], ['libc6', '2.36-9'], ['git', '1:2.39.5-0'], ['jq', '1.6-2.1']) }, { name: `${SITE}/six-1.16.0.dist-info/METADATA`, text: METADATA('six', '1.16.0') }]),
      await makeTar([{ name: `${SITE}/.wh.six-1.16.0.dist-info`, text: '' }, { name: `${SITE}/evil-1.dist-info/METADATA`, text: METADATA('evil\u001b]0;owned\u0007', '1\u202e2') }]),
    ]));
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString();
    const head = await git(dir, 'rev-parse', 'HEAD');
    const builds: BuildRecord[] = subjects.map((s, i) => ({
      id: `${i + 1}-${at(i)}-abcdef`, revision: i + 1, commit: head, contentKey: `sha256:${String(i).repeat(64)}`, status: 'succeeded',
      image: `${registry.address}/envctl/a:${i + 1}`, digest: s.digest, startedAt: at(i), endedAt: at(i), size: [1000, 1500][i]!,
    }));
    await recordBuilds(dir, 'envctl-state', new Map([['a', builds]]), { summary: 'two builds' });
  });
  after(async () => {
    await registry.stop();
    await removeDir(dir);
  });

  it('lists the active revision\'s packages by ecosystem, read from its layers; values from the image shown escaped', async () => {
    const r = await runEnvctl(dir, ['packages', 'a']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.equal([
      `a@2: ${registry.address}/envctl/a@${subjects[1]!.digest}, 5 packages (read from its layers)`,
      '',
      'deb (4)',
      '  NAME   VERSION     ARCH',
      '  curl   7.88.1      amd64',
      '  git    1:2.39.5-0  amd64',
      '  jq     1.6-2.1     amd64',
      '  libc6  2.36-9      amd64',
      '',
      'pypi (1)',
      '  NAME                      VERSION',
      '  evil\\u001b]0;owned\\u0007  1\\u202e2',
    ].join('\n'));
  });

  it('--json prints the data; a revision given by number; once an SBOM is beside the image it is read instead of the layers', async () => {
    const before = JSON.parse((await runEnvctl(dir, ['packages', 'a@1', '--json'])).out) as Record<string, unknown>;
    expect(before).to.deep.include({ environment: 'a', revision: 1, image: `${registry.address}/envctl/a@${subjects[0]!.digest}`, platform: 'linux/amd64', source: 'layers', size: 1000, counts: { deb: 3, pypi: 1 } });
    expect((before.packages as { name: string }[]).map((p) => p.name)).to.deep.equal(['curl', 'git', 'libc6', 'six']);
    const text = buildSbom((before.packages as never), { image: `${registry.address}/envctl/a`, digest: subjects[0]!.digest });
    const pushed = await pushSbom(`${registry.address}/envctl/a`, subjects[0]!, text, { insecure: [] });
    const blobsBefore = registry.requests.filter((q) => q.path.includes('/blobs/')).length;
    const after = JSON.parse((await runEnvctl(dir, ['packages', 'a@1', '--json'])).out) as Record<string, unknown>;
    expect(after).to.deep.include({ source: 'sbom', sbom: pushed.digest });
    expect(after.packages).to.deep.equal(before.packages);
    // One blob read: the SBOM, not the image's layers.
    expect(registry.requests.filter((q) => q.path.includes('/blobs/')).length - blobsBefore).to.equal(1);
  });

  it('diff --packages: added, removed and changed per ecosystem, and the size change', async () => {
    const r = await runEnvctl(dir, ['diff', 'a', '1', '2', '--packages']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out.split('\n').slice(1)).to.deep.equal([
      'deb: 1 added, 1 changed',
      '  + jq 1.6-2.1',
      '  ~ git 1:2.39.2-1 → 1:2.39.5-0',
      'pypi: 1 added, 1 removed',
      '  + evil\\u001b]0;owned\\u0007 1\\u202e2',
      '  - six 1.16.0',
      'image size: 1000 B → 1.46 KiB (+500 B)',
    ]);
    const json = JSON.parse((await runEnvctl(dir, ['diff', 'a', '1', '2', '--packages', '--json'])).out) as Record<string, unknown>;
    expect(json.sizeChange).to.equal(500);
    expect(json.packages).to.deep.equal([
      { ecosystem: 'deb', added: [{ name: 'jq', version: '1.6-2.1' }], removed: [], changed: [{ name: 'git', from: '1:2.39.2-1', to: '1:2.39.5-0' }] },
      { ecosystem: 'pypi', added: [{ name: 'evil\u001b]0;owned\u0007', version: '1\u202e2' }], removed: [{ name: 'six', version: '1.16.0' }], changed: [] },
    ]);
    expect((json.from as { source: string }).source).to.equal('sbom');
    expect((await runEnvctl(dir, ['diff', 'a', '2', '2', '--packages'])).out.split('\n').slice(1)).to.deep.equal(['no package differs', 'image size: 1.46 KiB → 1.46 KiB (no change)']);
  });

  it('a revision without a built image, --packages without two revisions and --json without --packages are usage errors (exit 2)', async () => {
    const unbuilt = await runEnvctl(dir, ['packages', 'a@3']);
    expect(unbuilt.code).to.equal(2);
    expect(unbuilt.err).to.contain('a revision 3 has no built image');
    expect((await runEnvctl(dir, ['packages', 'a@9'])).err).to.contain('there is no revision 9');
    expect((await runEnvctl(dir, ['diff', 'a', '1', '--packages'])).err).to.contain('--packages compares two built revisions');
    expect((await runEnvctl(dir, ['diff', 'a', '1', '2', '--json'])).err).to.contain('--json goes with --packages');
    expect((await runEnvctl(dir, ['diff', 'a', '1', '3', '--packages'])).code).to.equal(2);
  });

  it('an image the registry no longer has exits 1, naming the registry', async () => {
    registry.manifests.delete(`envctl/a@${subjects[1]!.digest}`);
    const r = await runEnvctl(dir, ['packages', 'a']);
    expect(r.code).to.equal(1);
    expect(r.err).to.contain(`registry ${registry.address}: does not have ${registry.address}/envctl/a@${subjects[1]!.digest}`);
  });
});
