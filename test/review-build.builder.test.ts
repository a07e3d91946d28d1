/**
 * A pull request's review build with real buildah and a real registry: the
 * changed environment and the one built on it are built here, the dependent
 * FROM the local image; nothing is pushed and the ledger is untouched; each
 * image is in an OCI layout with its size; a failing RUN fails the build with
 * its log tail, skips its dependent, and exits 1; and envctl plan puts what
 * the builds found into the plan comment.
 */
import { expect } from 'chai';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { readLedger } from '../src/git/ledger.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { sync } from '../src/sync/index.js';
import { reviewBuild } from '../src/sync/review-build.js';
import { runEnvctl } from './fixtures/cli.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';

const PORT = await freePort();
const CONFIG_TEXT = yaml(`registry: { address: "127.0.0.1:${PORT}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }');
const config = loadConfig(new TextEncoder().encode(CONFIG_TEXT)).config;
const A = (run: string) => yaml('owner: a', 'instructions: |', `  RUN ${run}`);
const B = yaml('owner: a', 'base: { environment: a }', 'instructions: |', '  RUN cat /a > /b');
const SITE = 'usr/lib/python3/dist-packages';
const DPKG = (...pkgs: [string, string][]) => pkgs.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\n`).join('\n');
/** A folder environment whose image holds dpkg's status (these packages) and, unless `six` is false, six's METADATA; its image test. */
const P = (deb: [string, string][], six: boolean, test: string) => ({
  'environments/p/environment.yaml': yaml('owner: a', 'instructions: |', '  COPY root/ /', 'tests:', `  commands: [${JSON.stringify(test)}]`),
  'environments/p/root/var/lib/dpkg/status': DPKG(...deb),
  ...(six ? { [`environments/p/root/${SITE}/six-1.16.0.dist-info/METADATA`]: 'Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n' } : {}),
});

async function tags(name: string): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${PORT}/v2/envctl/${name}/tags/list`);
  // Revision tags only: an SBOM beside an image has a tag of its own (sha256-<hex>.sbom).
  return (((await res.json()) as { tags?: string[] }).tags ?? []).filter((t) => /^\d+$/.test(t)).sort();
}

describe('envctl build: a review build, nothing pushed or recorded', function () {
  this.timeout(300_000);
  let registry: RunningRegistry;
  let registryData: string;
  let dir: string;

  before(async () => {
    registryData = await tempDir('envctl-registry-');
    registry = await startRegistry(registryData, PORT);
    await pushBusybox(`127.0.0.1:${PORT}/test/busybox:1`);
    dir = await tempDir('envctl-review-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': CONFIG_TEXT, '.gitignore': '.envctl/\n', 'environments/a.yaml': A('echo one > /a'), 'environments/b.yaml': B,
      ...P([['base-files', '12.4']], true, 'test -f /var/lib/dpkg/status'),
    }, 'a, b and p');
    expect((await sync(dir, config)).failed).to.equal(0);
    await git(dir, 'checkout', '-q', '-b', 'change');
  });
  after(async () => {
    await registry.stop();
    await removeDir(dir);
    await removeDir(registryData);
  });

  it('builds the change and its dependent FROM the local image, pushes nothing, leaves the ledger alone', async () => {
    await commit(dir, { 'environments/a.yaml': A('echo two > /a && head -c 100000 /dev/urandom > /big') }, 'a: two');
    const ledgerBefore = await git(dir, 'rev-parse', 'envctl-state');
    const result = await reviewBuild(dir, config);
    expect(result.builds.map((b) => [b.environment, b.revision, b.status])).to.deep.equal([['a', 2, 'succeeded'], ['b', 1, 'succeeded']]);
    expect(result.failed).to.equal(0);
    expect(await tags('a')).to.deep.equal(['1']);
    expect(await tags('b')).to.deep.equal(['1']);
    expect(await git(dir, 'rev-parse', 'envctl-state')).to.equal(ledgerBefore);
    // b was built on a's review image: its Dockerfile names the local image, not the registry's.
    expect(await readFile(join(dir, '.envctl', 'build', 'b', 'Dockerfile'), 'utf8')).to.contain('FROM localhost/envctl-review/a:2');
    const [a, b] = result.builds;
    const { ledger } = await readLedger(dir, 'envctl-state');
    const activeA = ledger.get('a')!.builds[0]!;
    expect(a!.active).to.deep.equal({ revision: 1, size: activeA.size });
    // 100 kB of random bytes do not compress: the review image is that much bigger than the active one.
    expect(a!.size! - activeA.size!).to.be.above(90_000);
    expect(b!.size).to.be.above(a!.size!);
    expect((await stat(join(dir, '.envctl', 'review', 'a', 'index.json'))).isFile()).to.equal(true);
  });

  it('a failing RUN fails with its log tail, skips what is built on it, exits 1, and the plan comment says so', async () => {
    await commit(dir, { 'environments/a.yaml': A('echo about to fail && exit 3') }, 'a: broken');
    const results = join(dir, '.envctl', 'review-builds.json');
    const run = await runEnvctl(dir, ['build', '--results', results]);
    expect(run.code).to.equal(1);
    expect(run.err).to.contain('built 2 environments in review (2 failed)');
    const file = JSON.parse(await readFile(results, 'utf8')) as { format: string; builds: { environment: string; status: string; failure?: { kind: string }; logTail?: string; reason?: string }[] };
    expect(file.format).to.equal('envctl-review-builds/1');
    expect(file.builds[0]).to.include({ environment: 'a', status: 'failed' });
    expect(file.builds[0]!.failure).to.deep.equal({ kind: 'build' });
    expect(file.builds[0]!.logTail).to.contain('about to fail');
    expect(file.builds[1]).to.include({ environment: 'b', status: 'failed', reason: 'its base a did not build' });
    expect(await tags('a')).to.deep.equal(['1']);

    const md = join(dir, '.envctl', 'plan.md');
    const plan = await runEnvctl(dir, ['plan', '--base', 'main', '--markdown', md, '--review-builds', results]);
    expect(plan.code).to.equal(0);
    const text = await readFile(md, 'utf8');
    expect(text).to.contain('**2 review builds fail**: `a`, `b`');
    expect(text).to.contain('| a | 1 → 2 | build ❌ |');
    expect(text).to.contain('about to fail');
    expect(text).to.contain('- Review build of `b`: ❌ not built: its base a did not build');
  });

  it('the package diff against the active revision reaches the plan comment; a failing image test fails the review build', async () => {
    // One Debian package added, the pip package removed, in what p's review image holds.
    await git(dir, 'rm', '-q', `environments/p/root/${SITE}/six-1.16.0.dist-info/METADATA`);
    await commit(dir, P([['base-files', '12.4'], ['hello', '2.10-3']], false, 'test -f /var/lib/dpkg/status'), 'p: hello in, six out');
    const results = join(dir, '.envctl', 'review-builds.json');
    await runEnvctl(dir, ['build', '--only', 'p', '--results', results]);
    const md = join(dir, '.envctl', 'plan.md');
    expect((await runEnvctl(dir, ['plan', '--base', 'main', '--markdown', md, '--review-builds', results])).code).to.equal(0);
    const text = await readFile(md, 'utf8');
    expect(text).to.contain('**Package diff against revision 1: 1 added, 1 removed, 0 changed**');
    expect(text).to.contain('| deb | hello | – | 2.10-3 |');
    expect(text).to.contain('| pypi | six | 1.16.0 | – |');

    await commit(dir, P([['base-files', '12.4']], false, 'test -f /no/such/file'), 'p: a test that fails');
    const run = await runEnvctl(dir, ['build', '--only', 'p', '--results', results]);
    expect(run.code).to.equal(1);
    const file = JSON.parse(await readFile(results, 'utf8')) as { builds: { environment: string; status: string; failure?: { kind: string }; reason?: string }[] };
    const p = file.builds.find((b) => b.environment === 'p')!;
    expect(p.status).to.equal('failed');
    expect(p.failure).to.deep.equal({ kind: 'test' });
    expect(p.reason).to.contain('test -f /no/such/file');
  });

  it('envctl site --packages lists each built image\'s packages from the registry; without it, only the counts', async () => {
    const withPackages = join(dir, '.envctl', 'site-with');
    const without = join(dir, '.envctl', 'site-without');
    const a = await runEnvctl(dir, ['site', '--out', withPackages, '--packages']);
    expect(a.code).to.equal(0, a.err);
    expect(await readFile(join(withPackages, 'environments', 'p.html'), 'utf8')).to.contain('base-files').and.to.contain('six');
    const b = await runEnvctl(dir, ['site', '--out', without]);
    expect(b.code).to.equal(0, b.err);
    expect(await readFile(join(without, 'environments', 'p.html'), 'utf8')).to.not.contain('base-files');
  });

  it('plan --review-builds refuses a file envctl build did not write, as a usage error', async () => {
    const bad = join(dir, '.envctl', 'not-builds.json');
    await writeFile(bad, '{"format":"something-else"}');
    const plan = await runEnvctl(dir, ['plan', '--base', 'main', '--review-builds', bad]);
    expect(plan.code).to.equal(2);
    expect(plan.err).to.contain('is not a file envctl build --results wrote');
  });

  it('with --base builds only what the change touches, not what the target itself lacks; a build secret it is not given is said, not failed', async () => {
    await git(dir, 'checkout', '-q', 'main');
    // main moved on without a sync: x is new there, and the ledger lacks it.
    await commit(dir, { 'environments/x.yaml': A('echo x > /x') }, 'x, not synced');
    await git(dir, 'checkout', '-q', '-b', 'touch-b');
    await commit(dir, {
      'environments/b.yaml': B.replace('cat /a > /b', 'cat /a > /b && echo again >> /b'),
      'environments/s.yaml': yaml('owner: a', 'buildSecrets: { token: { env: ENVCTL_TEST_UNSET_SECRET } }', 'instructions: |', '  RUN --mount=type=secret,id=token true'),
    }, 'b: again; s needs a secret');
    const everything = await reviewBuild(dir, config, { only: ['b', 'x'] });
    expect(everything.builds.map((b) => b.environment).sort()).to.deep.equal(['b', 'x']);
    const results = join(dir, '.envctl', 'review-base.json');
    const run = await runEnvctl(dir, ['build', '--base', 'main', '--results', results]);
    expect(run.code, run.err).to.equal(0);
    const file = JSON.parse(await readFile(results, 'utf8')) as { builds: { environment: string; status: string; failure?: { kind: string }; reason?: string }[] };
    expect(file.builds.map((b) => [b.environment, b.status, b.failure?.kind])).to.deep.equal([['b', 'succeeded', undefined], ['s', 'failed', 'unbuildable']]);
    expect(file.builds[1]!.reason).to.equal('needs the build secret token (variable ENVCTL_TEST_UNSET_SECRET), which a pull request is not given');
    const md = join(dir, '.envctl', 'plan-base.md');
    expect((await runEnvctl(dir, ['plan', '--base', 'main', '--markdown', md, '--review-builds', results])).code).to.equal(0);
    const text = await readFile(md, 'utf8');
    expect(text).to.contain('- Review build: ⚠️ not built in review: needs the build secret token');
    expect(text).to.not.contain('review build fails');
  });

  it('a dependent pinning the revision the change makes (as an imported history pins) builds FROM the review image', async () => {
    await git(dir, 'checkout', '-q', 'main');
    await git(dir, 'checkout', '-q', '-b', 'pin-new');
    await commit(dir, {
      'environments/a.yaml': A('echo pinned > /a'),
      'environments/q.yaml': yaml('owner: a', 'base: { environment: a, revision: 2 }', 'instructions: |', '  RUN grep pinned /a > /q'),
    }, 'a: two; q on a@2');
    // Its plan group holds a too (a CI matrix job builds them together), so --only q builds a first.
    const result = await reviewBuild(dir, config, { only: ['q'] });
    const row = (name: string) => result.builds.filter((b) => b.environment === name).map((b) => [b.revision, b.status, b.reason]);
    expect([row('a'), row('q')]).to.deep.equal([[[2, 'succeeded', undefined]], [[1, 'succeeded', undefined]]]);
    expect(await readFile(join(dir, '.envctl', 'build', 'q', 'Dockerfile'), 'utf8')).to.contain('FROM localhost/envctl-review/a:2');
  });
});
