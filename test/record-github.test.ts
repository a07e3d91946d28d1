/**
 * envctl record --github at scale, against the REST stand-in with GitHub's
 * limits: 60 environments are 60 commit statuses, 60 deployments and 60
 * deployment statuses, 180 pieces of content, past the secondary limit of
 * 80. The client waits out each 403 (retry-after) and nothing is lost.
 */
import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildRecord } from '../src/ledger/model.js';
import { formatResults } from '../src/ledger/results.js';
import { runEnvctl } from './fixtures/cli.js';
import { startFakeGitHub, type FakeGitHub } from './fixtures/github-server.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';

const TOKEN = 'ghs_recordsixty';
const REPOSITORY = 'acme/environments';
const COUNT = 60;
const names = Array.from({ length: COUNT }, (_, i) => `env-${String(i).padStart(2, '0')}`);

describe('record --github: 60 environments past the secondary rate limit', function () {
  this.timeout(120_000);
  let dir: string;
  let gh: FakeGitHub;
  before(async () => {
    // GitHub's budget of 80, in a minute's window: only the retry-after (1 s) lets content through again,
    // so the limit is met however fast this machine is, and each refusal must be waited out.
    gh = await startFakeGitHub({ token: TOKEN, repository: REPOSITORY, contentLimit: { budget: 80, windowMs: 60_000, retryAfterSeconds: 1 } });
    dir = await tempDir('envctl-record-github-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'),
      ...Object.fromEntries(names.map((n) => [`environments/${n}.yaml`, yaml(`title: ${n}`, 'owner: "@o"', 'instructions: RUN true')])),
    }, 'sixty environments');
  });
  after(async () => {
    await gh.close();
    await removeDir(dir);
  });

  it('records every build and reports one status and one deployment per environment, none lost', async () => {
    const sha = await git(dir, 'rev-parse', 'HEAD');
    const builds = names.map((environment, i): { environment: string; record: BuildRecord } => ({
      environment,
      record: {
        id: `${environment}-1`, revision: 1, commit: sha, contentKey: `sha256:${String(i).padStart(64, '0')}`, status: 'succeeded',
        image: `127.0.0.1:1/envctl/${environment}:1`, digest: `sha256:${String(i).padStart(64, 'a')}`,
        startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:01:00Z',
      },
    }));
    await writeFile(join(dir, 'results.json'), formatResults(sha, builds));
    const r = await runEnvctl(dir, ['record', 'results.json', '--github'], {
      GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: REPOSITORY, GITHUB_API_URL: gh.url, GITHUB_SHA: sha,
      GITHUB_SERVER_URL: 'https://github.example', GITHUB_RUN_ID: '42',
      // No pause between writes: the stand-in's limit, not envctl's pacing, is what this meets.
      ENVCTL_GITHUB_WRITE_INTERVAL_MS: '0',
    });
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.contain(`GitHub: ${COUNT} commit statuses, ${COUNT} deployments`);
    // The limit was met and waited out (180 pieces of content in budgets of 80: at least twice).
    expect(gh.budget.refused).to.be.at.least(2);
    expect(r.err).to.match(/GitHub secondary rate limit on POST .*: retry 1\/3 in 1s/);
    expect(gh.statuses.map((s) => s.context).sort()).to.deep.equal(names.map((n) => `envctl/${n}`));
    expect(gh.statuses.every((s) => s.state === 'success' && s.target_url === 'https://github.example/acme/environments/actions/runs/42')).to.equal(true);
    expect(gh.deployments.map((d) => d.environment).sort()).to.deep.equal(names.map((n) => `envctl/${n}`));
    expect(gh.deploymentStatuses.map((d) => d.environment_url).sort()).to.deep.equal(
      builds.map((b) => `https://127.0.0.1:1/envctl/${b.environment}@${b.record.digest}`).sort());
  });
});
