/**
 * The pull-request flow end to end, as GitHub runs it: pull-request.yml
 * (validate, CODEOWNERS, the plan into an artifact, with a read-only token)
 * and then plan-comment.yml (started by its end: the artifact posted as the
 * pull request's one sticky comment), both played by test/fixtures/actions.ts
 * against a bare origin repository, sharing only the artifacts folder and the
 * GitHub stand-in. No registry: the configured one does not answer, and
 * layer counts fall back to defaultBase.layers.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLAN_MARKER } from '../src/github/comment.js';
import { loadWorkflow, runWorkflow, type JobResult, type Workflow } from './fixtures/actions.js';
import { startFakeGitHub, type FakeGitHub } from './fixtures/github-server.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'envctl.js');
const TOKEN = 'ghs_prflowtoken';
const REPOSITORY = 'acme/environments';
/** Nothing listens on port 1: the pull-request flow must not need a registry. */
const CONFIG = yaml('registry: { address: "127.0.0.1:1" }', 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }', 'administrators: ["@acme/platform-admins"]');
const env = (...lines: string[]) => yaml('owner: "@acme/data"', ...lines, 'instructions: |', '  RUN echo "$HOSTNAME" > /built-on');

interface Played {
  pullRequest: Record<string, JobResult[]>;
  comment: Record<string, JobResult[]>;
  artifacts: string;
  /** GitHub requests made while pull-request.yml ran */
  requestsDuringValidate: number;
  runId: number;
}

const logOf = (runs: JobResult[] | undefined) => (runs ?? []).flatMap((r) => r.log).join('\n');
const failedSteps = (run: JobResult) => run.log.filter((l) => /^step .* failed: /.test(l)).map((l) => /^step (.*?) failed: /.exec(l)![1]);

describe('pull-request flow: pull-request.yml, then plan-comment.yml posts the plan as one sticky comment', function () {
  this.timeout(600_000);
  let origin: string;
  let work: string;
  let gh: FakeGitHub;
  let pullRequestWf: Workflow;
  let commentWf: Workflow;
  const scratch: string[] = [];
  let runId = 0;

  /**
   * Pushes `branch`, plays pull-request.yml for its head as pull request `number`, then plan-comment.yml for that run.
   * `pullHead`: where GitHub says the pull request is when the comment is posted (default: the pushed head).
   * `again`: "Re-run failed jobs" of an earlier play (same run id, same artifacts); `workflow` instead of pull-request.yml.
   */
  async function play(branch: string, number: number, pullHead?: string, again?: { of?: Played; workflow?: Workflow; conclusion?: string }): Promise<Played> {
    await git(work, 'push', '-q', '-f', 'origin', branch);
    const head = await git(work, 'rev-parse', branch);
    const main = await git(origin, 'rev-parse', 'main');
    const artifacts = again?.of?.artifacts ?? await tempDir('envctl-pr-artifacts-');
    if (!again?.of) scratch.push(artifacts);
    const id = again?.of?.runId ?? ++runId;
    // The workflow's ENVCTL_REGISTRY names ghcr.io; tests stay on loopback (nothing listens on port 1).
    const common = { actionPath: ROOT, origin, artifacts, envOverrides: { ENVCTL_REGISTRY: '127.0.0.1:1' } };
    const before = gh.requests.length;
    const pullRequest = await runWorkflow(again?.workflow ?? pullRequestWf, {
      ...common,
      // The review build job needs buildah and a registry: test/review-flow.builder.test.ts plays it.
      vars: { ENVCTL_REVIEW_BUILDS: 'false' },
      ...(again?.of ? { previous: again.of.pullRequest } : {}),
      github: {
        event_name: 'pull_request', sha: head, ref: `refs/pull/${number}/merge`, base_ref: 'main', head_ref: branch,
        repository: REPOSITORY, repository_owner: 'acme', actor: 'contributor', token: TOKEN,
        event: { number, pull_request: { number, head: { ref: branch, sha: head }, base: { ref: 'main', sha: main } } },
      },
      env: { GITHUB_API_URL: gh.url, GITHUB_REPOSITORY: REPOSITORY, GITHUB_SHA: head, GITHUB_EVENT_NAME: 'pull_request', GITHUB_SERVER_URL: 'https://github.example', GITHUB_RUN_ID: String(id) },
    });
    const requestsDuringValidate = gh.requests.length - before;
    gh.pulls.set(number, pullHead ?? head);
    // workflow_run runs the default branch's workflow and action, on its head.
    const comment = await runWorkflow(commentWf, {
      ...common,
      github: {
        event_name: 'workflow_run', sha: main, ref: 'refs/heads/main', repository: REPOSITORY, repository_owner: 'acme', actor: 'contributor', token: TOKEN,
        event: { workflow_run: { id, event: 'pull_request', name: 'pull-request', head_branch: branch, head_sha: head, conclusion: again?.conclusion ?? overall(pullRequest.validate) } },
      },
      env: { GITHUB_API_URL: gh.url, GITHUB_REPOSITORY: REPOSITORY, GITHUB_SHA: main, GITHUB_EVENT_NAME: 'workflow_run', GITHUB_SERVER_URL: 'https://github.example', GITHUB_RUN_ID: String(100 + id) },
    });
    return { pullRequest, comment, artifacts, requestsDuringValidate, runId: id };
  }

  const overall = (runs: JobResult[] | undefined) => (runs?.some((r) => r.result === 'failure') ? 'failure' : 'success');

  before(async () => {
    gh = await startFakeGitHub({ token: TOKEN, repository: REPOSITORY });
    [pullRequestWf, commentWf] = await Promise.all([
      loadWorkflow(join(ROOT, '.github', 'workflows', 'pull-request.yml')),
      loadWorkflow(join(ROOT, '.github', 'workflows', 'plan-comment.yml')),
    ]);
    origin = await tempDir('envctl-pr-origin-');
    await git(origin, 'init', '-q', '--bare', '-b', 'main');
    work = await tempDir('envctl-pr-work-');
    await git(work, 'init', '-q', '-b', 'main');
    await git(work, 'remote', 'add', 'origin', origin);
    await commit(work, {
      'envctl.yaml': CONFIG, '.gitignore': '.envctl/\n',
      'environments/alpha.yaml': env('title: Alpha'), 'environments/beta.yaml': env('title: Beta'),
    }, 'alpha and beta');
    // The CODEOWNERS check in the workflow wants the generated file committed.
    await execa(process.execPath, [BIN, 'codeowners'], { cwd: work });
    await commit(work, {}, 'CODEOWNERS');
    await git(work, 'push', '-q', 'origin', 'main');
  });
  after(async () => {
    await gh.close();
    for (const d of [origin, work, ...scratch]) await removeDir(d);
  });

  describe('a pull request that changes one environment', () => {
    let first: Played;
    let commentId: number;

    before(async () => {
      await git(work, 'checkout', '-q', '-b', 'topic', 'main');
      await commit(work, { 'environments/alpha.yaml': env('title: Alpha').replace('/built-on\n', '/built-on\n  RUN echo two > /two\n') }, 'alpha: a second RUN');
      first = await play('topic', 7);
    });

    it('the validate job succeeds, without a single GitHub call (its token is read-only)', () => {
      expect(first.pullRequest.validate!.map((r) => r.result)).to.deep.equal(['success'], logOf(first.pullRequest.validate));
      expect(first.requestsDuringValidate).to.equal(0);
    });

    it('the validate job sets up Node, restores the npm cache and runs npm ci once, though it calls the action three times', () => {
      const log = logOf(first.pullRequest.validate);
      expect(log.match(/^player: npm ci\b.*$/gm)).to.deep.equal([`player: npm ci --prefix ${ROOT} --prefer-offline --no-audit --no-fund`]);
      expect(log.match(/^player: uses actions\/setup-node@\S+ .*$/gm)).to.have.length(1);
      const cache = log.match(/^player: uses actions\/cache@\S+ (.*)$/m);
      expect(cache, 'the npm cache is restored').to.not.equal(null);
      expect(JSON.parse(cache![1]!)).to.deep.include({ path: '~/.npm' });
      expect(JSON.parse(cache![1]!).key).to.match(/^envctl-npm-Linux-node22-[0-9a-f]{64}$/);
    });

    it('runs on refs/pull/7/merge, as GitHub does: the head merged into main', async () => {
      const [first_, second] = (await git(origin, 'rev-list', '--parents', '-n', '1', 'refs/pull/7/merge')).split(' ').slice(1);
      expect(first_).to.equal(await git(origin, 'rev-parse', 'main'));
      expect(second).to.equal(await git(work, 'rev-parse', 'topic'));
    });

    it('the artifact holds the plan as Markdown and the pull request number', async () => {
      const dir = join(first.artifacts, 'envctl-plan');
      expect(await readFile(join(dir, 'pr-number'), 'utf8')).to.equal('7\n');
      const plan = await readFile(join(dir, 'plan.md'), 'utf8');
      expect(plan).to.include('| alpha | 1 → 2 |');
      expect(plan).to.include('+  RUN echo two > /two');
      // no registry answered: the default base counts defaultBase.layers (1), plus two RUNs
      expect(plan).to.include('- Layers: 3 of 127');
      expect(plan).to.not.include('| beta |');
    });

    it('the comment workflow creates exactly one comment on #7: marker, environment, 1 → 2 and the diff', () => {
      expect(first.comment.comment!.map((r) => r.result)).to.deep.equal(['success'], logOf(first.comment.comment));
      const comments = gh.comments.get(7) ?? [];
      expect(comments).to.have.length(1);
      expect(gh.requestsTo('create-comment').map((r) => r.path)).to.deep.equal([`/repos/${REPOSITORY}/issues/7/comments`]);
      expect(gh.requestsTo('create-comment')[0]!.authorization).to.equal(`token ${TOKEN}`);
      const body = String(comments[0]!.body);
      expect(body.startsWith(PLAN_MARKER)).to.equal(true);
      expect(body).to.include('<!-- envctl:plan -->');
      expect(body).to.include('alpha');
      expect(body).to.include('1 → 2');
      expect(body).to.match(/```diff\n[^]*\n\+ {2}RUN echo two > \/two\n/);
      commentId = Number(comments[0]!.id);
    });

    it('a second push to the pull request updates the same comment', async () => {
      await commit(work, { 'environments/alpha.yaml': env('title: Alpha').replace('/built-on\n', '/built-on\n  RUN echo three > /three\n') }, 'alpha: three, not two');
      const second = await play('topic', 7);
      expect(second.pullRequest.validate!.map((r) => r.result)).to.deep.equal(['success'], logOf(second.pullRequest.validate));
      expect(second.comment.comment!.map((r) => r.result)).to.deep.equal(['success'], logOf(second.comment.comment));
      const comments = gh.comments.get(7) ?? [];
      expect(comments).to.have.length(1);
      expect(gh.requestsTo('create-comment')).to.have.length(1);
      expect(gh.requestsTo('update-comment').map((r) => [r.method, r.path])).to.deep.equal([['PATCH', `/repos/${REPOSITORY}/issues/comments/${commentId}`]]);
      const body = String(comments[0]!.body);
      expect(comments[0]!.id).to.equal(commentId);
      expect(body).to.include(PLAN_MARKER);
      expect(body).to.include('+  RUN echo three > /three');
      expect(body).to.not.include('echo two');
      expect(body).to.include('1 → 2');
    });

    it('a plan whose commit is not the pull request\'s head (stale, or aimed at another pull request) is not posted', async () => {
      await commit(work, { 'environments/alpha.yaml': env('title: Alpha').replace('/built-on\n', '/built-on\n  RUN echo four > /four\n') }, 'alpha: four');
      const before = String(gh.comments.get(7)![0]!.body);
      const stale = await play('topic', 7, 'f'.repeat(40));
      // A notice, not a failed run (issue 15): the newer push has its own run and comment.
      expect(stale.comment.comment!.map((r) => r.result)).to.deep.equal(['success']);
      expect(logOf(stale.comment.comment)).to.include('not for its head; not posted');
      expect(String(gh.comments.get(7)![0]!.body)).to.equal(before);
      expect(gh.comments.get(7)).to.have.length(1);
    });
  });

  describe('a pull request with a schema error', () => {
    let played: Played;

    before(async () => {
      await git(work, 'checkout', '-q', '-b', 'broken', 'main');
      await commit(work, { 'environments/beta.yaml': env('title: Beta', 'visibility: everyone') }, 'beta: a visibility that does not exist');
      played = await play('broken', 8);
    });

    it('fails the validate job at the validate step; CODEOWNERS, the plan and the upload still run', async () => {
      const [run] = played.pullRequest.validate!;
      expect(run!.result).to.equal('failure');
      expect(failedSteps(run!)).to.deep.equal(['validate']);
      expect(logOf(played.pullRequest.validate)).to.match(/environments\/beta\.yaml:\d+:\d+: error: visibility must be one of .*\[schema-enum\]/);
      expect(played.requestsDuringValidate).to.equal(0);
      const dir = join(played.artifacts, 'envctl-plan');
      expect(existsSync(join(dir, 'plan.md'))).to.equal(true);
      expect(await readFile(join(dir, 'pr-number'), 'utf8')).to.equal('8\n');
    });

    it('the comment on #8 names the error; #7 keeps its one comment', () => {
      expect(played.comment.comment!.map((r) => r.result)).to.deep.equal(['success'], logOf(played.comment.comment));
      const comments = gh.comments.get(8) ?? [];
      expect(comments).to.have.length(1);
      const body = String(comments[0]!.body);
      expect(body).to.include(PLAN_MARKER);
      expect(body).to.include('**1 error**');
      expect(body).to.include('| beta | 1 → 2 |');
      expect(body).to.match(/environments\/beta\.yaml:\d+:\d+` visibility must be one of .*got "everyone" `\[schema-enum\]`/);
      expect(gh.comments.get(7)).to.have.length(1);
      expect(gh.requestsTo('create-comment')).to.have.length(2);
      expect(gh.requestsTo('update-comment')).to.have.length(1);
    });

    it('"Re-run failed jobs" runs validate again and uploads its plan again over the first (overwrite: true)', async () => {
      const again = await play('broken', 8, undefined, { of: played });
      expect(failedSteps(again.pullRequest.validate![0]!)).to.deep.equal(['validate']);
      expect(existsSync(join(played.artifacts, 'envctl-plan', 'plan.md'))).to.equal(true);
      expect(again.comment.comment!.map((r) => r.result)).to.deep.equal(['success'], logOf(again.comment.comment));
      expect(gh.comments.get(8)).to.have.length(1);
    });

    it('without overwrite: true the re-run\'s upload would fail, as upload-artifact@v4 answers 409', async () => {
      const strict = structuredClone(pullRequestWf);
      for (const step of strict.jobs.validate!.steps) if (step.with) delete step.with.overwrite;
      const again = await play('broken', 8, undefined, { of: played, workflow: strict });
      expect(failedSteps(again.pullRequest.validate![0]!)).to.deep.equal(['validate', 'actions/upload-artifact@v4']);
      expect(logOf(again.pullRequest.validate)).to.include('(409) Conflict: an artifact with this name already exists');
    });

    it('a run cancelled by a newer push is not commented on', async () => {
      const before = gh.requests.length;
      const cancelled = await play('broken', 8, undefined, { conclusion: 'cancelled' });
      expect(cancelled.comment.comment!.map((r) => r.result)).to.deep.equal(['skipped']);
      expect(gh.requests.length).to.equal(before);
    });
  });

  describe('main moved on after the branch was made', () => {
    let played: Played;
    const beta2 = env('title: Beta').replace('/built-on\n', '/built-on\n  RUN echo main > /main\n');

    before(async () => {
      await git(work, 'checkout', '-q', 'main');
      await git(work, 'checkout', '-q', '-b', 'late', 'main');
      await commit(work, { 'environments/alpha.yaml': env('title: Alpha').replace('/built-on\n', '/built-on\n  RUN echo late > /late\n') }, 'alpha: late');
      // After the branch was made, main changes beta.
      await git(work, 'checkout', '-q', 'main');
      await commit(work, { 'environments/beta.yaml': beta2 }, 'beta: a RUN on main');
      await git(work, 'push', '-q', 'origin', 'main');
      await git(work, 'checkout', '-q', 'late');
      played = await play('late', 9);
    });

    it('the plan is what merging would do: alpha changes, and beta (changed on main, not by the branch) is not in it', async () => {
      expect(played.pullRequest.validate!.map((r) => r.result)).to.deep.equal(['success'], logOf(played.pullRequest.validate));
      const plan = await readFile(join(played.artifacts, 'envctl-plan', 'plan.md'), 'utf8');
      expect(plan).to.include('| alpha | 1 → 2 |');
      expect(plan).to.include('+  RUN echo late > /late');
      expect(plan).to.not.include('| beta |');
      expect(plan).to.not.include('echo main');
      const [parent1, parent2] = (await git(origin, 'rev-list', '--parents', '-n', '1', 'refs/pull/9/merge')).split(' ').slice(1);
      expect([parent1, parent2]).to.deep.equal([await git(origin, 'rev-parse', 'main'), await git(work, 'rev-parse', 'late')]);
    });

    it('(the branch head alone would have shown beta undone: what checking out the head instead of the merge gets wrong)', async () => {
      const out = join(await tempDir('envctl-pr-late-'), 'plan.md');
      scratch.push(dirname(out));
      await execa(process.execPath, [BIN, 'plan', '--base', 'main', '--markdown', out], { cwd: work, env: { ENVCTL_REGISTRY: '127.0.0.1:1' }, reject: false });
      expect(await readFile(out, 'utf8')).to.include('| beta |');
    });
  });
});
