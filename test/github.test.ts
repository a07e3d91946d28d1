/** The GitHub client against a local REST stand-in: sticky comments, statuses, deployments, retries and errors in words. */
import { expect } from 'chai';
import {
  githubClient, GitHubError, recordDeployment, setCommitStatus, stickyBody, upsertStickyComment,
  MAX_COMMENT_LENGTH, PLAN_MARKER, type GitHubClientOptions,
} from '../src/github/index.js';
import { BOT, startFakeGitHub, type FakeGitHub } from './fixtures/github-server.js';

const TOKEN = 'ghs_fakeinstallationtoken';
const REPO = 'acme/environments';
const SHA = 'a'.repeat(40);
const DIGEST = `sha256:${'b'.repeat(64)}`;

async function rejection(p: Promise<unknown>): Promise<GitHubError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(GitHubError);
    return e as GitHubError;
  }
  throw new Error('expected the call to fail');
}

describe('github: client configuration', () => {
  it('needs a token and an owner/name repository, and says so with a hint', () => {
    const noToken = (() => { try { githubClient({ env: { GITHUB_REPOSITORY: REPO } }); } catch (e) { return e; } })();
    expect(noToken).to.be.instanceOf(GitHubError);
    expect((noToken as GitHubError).message).to.match(/no GitHub token/);
    expect((noToken as GitHubError).hint).to.contain('GITHUB_TOKEN');
    expect(() => githubClient({ env: { GITHUB_TOKEN: TOKEN } })).to.throw(GitHubError, /GITHUB_REPOSITORY/);
    expect(() => githubClient({ token: TOKEN, repository: 'environments', env: {} })).to.throw(GitHubError, /not owner\/name/);
  });

  it('reads GITHUB_TOKEN and GITHUB_REPOSITORY, and defaults to api.github.com', () => {
    const c = githubClient({ env: { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: REPO } });
    expect([c.owner, c.repo, c.repository, c.baseUrl]).to.deep.equal(['acme', 'environments', REPO, 'https://api.github.com']);
    // options win over the environment
    expect(githubClient({ repository: 'x/y', env: { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: REPO } }).repository).to.equal('x/y');
  });
});

describe('github: against a local GitHub', function () {
  let gh: FakeGitHub;
  let logged: string[];
  beforeEach(async () => {
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO });
    logged = [];
  });
  afterEach(() => gh.close());

  // Waits are scaled to milliseconds and write pacing is off, so retries cost nothing here.
  const client = (o: GitHubClientOptions = {}) => githubClient({
    token: TOKEN, repository: REPO, baseUrl: gh.url, retry: { retries: 3, baseDelayMs: 1 }, writeIntervalMs: 0,
    // An installation token inside Actions (the stand-in's default): comments are github-actions[bot]'s.
    log: (m) => logged.push(m), env: { GITHUB_ACTIONS: 'true' }, ...o,
  });

  describe('sticky comment', () => {
    it('is created once, then edited in place across calls, leaving other comments alone', async () => {
      const [other] = gh.seedComments(7, ['LGTM']);
      const c = client();
      const first = await upsertStickyComment(c, 7, 'plan: 1 build');
      const second = await upsertStickyComment(c, 7, 'plan: 2 builds');
      const third = await upsertStickyComment(c, 7, 'plan: 3 builds');
      expect([first.action, second.action, third.action]).to.deep.equal(['created', 'updated', 'updated']);
      expect(second.id).to.equal(first.id);
      expect(third.id).to.equal(first.id);
      expect(third.url).to.equal(`https://github.com/${REPO}/pull/7#issuecomment-${first.id}`);
      const comments = gh.comments.get(7)!;
      expect(comments).to.have.length(2);
      expect(comments[0]).to.deep.equal(other);
      expect(comments[1]!.body).to.equal(`${PLAN_MARKER}\nplan: 3 builds`);
      expect(comments[1]!.user).to.deep.equal(BOT);
      expect(gh.requestsTo('create-comment')).to.have.length(1);
      expect(gh.requestsTo('update-comment').map((r) => r.path)).to.deep.equal([
        `/repos/${REPO}/issues/comments/${first.id}`, `/repos/${REPO}/issues/comments/${first.id}`,
      ]);
      expect(gh.requests.every((r) => r.authorization === `token ${TOKEN}`)).to.equal(true);
    });

    it('leaves an unchanged body alone: no PATCH', async () => {
      const c = client();
      const first = await upsertStickyComment(c, 3, 'same plan');
      const again = await upsertStickyComment(c, 3, 'same plan');
      expect(again).to.deep.equal({ ...first, action: 'unchanged' });
      expect(gh.requestsTo('update-comment')).to.have.length(0);
      expect(gh.requestsTo('create-comment')).to.have.length(1);
    });

    it('is found on page 2 when the pull request has more than 100 comments', async () => {
      gh.seedComments(9, Array.from({ length: 120 }, (_, i) => `comment ${i}`));
      const [mine] = gh.seedComments(9, [`${PLAN_MARKER}\nold plan`], BOT);
      gh.seedComments(9, ['after']);
      const result = await upsertStickyComment(client(), 9, 'new plan');
      expect(result).to.include({ action: 'updated', id: mine!.id });
      expect(gh.requestsTo('list-comments').map((r) => [r.query.page ?? '1', r.query.per_page])).to.deep.equal([['1', '100'], ['2', '100']]);
      expect(gh.requestsTo('create-comment')).to.have.length(0);
      expect(gh.comments.get(9)!.filter((x) => String(x.body).includes(PLAN_MARKER))).to.have.length(1);
    });

    it('never takes over a person\'s comment that carries the marker: the plan goes in the bot\'s own', async () => {
      const [planted] = gh.seedComments(12, [`${PLAN_MARKER}\nfake plan`]);
      const result = await upsertStickyComment(client(), 12, 'real plan');
      expect(result.action).to.equal('created');
      expect(result.id).to.not.equal(planted!.id);
      expect(gh.requestsTo('update-comment')).to.have.length(0);
      expect(String(gh.comments.get(12)![0]!.body)).to.equal(`${PLAN_MARKER}\nfake plan`);
    });

    it('keeps a marker the body already carries, and a custom marker makes a separate sticky comment', async () => {
      const c = client();
      await upsertStickyComment(c, 4, `## Plan\n${PLAN_MARKER}`);
      const other = await upsertStickyComment(c, 4, 'drift report', '<!-- envctl:drift -->');
      expect(other.action).to.equal('created');
      expect(gh.comments.get(4)!.map((x) => x.body)).to.deep.equal([`## Plan\n${PLAN_MARKER}`, '<!-- envctl:drift -->\ndrift report']);
    });

    it('posts a too-long body cut to 65536 characters with a note, its code fence closed', async () => {
      const huge = `Rendered Dockerfile:\n\`\`\`dockerfile\n${'RUN echo layer\n'.repeat(6000)}\`\`\``;
      const result = await upsertStickyComment(client(), 5, huge);
      expect(result.action).to.equal('created');
      const posted = String((gh.requestsTo('create-comment')[0]!.body as { body: string }).body);
      expect(posted.length).to.be.at.most(MAX_COMMENT_LENGTH);
      expect(posted.startsWith(PLAN_MARKER)).to.equal(true);
      expect(posted).to.match(/Truncated:.*GitHub allows 65536/);
      expect(posted.match(/^```/gm)).to.have.length(2);
      expect(posted).to.contain('RUN echo layer\n```\n\n>');
    });

    it('cuts at a line end and never splits a character made of two UTF-16 units', () => {
      const body = stickyBody(`${'🐳'.repeat(50)}\n${'x'.repeat(10)}\n${'🐳'.repeat(400)}`, PLAN_MARKER, 400);
      expect(body.length).to.be.at.most(400);
      expect(body).to.not.match(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      expect(body.split('\n\n> ')[0]).to.match(/x{10}$/);
      expect(stickyBody('short', PLAN_MARKER, 400)).to.equal(`${PLAN_MARKER}\nshort`);
    });

    it('measures the limit in UTF-8 bytes, so a body of short lines of multi-byte characters is cut too, its <details> closed', () => {
      // 300 characters but 900 bytes: by characters it fits 400, by bytes it does not.
      const body = `<details>\n\n${'日本語\n'.repeat(75)}</details>`;
      expect(body.length).to.be.below(400);
      const posted = stickyBody(body, PLAN_MARKER, 400);
      expect(Buffer.byteLength(posted)).to.be.at.most(400);
      expect(posted.startsWith(PLAN_MARKER)).to.equal(true);
      expect(posted).to.match(/\n<\/details>\n\n> \*\*Truncated:\*\* this comment would be \d+ bytes/);
    });
  });

  describe('commit status', () => {
    it('carries context envctl/<environment>, the state, a description cut to 140 and the target URL', async () => {
      const long = `built revision 12 of python-3.12: ${'layer '.repeat(40)}`;
      const result = await setCommitStatus(client(), SHA, { environment: 'python-3.12', state: 'success', description: long, targetUrl: 'https://ci.example/run/5' });
      const [req] = gh.requestsTo('create-status');
      expect(req!.path).to.equal(`/repos/${REPO}/statuses/${SHA}`);
      const body = req!.body as Record<string, string>;
      expect(body).to.include({ context: 'envctl/python-3.12', state: 'success', target_url: 'https://ci.example/run/5' });
      expect(body.description!.length).to.equal(140);
      expect(body.description!.endsWith('…')).to.equal(true);
      expect(long.startsWith(body.description!.slice(0, -1))).to.equal(true);
      expect(result).to.deep.equal({ id: gh.statuses[0]!.id, context: 'envctl/python-3.12' });
    });

    it('sends a short description as it is and no target URL when there is none', async () => {
      await setCommitStatus(client(), SHA, { environment: 'r', state: 'pending', description: 'building' });
      expect(gh.requestsTo('create-status')[0]!.body).to.deep.equal({ state: 'pending', context: 'envctl/r', description: 'building' });
    });
  });

  describe('deployment', () => {
    const record = { environment: 'python-3.12', ref: SHA, revision: 12, imageReference: `registry.example/envs/python-3.12@${DIGEST}`, state: 'success' as const };

    it('creates the deployment, then its status with the image by digest as environment URL', async () => {
      const result = await recordDeployment(client(), { ...record, description: 'revision 12', logUrl: 'https://ci.example/run/5' });
      const [dep] = gh.requestsTo('create-deployment');
      expect(dep!.body).to.deep.equal({
        ref: SHA, environment: 'envctl/python-3.12', auto_merge: false, required_contexts: [],
        payload: { revision: 12, image: record.imageReference }, description: 'revision 12',
        transient_environment: false, production_environment: false,
      });
      const [status] = gh.requestsTo('create-deployment-status');
      expect(status!.path).to.equal(`/repos/${REPO}/deployments/${result.deploymentId}/statuses`);
      expect(status!.body).to.deep.equal({
        state: 'success', environment_url: `https://${record.imageReference}`, log_url: 'https://ci.example/run/5', description: 'revision 12', auto_inactive: true,
      });
      expect(result).to.deep.equal({ deploymentId: gh.deployments[0]!.id, statusId: gh.deploymentStatuses[0]!.id, environment: 'envctl/python-3.12' });
      expect(gh.deploymentStatuses[0]).to.include({ environment: 'envctl/python-3.12', environment_url: `https://${record.imageReference}` });
    });

    it('treats a 202 (merge instead of deployment) as an error and posts no status', async () => {
      gh.fail('create-deployment', 'accepted');
      const err = await rejection(recordDeployment(client(), record));
      expect(err.message).to.match(/did not create a deployment.*Auto-merged main into topic/);
      expect(gh.requestsTo('create-deployment-status')).to.have.length(0);
    });

    it('refuses an image reference without a digest before calling GitHub', async () => {
      const err = await rejection(recordDeployment(client(), { ...record, imageReference: 'registry.example/envs/python-3.12:12' }));
      expect(err.message).to.match(/no @sha256 digest/);
      expect(gh.requests).to.have.length(0);
    });
  });

  describe('retries and rate limits', () => {
    it('retries a 502 until GitHub answers', async () => {
      gh.fail('create-status', 'bad-gateway', 2);
      await setCommitStatus(client(), SHA, { environment: 'r', state: 'success', description: 'ok' });
      expect(gh.requestsTo('create-status')).to.have.length(3);
      expect(gh.statuses).to.have.length(1);
    });

    it('gives up after the configured retries with the status in words', async () => {
      gh.fail('create-status', 'bad-gateway', 10);
      const err = await rejection(setCommitStatus(client({ retry: { retries: 2, baseDelayMs: 1 } }), SHA, { environment: 'r', state: 'success', description: 'ok' }));
      expect(gh.requestsTo('create-status')).to.have.length(3);
      expect(err.status).to.equal(502);
      expect(err.message).to.match(/answered 502 .* after 2 retries/);
    });

    it('waits out a primary rate limit (x-ratelimit-remaining: 0) and retries', async () => {
      gh.fail('list-comments', 'rate-limit');
      const result = await upsertStickyComment(client(), 1, 'plan');
      expect(result.action).to.equal('created');
      expect(gh.requestsTo('list-comments')).to.have.length(2);
      expect(logged.some((m) => /^GitHub rate limit on GET .*retry 1\/3/.test(m))).to.equal(true);
    });

    it('waits out a secondary rate limit (retry-after) and retries', async () => {
      gh.fail('create-comment', 'secondary-rate-limit', 2);
      const result = await upsertStickyComment(client(), 1, 'plan');
      expect(result.action).to.equal('created');
      expect(gh.requestsTo('create-comment')).to.have.length(3);
      expect(gh.comments.get(1)).to.have.length(1);
      expect(logged.filter((m) => m.startsWith('GitHub secondary rate limit on POST'))).to.have.length(2);
    });

    it('stops retrying a rate limit after the configured retries and says when it resets', async () => {
      gh.fail('create-status', 'rate-limit', 10);
      const err = await rejection(setCommitStatus(client({ retry: { retries: 1, baseDelayMs: 1 } }), SHA, { environment: 'r', state: 'success', description: 'ok' }));
      expect(gh.requestsTo('create-status')).to.have.length(2);
      expect(err.message).to.match(/^rate limited/);
      expect(err.hint).to.match(/resets at \d{4}-/);
    });
  });

  describe('errors in words', () => {
    it('403 names the permission the call needs, without retrying', async () => {
      gh.fail('create-status', 'forbidden');
      const err = await rejection(setCommitStatus(client(), SHA, { environment: 'r', state: 'success', description: 'ok' }));
      expect(err.status).to.equal(403);
      expect(err.message).to.contain('missing permission: the token needs `statuses: write` (set `permissions:` in the workflow)');
      expect(err.message).to.contain('Resource not accessible by integration');
      expect(err.hint).to.contain('statuses: write');
      expect(gh.requestsTo('create-status')).to.have.length(1);
    });

    it('403 on a comment names the pull-request permission', async () => {
      gh.fail('create-comment', 'forbidden');
      const err = await rejection(upsertStickyComment(client(), 2, 'plan'));
      expect(err.message).to.contain('the token needs `pull-requests: write` or `issues: write`');
      gh.fail('create-deployment', 'forbidden');
      const dep = await rejection(recordDeployment(client(), { environment: 'r', ref: SHA, revision: 1, imageReference: `r@${DIGEST}`, state: 'success' }));
      expect(dep.message).to.contain('`deployments: write`');
    });

    it('404 (a repository the token cannot see) names the repository', async () => {
      const err = await rejection(setCommitStatus(client({ repository: 'acme/enviroments' }), SHA, { environment: 'r', state: 'success', description: 'ok' }));
      expect(err.status).to.equal(404);
      expect(err.message).to.contain('not found: check the repository name acme/enviroments and that the token can see it');
      expect(gh.requests).to.have.length(1);
    });

    it('another refusal (409: no such ref) is reported with GitHub\'s words, without retrying', async () => {
      const err = await rejection(recordDeployment(client(), { environment: 'r', ref: 'main', revision: 1, imageReference: `r@${DIGEST}`, state: 'success' }));
      expect(err.status).to.equal(409);
      expect(err.message).to.match(/^GitHub refused to record revision 1 of r as a deployment: 409 No ref found for: main/);
      expect(gh.requests).to.have.length(1);
    });

    it('401 says the token is bad', async () => {
      const err = await rejection(upsertStickyComment(client({ token: 'ghs_revoked' }), 2, 'plan'));
      expect(err.status).to.equal(401);
      expect(err.message).to.match(/^bad token/);
      expect(gh.requests).to.have.length(1);
    });
  });
});

describe('github: GitHub Enterprise Server', () => {
  let gh: FakeGitHub;
  beforeEach(async () => { gh = await startFakeGitHub({ token: TOKEN, repository: REPO, prefix: '/api/v3' }); });
  afterEach(() => gh.close());

  it('honours GITHUB_API_URL, path prefix included, for every page and write', async () => {
    const env = { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: REPO, GITHUB_API_URL: `${gh.url}/` };
    gh.seedComments(11, Array.from({ length: 101 }, (_, i) => `c${i}`));
    const c = githubClient({ env, writeIntervalMs: 0, retry: { baseDelayMs: 1 } });
    expect(c.baseUrl).to.equal(gh.url);
    await upsertStickyComment(c, 11, 'plan');
    await setCommitStatus(c, SHA, { environment: 'r', state: 'success', description: 'ok' });
    expect(gh.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
      `GET /api/v3/repos/${REPO}/issues/11/comments`,
      `GET /api/v3/repos/${REPO}/issues/11/comments`,
      // Whom the token writes as: an installation token is refused GET /user (and no marker comment exists anyway).
      `GET /api/v3/user`,
      `POST /api/v3/repos/${REPO}/issues/11/comments`,
      `POST /api/v3/repos/${REPO}/statuses/${SHA}`,
    ]);
    expect(gh.comments.get(11)!.at(-1)!.html_url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/acme\/environments\/pull\/11#issuecomment-/);
  });
});
