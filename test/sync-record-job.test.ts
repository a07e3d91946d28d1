/**
 * sync.yml's record and site jobs played (test/fixtures/actions.ts) after a
 * build that left its results artifact, with no real build: the plan and
 * build jobs come from an earlier run, as "Re-run failed jobs" keeps them.
 * The origin refuses the state branch as a ruleset does (GH013), and the
 * results must still be kept as an artifact; the Pages site runs only when
 * the repository variable asks for it.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatResults } from '../src/ledger/results.js';
import { loadWorkflow, runWorkflow, type JobResult, type Workflow } from './fixtures/actions.js';
import { startFakeGitHub, type FakeGitHub } from './fixtures/github-server.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';
import { gh013Hook } from './fixtures/rulesets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'ghs_recordjob';
const REPOSITORY = 'acme/environments';

/** A pre-receive hook answering as GitHub does when a ruleset protects the branch. */
const REFUSE_STATE = gh013Hook(REPOSITORY);

describe('sync.yml record and site jobs: results kept when the state branch is refused', function () {
  this.timeout(120_000);
  let origin: string;
  let work: string;
  let gh: FakeGitHub;
  let workflow: Workflow;
  let sha: string;
  let results: string;
  const scratch: string[] = [];

  /** Plays sync.yml with plan and build kept from an earlier run, so only record and site run. */
  async function play(vars: Record<string, string>): Promise<{ run: Record<string, JobResult[]>; artifacts: string }> {
    const artifacts = await tempDir('envctl-record-job-artifacts-');
    scratch.push(artifacts);
    await mkdir(join(artifacts, 'envctl-results-1'));
    await writeFile(join(artifacts, 'envctl-results-1', 'group-1.json'), results);
    const kept = (outputs: Record<string, string>): JobResult[] => [{ result: 'success', outputs, log: [] }];
    const run = await runWorkflow(workflow, {
      actionPath: ROOT, origin, artifacts, vars,
      previous: { plan: kept({ matrix: JSON.stringify({ include: [{ group: 1, environments: 'a' }] }) }), build: kept({}) },
      github: { sha, ref: 'refs/heads/main', repository: REPOSITORY, repository_owner: 'acme', actor: 'envctl-bot', token: TOKEN, event_name: 'push', event: {} },
      env: {
        GITHUB_API_URL: gh.url, GITHUB_REPOSITORY: REPOSITORY, GITHUB_SHA: sha, GITHUB_SERVER_URL: 'https://github.example', GITHUB_RUN_ID: '5',
        ENVCTL_GITHUB_WRITE_INTERVAL_MS: '0',
      },
      envOverrides: { ENVCTL_REGISTRY: '127.0.0.1:1' },
    });
    return { run, artifacts };
  }

  before(async () => {
    gh = await startFakeGitHub({ token: TOKEN, repository: REPOSITORY });
    workflow = await loadWorkflow(join(ROOT, '.github', 'workflows', 'sync.yml'));
    origin = await tempDir('envctl-record-job-origin-');
    await git(origin, 'init', '-q', '--bare', '-b', 'main');
    await writeFile(join(origin, 'hooks', 'pre-receive'), REFUSE_STATE);
    await chmod(join(origin, 'hooks', 'pre-receive'), 0o755);
    work = await tempDir('envctl-record-job-work-');
    await git(work, 'init', '-q', '-b', 'main');
    await git(work, 'remote', 'add', 'origin', origin);
    await commit(work, {
      'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'), '.gitignore': '.envctl/\n',
      'environments/a.yaml': yaml('title: A', 'owner: "@o"', 'instructions: RUN true'),
    }, 'a');
    await git(work, 'push', '-q', 'origin', 'main');
    sha = await git(work, 'rev-parse', 'HEAD');
    results = formatResults(sha, [{
      environment: 'a',
      record: {
        id: '1-2026-01-01T00:00:00.000Z-abcdef', revision: 1, commit: sha, contentKey: `sha256:${'1'.repeat(64)}`, status: 'succeeded',
        image: '127.0.0.1:1/envctl/a:1', digest: `sha256:${'2'.repeat(64)}`, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:01:00Z',
      },
    }]);
  });
  after(async () => {
    await gh.close();
    for (const d of [origin, work, ...scratch]) await removeDir(d);
  });

  it('the push is refused, and the results are uploaded all the same (if: always())', async () => {
    const { run, artifacts } = await play({});
    // The scenario happened: the origin has no state branch, the record step did not push it.
    expect((await execa('git', ['rev-parse', '--verify', '-q', 'refs/heads/envctl-state'], { cwd: origin, reject: false })).exitCode).to.not.equal(0);
    expect(await readFile(join(artifacts, 'envctl-recorded-results', 'group-1.json'), 'utf8')).to.equal(results);
    // Refused by the origin's rule, not by anything before it: the record job fails with the remote's words.
    const [record] = run.record!;
    expect(record!.result).to.equal('failure');
    expect(record!.log.join('\n')).to.include('GH013');
    // Without the repository variable the Pages site does not run.
    expect(run.site!.map((r) => r.result)).to.deep.equal(['skipped']);
  });

  it('with vars.ENVCTL_SITE "true" the site job publishes, and its environment URL is the Pages URL', async () => {
    const { run, artifacts } = await play({ ENVCTL_SITE: 'true' });
    const [site] = run.site!;
    expect(site!.result).to.equal('success', site!.log.join('\n'));
    expect(site!.environment).to.deep.equal({ name: 'github-pages', url: 'https://acme.github.io/environments/' });
    expect(await readFile(join(artifacts, 'github-pages', 'index.html'), 'utf8')).to.contain('<html');
  });
});
