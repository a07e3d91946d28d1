/**
 * Publishing active revisions to the hosted product, end to end: two
 * product environments (one built on the other, a secret variable) are
 * imported from the stand-in (test/fixtures/product-server.ts), built by
 * envctl sync with real buildah against a real registry, and published back:
 * one product revision per active envctl revision, on the built image by
 * digest, set active; none on a rerun; a revert sets the earlier product
 * revision active again; a failure is recorded and retried without losing
 * the build; a lost answer does not make a second revision; drift is shown
 * by status and fails validate --against-product.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLedger } from '../src/git/ledger.js';
import { activeBuild } from '../src/ledger/model.js';
import { runEnvctl } from './fixtures/cli.js';
import { FakeProduct, type FakeEnvironment } from './fixtures/product-server.js';
import { suiteRegistry } from './fixtures/registry.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';

const TOKEN = 'publish-test-key';
const SECRET = 'never-leaves-the-product-5521';
const bot = { username: 'alice', fullName: 'Alice', email: 'alice@example.com' };

function product(busybox: string): FakeEnvironment[] {
  const a: FakeEnvironment = {
    id: 'env-a', name: 'Team A', visibility: 'Organization', archived: false, owner: { id: 'u1', userName: 'alice' },
    revisions: [1, 2].map((n) => ({
      id: `ra${n}`, number: n, created: new Date(Date.UTC(2024, 0, n)).toISOString(), author: bot, summary: `a ${n}`,
      definition: {
        base: { type: 'CustomImage', image: busybox }, dockerfileInstructions: `RUN echo a${n} > /a\n`, preRunScript: 'echo pre-run\n',
        environmentVariables: [{ name: 'MODE', value: 'fast', isSecret: false }, { name: 'API_TOKEN', value: SECRET, isSecret: true }],
      },
    })),
  };
  const b: FakeEnvironment = {
    id: 'env-b', name: 'Team B', visibility: 'Organization', archived: false, owner: { id: 'u1', userName: 'alice' },
    revisions: [{
      id: 'rb1', number: 1, created: new Date(Date.UTC(2024, 0, 3)).toISOString(), author: bot, summary: 'b on a',
      definition: { base: { type: 'Environment', environmentId: 'env-a', revisionId: 'ra2' }, dockerfileInstructions: 'RUN echo b > /b\n' },
    }],
  };
  return [a, b];
}

describe('publish: active revisions become the product\'s active revisions, on the image envctl built', function () {
  this.timeout(300_000);
  const lab = suiteRegistry('test/busybox:1');
  let server: FakeProduct;
  let dir: string;
  const key = { DOMINO_API_KEY: TOKEN };
  const envOf = (id: string) => server.environments.find((e) => e.id === id)!;
  const active = (id: string) => {
    const e = envOf(id);
    return e.revisions.find((r) => r.id === e.activeRevisionId);
  };

  before(async () => {
    server = new FakeProduct(TOKEN, product(`127.0.0.1:${lab.port}/test/busybox:1`));
    await server.start();
    dir = await tempDir('envctl-publish-');
    lab.dirs.push(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: "127.0.0.1:${lab.port}" }`, `publish: { url: "${server.url}" }`),
      '.gitignore': '.envctl/\n',
    }, 'config');
    const imported = await runEnvctl(dir, ['import', '--url', server.url], key);
    expect(imported.code, imported.err).to.equal(0);
  });

  after(async () => {
    await server.stop();
    await removeDir(dir);
  });

  it('sync builds the imported revisions and publishes each active one: base the built image by digest, no instructions, set active', async () => {
    const run = await runEnvctl(dir, ['sync'], key);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(run.code, JSON.stringify([...ledger.values()].map((l) => l.builds.map((b) => [l.environment, b.revision, b.status, b.reason])))).to.equal(0);
    const a = activeBuild(ledger.get('team-a'))!;
    expect(a.revision).to.equal(2);
    const published = active('env-a')!;
    expect(published.number).to.equal(3);
    expect(published.definition.base).to.deep.equal({ type: 'CustomImage', image: `127.0.0.1:${lab.port}/envctl/team-a@${a.digest}` });
    expect(published.definition.dockerfileInstructions).to.equal('');
    expect(published.summary).to.match(/^envctl team-a@2 \(content [0-9a-f]{12}\)$/);
    // The secret is not sent, not even its name; the plain variable and the script are.
    const fields = server.created.find((c) => c.environmentId === 'env-a')!.fields;
    expect(fields).to.deep.include(['environmentVariables[0].name', 'MODE']);
    expect(JSON.stringify(fields)).to.not.contain('API_TOKEN');
    expect(JSON.stringify(server.requests)).to.not.contain(SECRET);
    expect(fields).to.deep.include(['preRunScript', 'echo pre-run\n']);
    expect(active('env-b')!.number).to.equal(2);
    const entry = ledger.get('team-a')!.published!;
    expect(entry.map((p) => [p.status, p.revision, p.product])).to.deep.equal([['published', 2, { environment: 'env-a', revision: published.id, number: 3 }]]);
    expect(run.err).to.contain(`published team-a@2 in the product: revision 3 (${published.id})`);
  });

  it('a rerun publishes nothing and status says in sync', async () => {
    const before = server.created.length;
    const run = await runEnvctl(dir, ['sync'], key);
    expect(run.code, run.err).to.equal(0);
    expect(server.created.length).to.equal(before);
    const status = await runEnvctl(dir, ['status', '--json'], { ...key, ENVCTL_OFFLINE: '0' });
    const rows = JSON.parse(status.out) as { environment: string; product: { state: string } }[];
    expect(rows.map((r) => [r.environment, r.product.state])).to.deep.equal([['team-a', 'in-sync'], ['team-b', 'in-sync']]);
  });

  it('a new revision is published once; a revert to earlier content sets the earlier product revision active again', async () => {
    await commit(dir, { 'environments/team-a.yaml': (await readFile(join(dir, 'environments/team-a.yaml'), 'utf8')).replace('RUN echo a2 > /a', 'RUN echo a3 > /a') }, 'a: three');
    expect((await runEnvctl(dir, ['sync'], key)).code).to.equal(0);
    expect(active('env-a')!.summary).to.match(/^envctl team-a@3 /);
    const count = envOf('env-a').revisions.length;
    await git(dir, 'revert', '--no-edit', 'HEAD');
    const run = await runEnvctl(dir, ['sync'], key);
    expect(run.code, run.err).to.equal(0);
    expect(envOf('env-a').revisions.length).to.equal(count);
    expect(active('env-a')!.number).to.equal(3);
    expect(run.err).to.match(/set active again team-a@4 in the product: revision 3 /);
  });

  it('a change to a run-time setting alone (a script: same image, reused) is a new product revision with the new setting', async () => {
    const before = envOf('env-a').revisions.length;
    const text = await readFile(join(dir, 'environments/team-a.yaml'), 'utf8');
    expect(text).to.contain('echo pre-run');
    await commit(dir, { 'environments/team-a.yaml': text.replace('echo pre-run', 'echo pre-run, second take') }, 'a: another pre-run');
    const run = await runEnvctl(dir, ['sync'], key);
    expect(run.code, run.err).to.equal(0);
    const { ledger } = await readLedger(dir, 'envctl-state');
    const last = ledger.get('team-a')!.builds.at(-1)!;
    expect(last.builder).to.equal('reused');
    expect(envOf('env-a').revisions.length).to.equal(before + 1);
    expect(server.created.at(-1)!.fields).to.deep.include(['preRunScript', 'echo pre-run, second take\n']);
    expect(active('env-a')!.summary).to.match(/^envctl team-a@5 /);
    // Back to the earlier setting: the earlier product revision again.
    await git(dir, 'revert', '--no-edit', 'HEAD');
    expect((await runEnvctl(dir, ['sync'], key)).code).to.equal(0);
    expect(envOf('env-a').revisions.length).to.equal(before + 1);
    expect(active('env-a')!.number).to.equal(3);
  });

  it('a failure to publish is recorded, exits 1, keeps the build active, and the next sync (building nothing) publishes', async () => {
    server.faults = { createFails: 1 };
    await commit(dir, { 'environments/team-b.yaml': (await readFile(join(dir, 'environments/team-b.yaml'), 'utf8')).replace('RUN echo b > /b', 'RUN echo b2 > /b') }, 'b: two');
    const failed = await runEnvctl(dir, ['sync'], key);
    expect(failed.code).to.equal(1);
    expect(failed.err).to.match(/publishing team-b@2 failed: .*500.* \(the next sync or envctl publish tries again\)/);
    let { ledger } = await readLedger(dir, 'envctl-state');
    expect(activeBuild(ledger.get('team-b'))!.revision).to.equal(2);
    expect(ledger.get('team-b')!.published!.at(-1)!.status).to.equal('failed');
    // The product is behind, not drifted: status says so, validate --against-product warns.
    const status = JSON.parse((await runEnvctl(dir, ['status', 'team-b', '--json'], { ...key, ENVCTL_OFFLINE: '0' })).out) as { product: { state: string; reason?: string } }[];
    expect(status[0]!.product.state).to.equal('behind');
    expect(status[0]!.product.reason).to.match(/500/);
    const v = await runEnvctl(dir, ['validate', '--offline', '--against-product'], key);
    expect(v.code, v.out).to.equal(0);
    expect(v.out).to.match(/^environments\/team-b\.yaml:1:1: warning: behind: revision 2 is not published yet .*\[product-behind\]$/m);
    const retried = await runEnvctl(dir, ['sync'], key);
    expect(retried.code, retried.err).to.equal(0);
    ({ ledger } = await readLedger(dir, 'envctl-state'));
    expect(ledger.get('team-b')!.published!.at(-1)!.status).to.equal('published');
    expect(active('env-b')!.summary).to.match(/^envctl team-b@2 /);
  });

  it('a create whose answer is lost is found again by its summary: no second product revision', async () => {
    server.faults = { dropCreateAnswer: 1 };
    await commit(dir, { 'environments/team-b.yaml': (await readFile(join(dir, 'environments/team-b.yaml'), 'utf8')).replace('RUN echo b2 > /b', 'RUN echo b3 > /b') }, 'b: three');
    expect((await runEnvctl(dir, ['sync'], key)).code).to.equal(1);
    const count = envOf('env-b').revisions.length;
    expect(envOf('env-b').revisions.at(-1)!.summary).to.match(/^envctl team-b@3 /);
    expect((await runEnvctl(dir, ['sync'], key)).code).to.equal(0);
    expect(envOf('env-b').revisions.length).to.equal(count);
    expect(active('env-b')!.summary).to.match(/^envctl team-b@3 /);
  });

  it('drift: another revision made active in the product shows in status and fails validate --against-product', async () => {
    server.heal();
    envOf('env-a').activeRevisionId = 'ra1';
    const status = await runEnvctl(dir, ['status'], { ...key, ENVCTL_OFFLINE: '0' });
    expect(status.out).to.match(/team-a .* drift: revision 1 is active there, envctl published 3/);
    const v = await runEnvctl(dir, ['validate', '--offline', '--against-product'], key);
    expect(v.code).to.equal(1);
    expect(v.out).to.match(/^environments\/team-a\.yaml:1:1: error: drift: revision 1 is active there, envctl published 3 .*\[product-drift\]$/m);
    expect(v.out).to.not.contain('team-b.yaml');
    // Sync does not undo it in silence.
    expect((await runEnvctl(dir, ['sync'], key)).code).to.equal(0);
    expect(envOf('env-a').activeRevisionId).to.equal('ra1');
  });

  it('without the key nothing is tried and sync says so; an environment with no product environment is named once, not published', async () => {
    await commit(dir, {
      'environments/team-a.yaml': (await readFile(join(dir, 'environments/team-a.yaml'), 'utf8')).replace('RUN echo a2 > /a', 'RUN echo a5 > /a'),
      'environments/solo.yaml': yaml('owner: "@acme/solo"', `base: { image: "127.0.0.1:${lab.port}/test/busybox:1" }`, 'instructions: |', '  RUN echo solo > /s'),
    }, 'a: five, and solo');
    const requests = server.requests.length;
    const run = await runEnvctl(dir, ['sync']);
    expect(run.code, run.err).to.equal(0);
    expect(server.requests.length).to.equal(requests);
    expect(run.err).to.contain('note: not published (no product environment: import it, or name it under publish.environments): solo');
    expect(run.err).to.contain('note: not published: DOMINO_API_KEY is not set (team-a wait for it)');
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(lastPublishedRevision(ledger.get('team-a')!.published!)).to.equal(6);
    // With the key, envctl publish (the CI job's command) publishes it; run again, it has nothing to do.
    const later = await runEnvctl(dir, ['publish'], key);
    expect(later.code, later.err).to.equal(0);
    expect(later.err).to.contain('published team-a@7 in the product');
    expect(active('env-a')!.summary).to.match(/^envctl team-a@7 /);
    const again = await runEnvctl(dir, ['publish', 'team-a'], key);
    expect([again.code, again.out]).to.deep.equal([0, 'nothing to publish: the product has every active revision']);
  });

  it('envctl publish without publish: in envctl.yaml is a usage error', async () => {
    const bare = await tempDir('envctl-publish-bare-');
    lab.dirs.push(bare);
    await git(bare, 'init', '-q', '-b', 'main');
    await commit(bare, { 'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'), '.gitignore': '.envctl/\n' }, 'config');
    const r = await runEnvctl(bare, ['publish'], key);
    expect(r.code).to.equal(2);
    expect(r.err.split('\n')[0]).to.equal('envctl publish: nothing to publish to: envctl.yaml has no publish: { url, tokenEnv }');
  });
});

/** The envctl revision of the newest published entry. */
function lastPublishedRevision(entries: { status: string; revision: number }[]): number | undefined {
  return [...entries].reverse().find((p) => p.status === 'published')?.revision;
}
