/**
 * The merge flow end to end, as .github/workflows/sync.yml runs it: the
 * workflow file itself is played by test/fixtures/actions.ts (same steps,
 * same commands, same order, GITHUB_* set), each matrix group in its own
 * clone and processes sharing only the registry, GitHub answered by a local
 * stand-in. Three pushes: the first commit, a change, and a `git revert`.
 * The ledger must end as sequential syncs would leave it, and the revert
 * must build nothing.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from '../src/git/ledger.js';
import type { Ledger } from '../src/ledger/model.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { loadWorkflow, runWorkflow, type JobResult, type Workflow } from './fixtures/actions.js';
import { startFakeGitHub, type FakeGitHub } from './fixtures/github-server.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';

// A port of this run's own: two test runs on one machine never share a registry.
const PORT = await freePort();
const REGISTRY = `127.0.0.1:${PORT}`;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'envctl.js');
const TOKEN = 'ghs_mergeflowtoken';
const REPOSITORY = 'acme/environments';
// envctl.yaml names a registry nothing answers on: only the workflow's ENVCTL_REGISTRY makes builds work.
const CONFIG = yaml('registry: { address: "127.0.0.1:1" }', 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }');
const env = (run: string, base?: string) => yaml('owner: "@acme/data"', ...(base ? [`base: { environment: ${base} }`] : []), 'instructions: |', `  RUN ${run}`);

/**
 * What a ledger says, without times, ids and digests: per environment its
 * attempts and active revision. Content keys too, except where the base is
 * another environment: those name the base's digest, and two separate
 * builds of the same base differ in their digests.
 */
function essence(ledger: Ledger, builtOnAnother: string[]): Record<string, unknown> {
  return Object.fromEntries([...ledger].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, l]) => [name, {
    active: l.active,
    builds: l.builds.map((b) => ({
      revision: b.revision, status: b.status, reusedFrom: b.reusedFrom ?? null,
      ...(builtOnAnother.includes(name) ? {} : { contentKey: b.contentKey }),
    })),
  }]));
}

describe('merge flow: sync.yml played end to end, then a git revert', function () {
  this.timeout(600_000);
  let registry: RunningRegistry;
  let registryData: string;
  let origin: string;
  let work: string;
  let sequential: string;
  let gh: FakeGitHub;
  let workflow: Workflow;
  const runs: Record<string, JobResult[]>[] = [];
  /** The catalog index each run's site job published. */
  const sites: string[] = [];

  /** Pushes main, then plays sync.yml for the pushed commit; the same commit is synced sequentially in another clone. */
  async function pushAndSync(): Promise<Record<string, JobResult[]>> {
    await git(work, 'push', '-q', 'origin', 'main');
    const sha = await git(work, 'rev-parse', 'HEAD');
    const artifacts = await tempDir('envctl-artifacts-');
    const result = await runWorkflow(workflow, {
      actionPath: ROOT, origin, artifacts,
      github: { sha, ref: 'refs/heads/main', repository: REPOSITORY, repository_owner: 'acme', actor: 'envctl-bot', token: TOKEN, event_name: 'push', event: {} },
      env: { GITHUB_API_URL: gh.url, GITHUB_REPOSITORY: REPOSITORY, GITHUB_SHA: sha, GITHUB_SERVER_URL: 'https://github.example', GITHUB_RUN_ID: String(runs.length + 1) },
      envOverrides: { ENVCTL_REGISTRY: REGISTRY },
      // The site job is optional: this repository publishes its catalog.
      vars: { ENVCTL_SITE: 'true' },
    });
    runs.push(result);
    sites.push(await readFile(join(artifacts, 'github-pages', 'index.html'), 'utf8').catch(() => ''));
    await removeDir(artifacts);
    await git(sequential, 'fetch', '-q', 'origin', 'main');
    await git(sequential, 'reset', '-q', '--hard', sha);
    await execa(process.execPath, [BIN, 'sync'], { cwd: sequential, reject: false, env: { ENVCTL_REGISTRY: REGISTRY } });
    return result;
  }

  before(async () => {
    registryData = await tempDir('envctl-registry-');
    registry = await startRegistry(registryData, PORT);
    await pushBusybox(`${REGISTRY}/test/busybox:1`);
    gh = await startFakeGitHub({ token: TOKEN, repository: REPOSITORY });
    workflow = await loadWorkflow(join(ROOT, '.github', 'workflows', 'sync.yml'));
    origin = await tempDir('envctl-origin-');
    await git(origin, 'init', '-q', '--bare', '-b', 'main');
    work = await tempDir('envctl-work-');
    await git(work, 'init', '-q', '-b', 'main');
    await git(work, 'remote', 'add', 'origin', origin);
    await commit(work, {
      'envctl.yaml': CONFIG, '.gitignore': '.envctl/\n',
      'environments/a.yaml': env('echo a > /a'), 'environments/b.yaml': env('cat /a > /b', 'a'), 'environments/c.yaml': env('echo c1 > /c'),
    }, 'a, b on a, and c');
    await git(work, 'push', '-q', 'origin', 'main');
    sequential = await tempDir('envctl-sequential-');
    await git(sequential, 'clone', '-q', origin, '.');
  });
  after(async () => {
    await registry.stop();
    await gh.close();
    for (const d of [registryData, origin, work, sequential]) await removeDir(d);
  });

  it('the first push: plan fans out into two groups, each builds on its own, one job records all in one ledger commit', async () => {
    const result = await pushAndSync();
    expect(result.plan![0]!.result).to.equal('success');
    expect(JSON.parse(result.plan![0]!.outputs.matrix!)).to.deep.equal({ include: [{ group: 1, environments: 'a,b' }, { group: 2, environments: 'c' }] });
    expect(result.build!.map((r) => r.result)).to.deep.equal(['success', 'success'], result.build!.flatMap((r) => r.log).join('\n'));
    expect(result.record![0]!.result).to.equal('success', result.record![0]!.log.join('\n'));
    expect(await git(origin, 'rev-list', '--count', 'envctl-state')).to.equal('1');
    const { ledger } = await readLedger(origin, 'envctl-state');
    expect([...ledger.keys()].sort()).to.deep.equal(['a', 'b', 'c']);
    for (const l of ledger.values()) expect(l.active).to.equal(1);
    const sha = await git(work, 'rev-parse', 'HEAD');
    expect(gh.statuses.map((s) => [s.context, s.state])).to.have.deep.members([['envctl/a', 'success'], ['envctl/b', 'success'], ['envctl/c', 'success']]);
    expect(gh.requests.filter((r) => r.route === 'create-status').every((r) => r.path.endsWith(`/statuses/${sha}`))).to.equal(true);
    const urls = gh.deploymentStatuses.map((d) => d.environment_url as string);
    expect(urls).to.have.length(3);
    for (const [name, l] of ledger) expect(urls).to.include(`https://${REGISTRY}/envctl/${name}@${l.builds[0]!.digest}`);
    expect(result.site![0]!.result).to.equal('success', result.site![0]!.log.join('\n'));
    for (const name of ['a', 'b', 'c']) expect(sites[0]).to.contain(`id="env-${name}"`);
  });

  it('a change to c builds only c, on its own runner', async () => {
    await commit(work, { 'environments/c.yaml': env('echo c2 > /c') }, 'c: two');
    const result = await pushAndSync();
    expect(JSON.parse(result.plan![0]!.outputs.matrix!).include).to.deep.equal([{ group: 1, environments: 'c' }]);
    expect(result.record![0]!.result).to.equal('success', result.record![0]!.log.join('\n'));
    const { ledger } = await readLedger(origin, 'envctl-state');
    expect(ledger.get('c')!.active).to.equal(2);
    expect(ledger.get('a')!.builds).to.have.length(1);
  });

  it('git revert pushed after it builds nothing: revision 3 reuses revision 1\'s image and becomes active', async () => {
    await git(work, 'revert', '--no-edit', 'HEAD');
    const statusesBefore = gh.statuses.length;
    const result = await pushAndSync();
    expect(result.record![0]!.result).to.equal('success', result.record![0]!.log.join('\n'));
    const { ledger } = await readLedger(origin, 'envctl-state');
    const c = ledger.get('c')!;
    const three = c.builds.find((b) => b.revision === 3)!;
    expect(three).to.include({ status: 'succeeded', builder: 'reused', reusedFrom: 1 });
    expect(three.digest).to.equal(c.builds.find((b) => b.revision === 1)!.digest);
    expect(three.log).to.equal(undefined);
    expect(c.active).to.equal(3);
    expect(gh.statuses.slice(statusesBefore).map((s) => [s.context, s.state, s.description])).to.deep.equal([['envctl/c', 'success', "revision 3: reused revision 1's image"]]);
  });

  it('the ledger ends as sequential syncs of the same commits leave it, one ledger commit per push', async () => {
    expect(await git(origin, 'rev-list', '--count', 'envctl-state')).to.equal('3');
    const flow = essence((await readLedger(origin, 'envctl-state')).ledger, ['b']);
    const seq = essence((await readLedger(sequential, 'envctl-state')).ledger, ['b']);
    expect(Object.keys(flow)).to.deep.equal(['a', 'b', 'c']);
    expect(flow).to.deep.equal(seq);
  });
});
