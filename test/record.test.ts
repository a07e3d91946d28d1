/** envctl record: results files (and folders of them) into the ledger in one commit, on a real repository. */
import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLedger } from '../src/git/ledger.js';
import type { BuildRecord } from '../src/ledger/model.js';
import { formatResults } from '../src/ledger/results.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';
import { runEnvctl } from './fixtures/cli.js';

/** The commit the environments a and b were added in (records name a revision's commit, which record checks). */
let added = '';
const rec = (id: string, revision: number, status: BuildRecord['status']): BuildRecord => ({
  id, revision, commit: added, contentKey: `sha256:${String(revision).repeat(64)}`, status, startedAt: `2026-01-01T00:00:0${revision}Z`,
  ...(status === 'succeeded' ? { digest: `sha256:${String(revision).repeat(64)}` } : { reason: 'RUN exited with 1', failure: { kind: 'build' as const } }),
});

const envctl = (dir: string, ...argv: string[]) => runEnvctl(dir, argv);

describe('record: results files into the ledger', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('envctl-record-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'),
      'environments/a.yaml': yaml('title: A', 'owner: "@o"', 'instructions: RUN true'),
      'environments/b.yaml': yaml('title: B', 'owner: "@o"', 'instructions: RUN true'),
    }, 'initial');
    added = await git(dir, 'rev-parse', 'HEAD');
  });
  afterEach(() => removeDir(dir));

  it('records a file and a folder of files in one commit; a failed build exits 1', async () => {
    await writeFile(join(dir, 'one.json'), formatResults(added, [{ environment: 'a', record: rec('a1', 1, 'succeeded') }]));
    await mkdir(join(dir, 'more'));
    await writeFile(join(dir, 'more', 'two.json'), formatResults(null, [{ environment: 'b', record: rec('b1', 1, 'failed') }]));
    await writeFile(join(dir, 'more', 'notes.txt'), 'not results\n');
    const r = await envctl(dir, 'record', 'one.json', 'more');
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.match(/^recorded 2 builds \(1 failed\) in envctl-state [0-9a-f]{7}$/);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('a')?.builds.map((b) => b.id)).to.deep.equal(['a1']);
    expect(ledger.get('b')?.builds.map((b) => b.status)).to.deep.equal(['failed']);
    expect(await git(dir, 'rev-list', '--count', 'envctl-state')).to.equal('1');
  });

  it('says so when there is nothing to record, and names a missing file', async () => {
    await writeFile(join(dir, 'empty.json'), formatResults(null, []));
    const empty = await envctl(dir, 'record', 'empty.json');
    expect([empty.code, empty.out]).to.deep.equal([0, 'nothing to record: no builds in the results']);
    const missing = await envctl(dir, 'record', 'nope.json');
    expect(missing.code).to.not.equal(0);
    expect(missing.err).to.contain('no results file or folder nope.json');
  });

  it('recording the same results again (a re-run of the record job) makes no second commit and says so', async () => {
    await writeFile(join(dir, 'r.json'), formatResults(added, [{ environment: 'a', record: rec('a1', 1, 'succeeded') }, { environment: 'b', record: rec('b1', 1, 'succeeded') }]));
    const first = await envctl(dir, 'record', 'r.json');
    expect(first.code, first.err).to.equal(0);
    const head = await git(dir, 'rev-parse', 'envctl-state');
    const again = await envctl(dir, 'record', 'r.json');
    expect([again.code, again.err]).to.deep.equal([0, 'nothing new to record (2 builds already recorded in envctl-state)']);
    expect(await git(dir, 'rev-parse', 'envctl-state')).to.equal(head);
    expect(await git(dir, 'rev-list', '--count', 'envctl-state')).to.equal('1');
  });

  it('results partly recorded before: the commit holds and counts only the new ones', async () => {
    const a1 = rec('a1', 1, 'succeeded');
    await writeFile(join(dir, 'one.json'), formatResults(added, [{ environment: 'a', record: a1 }]));
    expect((await envctl(dir, 'record', 'one.json')).code).to.equal(0);
    // The same record with its keys in another order is the same record.
    const reordered = Object.fromEntries(Object.entries(a1).reverse()) as unknown as BuildRecord;
    await writeFile(join(dir, 'both.json'), formatResults(added, [{ environment: 'a', record: reordered }, { environment: 'b', record: rec('b2', 2, 'failed') }]));
    const r = await envctl(dir, 'record', 'both.json');
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/^recorded 1 build \(1 failed\) in envctl-state [0-9a-f]{7}; 1 already recorded$/);
    expect(await git(dir, 'rev-list', '--count', 'envctl-state')).to.equal('2');
    const message = await git(dir, 'log', '-1', '--format=%B', 'envctl-state');
    expect(message).to.contain('envctl sync: 0 built or reused, 1 failed');
    expect(message).to.contain('b revision 2: failed');
    expect(message).to.not.contain('a revision 1');
  });

  it('a record whose content changed since (same id) is recorded again, not called already recorded', async () => {
    await writeFile(join(dir, 'one.json'), formatResults(added, [{ environment: 'a', record: rec('a1', 1, 'succeeded') }]));
    expect((await envctl(dir, 'record', 'one.json')).code).to.equal(0);
    await writeFile(join(dir, 'one.json'), formatResults(added, [{ environment: 'a', record: { ...rec('a1', 1, 'succeeded'), endedAt: '2026-01-01T00:05:00Z' } }]));
    const r = await envctl(dir, 'record', 'one.json');
    expect(r.err).to.match(/^recorded 1 build \(0 failed\) in envctl-state [0-9a-f]{7}$/);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('a')?.builds.map((b) => b.endedAt)).to.deep.equal(['2026-01-01T00:05:00Z']);
  });
});
