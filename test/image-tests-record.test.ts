/**
 * A failed image test as data: failure kind `test` is not retried, does not
 * make the revision active though the digest is recorded, passes results
 * validation, is a `failure` commit status naming the test (no deployment),
 * and sync's failureOf gives it from TestFailed's type.
 */
import { expect } from 'chai';
import { TestFailed, tailOf } from '../src/builder/tests.js';
import { githubClient, reportBuilds } from '../src/github/index.js';
import { commitState } from '../src/github/report.js';
import { activeRevision, FAILURE_KINDS, isRetried, outcomeLabel, type BuildRecord } from '../src/ledger/model.js';
import { formatResults, parseResults } from '../src/ledger/results.js';
import { failureOf } from '../src/sync/index.js';
import { config } from './helpers.js';
import { startFakeGitHub } from './fixtures/github-server.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const COMMIT = 'c'.repeat(40);
const record = (revision: number, over: Partial<BuildRecord> = {}): BuildRecord => ({
  id: `${revision}-2026-01-01T00:00:0${revision}.000Z-abc123`, revision, commit: COMMIT, contentKey: D('a'), status: 'succeeded',
  image: `127.0.0.1:5000/envctl/a:${revision}`, digest: D(String(revision)), startedAt: `2026-01-01T00:00:0${revision}.000Z`, endedAt: `2026-01-01T00:01:0${revision}.000Z`, ...over,
});
const failedTest = record(2, {
  status: 'failed', reason: 'test "import sklearn" failed: exit code 1', failure: { kind: 'test', code: 'test-failed' },
  logTail: 'ModuleNotFoundError: No module named \'sklearn\'',
});

describe('image tests: a failed test in the ledger, results and reports', () => {
  it('is a failure kind of its own, not retried, and the revision with its digest does not become active', () => {
    expect(FAILURE_KINDS).to.include('test');
    expect(isRetried(failedTest)).to.equal(false);
    expect(outcomeLabel(failedTest)).to.equal('failed (image test)');
    expect(activeRevision([record(1), failedTest])).to.equal(1);
  });

  it('sync gives failure kind test, with the error\'s code, for a TestFailed', () => {
    const err = new TestFailed('import sklearn', 'test "import sklearn" failed: exit code 1', 'tail');
    expect(failureOf(err, config())).to.deep.equal({ failure: { kind: 'test', code: 'test-failed' }, reason: 'test "import sklearn" failed: exit code 1' });
  });

  it('a results file carrying one is accepted as it is', () => {
    const read = parseResults(formatResults(COMMIT, [{ environment: 'a', record: failedTest }]), 'r.json');
    expect(read.refused).to.deep.equal([]);
    expect(read.builds[0]!.record).to.deep.equal(failedTest);
  });

  it('the log tail is the output\'s last lines, each made printable', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`);
    expect(tailOf(`${lines.join('\n')}\n`).split('\n')).to.deep.equal(lines.slice(5));
    expect(tailOf('bad \u001b[31mred\u202e\n')).to.equal('bad \\u001b[31mred\\u202e');
  });

  it('is reported as a failure commit status that names the test, and makes no deployment', async () => {
    expect(commitState(failedTest)).to.equal('failure');
    const gh = await startFakeGitHub({ token: 't', repository: 'acme/envs' });
    try {
      const client = githubClient({ token: 't', repository: 'acme/envs', baseUrl: gh.url, retry: { retries: 0, baseDelayMs: 1 }, writeIntervalMs: 0, env: {} });
      const done = await reportBuilds(client, COMMIT, [{ environment: 'a', record: failedTest }]);
      expect(done).to.deep.equal({ statuses: 1, deployments: 0 });
      expect(gh.requestsTo('create-status')[0]!.body).to.include({
        state: 'failure', context: 'envctl/a', description: 'revision 2 failed (image test): test "import sklearn" failed: exit code 1',
      });
    } finally {
      await gh.close();
    }
  });
});
