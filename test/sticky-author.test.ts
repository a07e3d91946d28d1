/**
 * The sticky plan comment is only ever one the token's own identity wrote:
 * the real octokit client against the local GitHub stand-in, with user
 * tokens (GET /user answers), installation tokens (GET /user refused as an
 * integration) and marker comments planted by people and other bots.
 */
import { expect } from 'chai';
import { githubClient, GitHubError, upsertStickyComment, PLAN_MARKER } from '../src/github/index.js';
import { BOT, startFakeGitHub, type FakeGitHub, type FakeGitHubOptions } from './fixtures/github-server.js';

const TOKEN = 'ghs_fake';
const REPO = 'acme/environments';
const user = (login: string, type: 'User' | 'Bot' = 'User', id = 7) => ({ login, id, type, site_admin: false });
const APP = user('envctl-app[bot]', 'Bot', 99);

describe('github: the sticky comment\'s author', () => {
  let gh: FakeGitHub;
  const start = async (o: Partial<FakeGitHubOptions> = {}) => {
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO, ...o });
    return gh;
  };
  afterEach(() => gh.close());
  const client = (env: Record<string, string> = {}) =>
    githubClient({ token: TOKEN, repository: REPO, baseUrl: gh.url, retry: { retries: 0, baseDelayMs: 1 }, writeIntervalMs: 0, env });
  const untouched = () => {
    expect(gh.requestsTo('update-comment')).to.have.length(0);
    expect(gh.requests.filter((r) => r.method === 'DELETE')).to.have.length(0);
  };

  it('ignores marker comments by other bots and by a person named like the Actions bot; writes its own', async () => {
    await start();
    const planted = [
      ...gh.seedComments(5, [`${PLAN_MARKER}\nfrom dependabot`], user('dependabot[bot]', 'Bot', 49699333)),
      ...gh.seedComments(5, [`${PLAN_MARKER}\nfrom another app`], APP),
      ...gh.seedComments(5, [`${PLAN_MARKER}\nfrom a person`], user('github-actions')),
    ];
    const before = planted.map((c) => c.body);
    const result = await upsertStickyComment(client({ GITHUB_ACTIONS: 'true' }), 5, 'real plan');
    expect(result.action).to.equal('created');
    untouched();
    expect(gh.comments.get(5)!.slice(0, 3).map((c) => c.body)).to.deep.equal(before);
    expect(gh.comments.get(5)!.at(-1)!.user).to.deep.equal(BOT);
    // The next run finds its own comment, not theirs.
    const again = await upsertStickyComment(client({ GITHUB_ACTIONS: 'true' }), 5, 'newer plan');
    expect(again).to.include({ action: 'updated', id: result.id });
    expect(gh.comments.get(5)!.slice(0, 3).map((c) => c.body)).to.deep.equal(before);
  });

  it('with a user token learns the login from GET /user (case-insensitively) and ignores github-actions[bot]\'s', async () => {
    await start({ identity: user('Alice'), integration: false });
    const [bots] = gh.seedComments(8, [`${PLAN_MARKER}\nbot plan`], BOT);
    const [mine] = gh.seedComments(8, [`${PLAN_MARKER}\nold plan`], user('alice'));
    const result = await upsertStickyComment(client({ GITHUB_ACTIONS: 'true' }), 8, 'new plan');
    expect(result).to.include({ action: 'updated', id: mine!.id });
    expect(gh.comments.get(8)!.find((c) => c.id === bots!.id)!.body).to.equal(`${PLAN_MARKER}\nbot plan`);
    expect(gh.requestsTo('get-user')).to.have.length(1);
  });

  it('with an installation token outside Actions knows no identity, so edits nothing and posts its own', async () => {
    await start();
    gh.seedComments(3, [`${PLAN_MARKER}\nold`], BOT);
    const result = await upsertStickyComment(client({}), 3, 'plan');
    expect(result.action).to.equal('created');
    untouched();
    expect(gh.comments.get(3)![0]!.body).to.equal(`${PLAN_MARKER}\nold`);
  });

  it('ENVCTL_GITHUB_LOGIN names a GitHub App\'s bot, whose comments GET /user cannot name', async () => {
    await start({ identity: APP });
    const [actions] = gh.seedComments(4, [`${PLAN_MARKER}\nworkflow token plan`], BOT);
    const first = await upsertStickyComment(client({ GITHUB_ACTIONS: 'true', ENVCTL_GITHUB_LOGIN: 'envctl-app[bot]' }), 4, 'app plan');
    expect(first.action).to.equal('created');
    const second = await upsertStickyComment(client({ GITHUB_ACTIONS: 'true', ENVCTL_GITHUB_LOGIN: 'envctl-app[bot]' }), 4, 'app plan 2');
    expect(second).to.include({ action: 'updated', id: first.id });
    expect(gh.comments.get(4)!.find((c) => c.id === actions!.id)!.body).to.equal(`${PLAN_MARKER}\nworkflow token plan`);
    // The override is taken as given: GET /user is not asked.
    expect(gh.requestsTo('get-user')).to.have.length(0);
  });

  it('asks GET /user once per client, however many comments it writes', async () => {
    await start();
    const c = client({ GITHUB_ACTIONS: 'true' });
    await upsertStickyComment(c, 1, 'a');
    await upsertStickyComment(c, 1, 'b');
    await upsertStickyComment(c, 2, 'c');
    expect(gh.requestsTo('get-user')).to.have.length(1);
    expect(gh.comments.get(1)).to.have.length(1);
  });

  it('a bad token is an error, not a quiet fall-back to the Actions bot', async () => {
    await start();
    const bad = githubClient({ token: 'wrong', repository: REPO, baseUrl: gh.url, retry: { retries: 0, baseDelayMs: 1 }, writeIntervalMs: 0, env: { GITHUB_ACTIONS: 'true' } });
    const err = await upsertStickyComment(bad, 1, 'x').then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(GitHubError);
    expect((err as GitHubError).code).to.equal('github-bad-token');
  });
});
