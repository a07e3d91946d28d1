/**
 * A plan split over several comments, against the local GitHub stand-in with
 * the real octokit client: the parts are found again by their markers and
 * updated together, parts a shorter plan no longer needs are emptied to a
 * note (and taken up again by a longer one), and marker comments anyone else
 * wrote are never edited.
 */
import { expect } from 'chai';
import { githubClient, upsertPlanComments, PLAN_MARKER } from '../src/github/index.js';
import { partMarker } from '../src/plan/comment-split.js';
import { BOT, startFakeGitHub, type FakeGitHub } from './fixtures/github-server.js';

const TOKEN = 'ghs_fake';
const REPO = 'acme/environments';
const plan = (n: number, text: string) => Array.from({ length: n }, (_, i) => `${PLAN_MARKER}\n${partMarker(i + 1, n)}\n${text} part ${i + 1} of ${n}\n`);

describe('github: a plan in several comments', () => {
  let gh: FakeGitHub;
  beforeEach(async () => {
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO });
  });
  afterEach(() => gh.close());
  const client = () => githubClient({ token: TOKEN, repository: REPO, baseUrl: gh.url, retry: { retries: 0, baseDelayMs: 1 }, writeIntervalMs: 0, env: { GITHUB_ACTIONS: 'true' } });
  const ours = (issue: number) => gh.comments.get(issue)!.filter((c) => (c.user as { login: string }).login === BOT.login);

  it('posts every part, updates them in place, empties the parts a shorter plan leaves over and takes them up again', async () => {
    const first = await upsertPlanComments(client(), 7, plan(3, 'first'));
    expect(first.map((r) => r.action)).to.deep.equal(['created', 'created', 'created']);
    const ids = first.map((r) => r.id);

    const shorter = await upsertPlanComments(client(), 7, plan(2, 'second'));
    expect(shorter.map((r) => r.action)).to.deep.equal(['updated', 'updated', 'emptied']);
    expect(shorter.map((r) => r.id)).to.deep.equal(ids);
    const bodies = ours(7).map((c) => String(c.body));
    expect(bodies[0]).to.contain('second part 1 of 2');
    expect(bodies[1]).to.contain('second part 2 of 2');
    expect(bodies[2]).to.contain('Part of an earlier, longer plan; the plan is now 2 comments');
    expect(bodies[2]).to.contain(partMarker(3, 2));

    const again = await upsertPlanComments(client(), 7, plan(2, 'second'));
    expect(again.map((r) => r.action)).to.deep.equal(['unchanged', 'unchanged', 'unchanged']);

    const longer = await upsertPlanComments(client(), 7, plan(4, 'third'));
    expect(longer.map((r) => r.action)).to.deep.equal(['updated', 'updated', 'updated', 'created']);
    expect(longer.slice(0, 3).map((r) => r.id)).to.deep.equal(ids);
    expect(ours(7).map((c) => String(c.body).split('\n')[2])).to.deep.equal(['third part 1 of 4', 'third part 2 of 4', 'third part 3 of 4', 'third part 4 of 4']);
    expect(gh.comments.get(7)).to.have.length(4);
  });

  it('never edits marker comments someone else wrote, even ones that claim to be part 1', async () => {
    const planted = gh.seedComments(9, [`${PLAN_MARKER}\n${partMarker(1, 2)}\nplanted by a person`, `${PLAN_MARKER}\n${partMarker(2, 2)}\nplanted too`]);
    const before = planted.map((c) => c.body);
    const result = await upsertPlanComments(client(), 9, plan(2, 'real'));
    expect(result.map((r) => r.action)).to.deep.equal(['created', 'created']);
    expect(gh.requestsTo('update-comment')).to.have.length(0);
    expect(gh.comments.get(9)!.slice(0, 2).map((c) => c.body)).to.deep.equal(before);
    const next = await upsertPlanComments(client(), 9, plan(1, 'shorter'));
    expect(next.map((r) => r.action)).to.deep.equal(['updated', 'emptied']);
    expect(gh.comments.get(9)!.slice(0, 2).map((c) => c.body)).to.deep.equal(before);
  });

  it('takes up its own plan comment from before plans were split as part 1', async () => {
    const [old] = gh.seedComments(4, [`${PLAN_MARKER}\nan old single plan`], BOT);
    const result = await upsertPlanComments(client(), 4, plan(2, 'split'));
    expect(result.map((r) => r.action)).to.deep.equal(['updated', 'created']);
    expect(result[0]!.id).to.equal(old!.id);
  });
});
