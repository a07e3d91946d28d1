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
});
