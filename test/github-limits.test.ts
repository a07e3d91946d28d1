/**
 * GitHub's documented limits: the REST stand-in refuses what GitHub refuses
 * (descriptions over 140 characters, URLs that are not http(s), comment
 * bodies over 65,536 characters, content creation past the secondary rate
 * limit), and envctl stays within them: it cuts descriptions, leaves out
 * URLs GitHub would refuse, and waits out the secondary limit.
 */
import { expect } from 'chai';
import { githubClient, recordDeployment, setCommitStatus, type GitHubClientOptions } from '../src/github/index.js';
import { httpUrl, truncate } from '../src/github/client.js';
import { environmentUrl } from '../src/github/deployments.js';
import { SECONDARY_LIMIT_MESSAGE, type ContentLimit } from './fixtures/github-limits.js';
import { startFakeGitHub, type FakeGitHub } from './fixtures/github-server.js';

const TOKEN = 'ghs_limitstoken';
const REPO = 'acme/environments';
const SHA = 'c'.repeat(40);
const DIGEST = `sha256:${'d'.repeat(64)}`;

/** A raw request, as any client would send it: the stand-in's own answers, without Octokit's reading of them. */
async function post(gh: FakeGitHub, path: string, body: unknown): Promise<{ status: number; headers: Headers; data: Record<string, unknown> }> {
  const res = await fetch(`${gh.url}/repos/${REPO}${path}`, {
    method: 'POST', headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, data: (await res.json()) as Record<string, unknown> };
}

describe('github limits: the stand-in answers as GitHub does', () => {
  let gh: FakeGitHub;
  afterEach(() => gh.close());

  it('422 Validation Failed for a status description over 140 characters; 140 characters (code points) pass', async () => {
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO });
    const long = await post(gh, `/statuses/${SHA}`, { state: 'success', context: 'envctl/a', description: 'x'.repeat(141) });
    expect(long.status).to.equal(422);
    expect(long.data.message).to.equal('Validation Failed');
    expect(long.data.errors).to.deep.equal([{ resource: 'Status', field: 'description', code: 'custom', message: 'description is too long (maximum is 140 characters)' }]);
    // 140 whales are 280 UTF-16 units but 140 characters to GitHub
    const whales = await post(gh, `/statuses/${SHA}`, { state: 'success', context: 'envctl/a', description: '🐳'.repeat(140) });
    expect(whales.status).to.equal(201);
    expect(gh.statuses).to.have.length(1);
  });

  it('422 for a target_url, log_url or environment_url that is not an http(s) URL', async () => {
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO });
    for (const target_url of ['javascript:alert(1)', 'not a url', '/relative/path', 'file:///etc/passwd']) {
      const r = await post(gh, `/statuses/${SHA}`, { state: 'success', context: 'envctl/a', target_url });
      expect([r.status, (r.data.errors as { field: string }[])[0]!.field], target_url).to.deep.equal([422, 'target_url']);
    }
    const deployment = await post(gh, '/deployments', { ref: SHA, environment: 'envctl/a' });
    expect(deployment.status).to.equal(201);
    const bad = await post(gh, `/deployments/${String(deployment.data.id)}/statuses`, { state: 'success', environment_url: 'ftp://registry/a', log_url: 'https://ci.example/1' });
    expect(bad.status).to.equal(422);
    expect((bad.data.errors as { field: string }[]).map((e) => e.field)).to.deep.equal(['environment_url']);
    const long = await post(gh, `/deployments/${String(deployment.data.id)}/statuses`, { state: 'success', description: 'y'.repeat(141) });
    expect([long.status, (long.data.errors as { resource: string }[])[0]!.resource]).to.deep.equal([422, 'DeploymentStatus']);
    expect(gh.statuses).to.have.length(0);
    expect(gh.deploymentStatuses).to.have.length(0);
  });

  it('422 for a comment body over 65,536 characters', async () => {
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO });
    const r = await post(gh, '/issues/3/comments', { body: 'z'.repeat(65537) });
    expect(r.status).to.equal(422);
    expect((r.data.errors as { message: string }[])[0]!.message).to.equal('Body is too long (maximum is 65536 characters)');
    expect((await post(gh, '/issues/3/comments', { body: 'z'.repeat(65536) })).status).to.equal(201);
  });

  it('403 with retry-after and "secondary rate limit" past the content budget; the budget returns after the wait', async () => {
    // A minute's window, as GitHub's: only waiting out the retry-after (1 s) lets content through again.
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO, contentLimit: { budget: 3, windowMs: 60_000, retryAfterSeconds: 1 } });
    const answers: number[] = [];
    for (let i = 0; i < 3; i++) answers.push((await post(gh, `/statuses/${SHA}`, { state: 'success', context: `envctl/e${i}` })).status);
    const refused = await post(gh, '/issues/1/comments', { body: 'one more' });
    expect(answers).to.deep.equal([201, 201, 201]);
    expect(refused.status).to.equal(403);
    expect(refused.headers.get('retry-after')).to.equal('1');
    expect(String(refused.data.message)).to.contain('secondary rate limit').and.to.equal(SECONDARY_LIMIT_MESSAGE);
    expect(gh.comments.get(1) ?? []).to.have.length(0);
    // Refused content costs nothing, and reading is not content creation.
    const read = await fetch(`${gh.url}/repos/${REPO}/issues/1/comments`, { headers: { authorization: `token ${TOKEN}` } });
    expect(read.status).to.equal(200);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await post(gh, '/issues/1/comments', { body: 'after the wait' })).status).to.equal(201);
    expect(gh.budget.refused).to.equal(1);
  });
});

describe('github limits: envctl stays within them', () => {
  let gh: FakeGitHub;
  afterEach(() => gh.close());
  const client = (o: GitHubClientOptions = {}) => githubClient({ token: TOKEN, repository: REPO, baseUrl: gh.url, retry: { retries: 3, baseDelayMs: 1 }, writeIntervalMs: 0, env: {}, ...o });

  it('cuts a long description to 140 characters with an ellipsis, never inside a character', async () => {
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO });
    // A family emoji (five code points joined), an accent made of two code points, whales of two UTF-16 units.
    const family = '👩‍👩‍👧‍👦';
    const description = `revision 3 failed: ${'e\u0301'.repeat(40)}${family.repeat(30)}${'🐳'.repeat(50)}`;
    await setCommitStatus(client(), SHA, { environment: 'a', state: 'failure', description });
    const sent = String(gh.statuses[0]!.description);
    expect([...sent].length).to.be.at.most(140);
    expect(sent.endsWith('…')).to.equal(true);
    const kept = sent.slice(0, -1);
    expect(description.startsWith(kept)).to.equal(true);
    // The cut falls between graphemes: what was kept is whole graphemes of the original.
    const segments = [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(description)].map((s) => s.segment);
    let joined = '';
    for (const g of segments) { if (joined.length >= kept.length) break; joined += g; }
    expect(joined).to.equal(kept);
  });

  it('truncate: text within the limit is unchanged; code points are counted, not UTF-16 units', () => {
    expect(truncate('🐳'.repeat(140), 140)).to.equal('🐳'.repeat(140));
    expect(truncate('🐳'.repeat(141), 140)).to.equal(`${'🐳'.repeat(139)}…`);
    expect(truncate('abc', 3)).to.equal('abc');
    expect(truncate('abcd', 3)).to.equal('ab…');
  });

  it('leaves out a target_url or log_url that is not http(s) instead of having the call refused', async () => {
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO });
    await setCommitStatus(client(), SHA, { environment: 'a', state: 'success', description: 'ok', targetUrl: 'javascript:alert(1)' });
    await setCommitStatus(client(), SHA, { environment: 'b', state: 'success', description: 'ok', targetUrl: 'https://ci.example/run/1' });
    expect(gh.statuses.map((s) => s.target_url)).to.deep.equal([null, 'https://ci.example/run/1']);
    await recordDeployment(client(), { environment: 'a', ref: SHA, revision: 1, imageReference: `registry.example/a@${DIGEST}`, state: 'success', logUrl: 'file:///tmp/log' });
    expect(gh.requestsTo('create-deployment-status')[0]!.body).to.not.have.property('log_url');
    expect(gh.deploymentStatuses[0]!.environment_url).to.equal(`https://registry.example/a@${DIGEST}`);
    expect([httpUrl('http://x.example/'), httpUrl('ftp://x.example/'), httpUrl(undefined), environmentUrl(`ftp://r/a@${DIGEST}`)]).to.deep.equal(['http://x.example/', undefined, undefined, undefined]);
  });

  it('waits out the secondary limit (retry-after) and loses no status', async () => {
    const limit: ContentLimit = { budget: 5, windowMs: 60_000, retryAfterSeconds: 1 };
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO, contentLimit: limit });
    const logged: string[] = [];
    // GitHub's seconds (baseDelayMs 1000): a retry before the retry-after is over would be refused again.
    const c = client({ retry: { retries: 3, baseDelayMs: 1000 }, log: (m) => logged.push(m) });
    for (let i = 0; i < 12; i++) await setCommitStatus(c, SHA, { environment: `e${i}`, state: 'success', description: 'ok' });
    expect(gh.statuses.map((s) => s.context)).to.deep.equal(Array.from({ length: 12 }, (_, i) => `envctl/e${i}`));
    // 12 statuses in budgets of 5: refused at the 6th and the 11th, each once
    expect(gh.budget.refused).to.equal(2);
    expect(logged.filter((m) => /^GitHub secondary rate limit on POST .*retry 1\/3 in 1s/.test(m))).to.have.length(2);
  });

  it('ENVCTL_GITHUB_WRITE_INTERVAL_MS must be a whole number of milliseconds', () => {
    expect(() => githubClient({ token: TOKEN, repository: REPO, env: { ENVCTL_GITHUB_WRITE_INTERVAL_MS: 'fast' } }))
      .to.throw().that.satisfies((e: { kind: string; code: string }) => e.kind === 'input' && e.code === 'github-write-interval-invalid');
    expect(githubClient({ token: TOKEN, repository: REPO, env: { ENVCTL_GITHUB_WRITE_INTERVAL_MS: '0' } }).repository).to.equal(REPO);
  });
});
