/**
 * envctl record against hostile results files: every entry is checked on
 * its own, a bad one is refused by name (quoted, so no line break or escape
 * reaches the terminal), the good ones are recorded in one commit, exit 1.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLedger } from '../src/git/ledger.js';
import type { BuildRecord } from '../src/ledger/model.js';
import { formatResults, RESULTS_MAX_BYTES } from '../src/ledger/results.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';
import { runEnvctl } from './fixtures/cli.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;

const envctl = (dir: string, ...argv: string[]) => runEnvctl(dir, argv);

describe('record: hostile results files', function () {
  this.timeout(60_000);
  let dir: string;
  let added: string;
  const good = (environment: string, over: Partial<BuildRecord> = {}) => ({
    environment,
    record: {
      id: `1-2026-01-01T00:00:00.000Z-${environment}`, revision: 1, commit: added, contentKey: D('a'), status: 'succeeded', digest: D('b'),
      image: `127.0.0.1:1/${environment}:1`, startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:01:00.000Z', ...over,
    } as BuildRecord,
  });
  const ledgerOf = async () => (await readLedger(dir, 'envctl-state')).ledger;

  beforeEach(async () => {
    dir = await tempDir('envctl-record-hostile-');
    await git(dir, 'init', '-q', '-b', 'main');
    const env = yaml('owner: "@o"', 'instructions: RUN true');
    await commit(dir, {
      'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'),
      'environments/a.yaml': env, 'environments/b.yaml': env, 'environments/c.yaml': env, 'environments/d.yaml': env,
    }, 'four environments');
    added = await git(dir, 'rev-parse', 'HEAD');
  });
  afterEach(() => removeDir(dir));

  it('bad names are refused by name, quoted; the good entry is recorded in one commit; exit 1', async () => {
    const bad = ['a\nb', 'a b', '.git', '../x', 'A', 'x\u001b[31mred', 'nope'];
    await writeFile(join(dir, 'r.json'), formatResults(added, [good('a'), ...bad.map((n) => good(n))]));
    const r = await envctl(dir, 'record', 'r.json');
    expect(r.code).to.equal(1);
    const lines = r.err.split('\n');
    for (const [i, name] of bad.entries()) {
      const line = lines.find((l) => l.includes(`builds[${i + 1}]`));
      expect(line, `entry ${JSON.stringify(name)}`).to.contain(`(environment ${JSON.stringify(name)})`).and.match(/not recorded$/);
    }
    expect(lines.find((l) => l.includes('builds[7]'))).to.contain('no such environment in environments/ at commit');
    expect(r.err).to.not.contain('\u001b').and.not.contain('a\nb');
    expect(lines.filter((l) => l.startsWith('recorded '))).to.deep.equal([lines.find((l) => /^recorded 1 build \(0 failed\) in envctl-state [0-9a-f]{7}$/.test(l))]);
    const ledger = await ledgerOf();
    expect([...ledger.keys()]).to.deep.equal(['a']);
    expect(await git(dir, 'rev-list', '--count', 'envctl-state')).to.equal('1');
    const files = await git(dir, 'ls-tree', '-r', '--name-only', 'envctl-state');
    expect(files.split('\n').filter((f) => f.startsWith('ledger/'))).to.deep.equal(['ledger/a.json']);
  });

  it('malformed fields are refused: digests, revision, status, commit, image, failure; extra fields are dropped, free text made one safe line', async () => {
    const entries = [
      good('a', { digest: 'sha256:xyz' }),
      good('b', { revision: 0 }),
      good('c', { status: 'building' }),
      good('d', { commit: 'f'.repeat(40) }),
      good('a', { image: 'evil.example/other:1' }),
      good('b', { status: 'failed', digest: undefined, failure: undefined, reason: 'x' }),
    ];
    await writeFile(join(dir, 'bad.json'), formatResults(added, entries));
    const r = await envctl(dir, 'record', 'bad.json');
    expect(r.code).to.equal(1);
    // Every entry is refused for its own field (an entry refused so does not count as naming its environment again).
    expect(r.err).to.contain('builds[0] (environment "a"): digest "sha256:xyz" is not sha256:<64 hex digits>');
    expect(r.err).to.contain('builds[1] (environment "b"): revision 0 is not a revision number');
    expect(r.err).to.contain('builds[2] (environment "c"): status "building" is not one of succeeded, failed, cancelled');
    expect(r.err).to.contain(`builds[3] (environment "d"): commit ${'f'.repeat(12)} is not a commit of this repository`);
    expect(r.err).to.contain('builds[4] (environment "a"): image "evil.example/other:1" is not this environment\'s at revision 1');
    expect(r.err).to.contain('builds[5] (environment "b"): a build that did not succeed without a failure kind');
    expect(r.out).to.equal('nothing to record: no builds in the results');
    expect(await git(dir, 'branch', '--list', 'envctl-state')).to.equal('');

    const failing = good('c', { status: 'failed', digest: undefined, failure: { kind: 'build' }, reason: 'RUN failed\n\u001b[31m::error::forged\u202e', logTail: 'line 1\n\u001b[0mline 2\u0007' });
    (failing.record as unknown as Record<string, unknown>).evil = 'kept?';
    await writeFile(join(dir, 'ok.json'), formatResults(added, [failing]));
    const ok = await envctl(dir, 'record', 'ok.json');
    expect(ok.code, ok.err).to.equal(1); // the build failed
    const rec = (await ledgerOf()).get('c')!.builds[0]!;
    expect(rec.reason).to.equal('RUN failed  [31m::error::forged ');
    expect(rec.logTail).to.equal('line 1\n[0mline 2');
    expect(rec).to.not.have.property('evil');
  });

  it('an environment named twice, in one file or across two, is refused every time; the others are recorded', async () => {
    await mkdir(join(dir, 'results'));
    await writeFile(join(dir, 'results', 'one.json'), formatResults(added, [good('a'), good('b')]));
    await writeFile(join(dir, 'results', 'two.json'), formatResults(added, [good('b', { id: 'other', digest: D('e') }), good('c'), good('c', { id: 'c2' })]));
    const r = await envctl(dir, 'record', 'results');
    expect(r.code).to.equal(1);
    expect(r.err.split('\n').filter((l) => l.includes('the results name this environment'))).to.have.length(4);
    expect(r.err).to.contain('results/one.json: builds[1] (environment "b"): the results name this environment 2 times');
    expect([...(await ledgerOf()).keys()]).to.deep.equal(['a']);
  });

  it('whole files: not JSON, an unknown format, a head that is no commit, too large, a FIFO: each named, the other files recorded', async () => {
    await writeFile(join(dir, 'good.json'), formatResults(added, [good('d')]));
    await writeFile(join(dir, 'text.json'), 'not json at all');
    await writeFile(join(dir, 'array.json'), '[1, 2]');
    await writeFile(join(dir, 'head.json'), JSON.stringify({ format: 'envctl-results/2', head: 'main; rm -rf /', builds: [good('a')] }));
    await writeFile(join(dir, 'huge.json'), '');
    await truncate(join(dir, 'huge.json'), RESULTS_MAX_BYTES + 1); // sparse: refused by its size, unread
    await execa('mkfifo', [join(dir, 'fifo.json')]);
    const r = await envctl(dir, 'record', 'good.json', 'text.json', 'array.json', 'head.json', 'huge.json', 'fifo.json');
    expect(r.code).to.equal(1);
    expect(r.err).to.match(/text\.json: not JSON .*; nothing in it is recorded/);
    expect(r.err).to.contain('array.json: not a JSON object');
    expect(r.err).to.contain('head.json: head "main; rm -rf /" is not a commit id');
    expect(r.err).to.contain(`huge.json: ${RESULTS_MAX_BYTES + 1} bytes, more than a results file holds`);
    expect(r.err).to.contain('fifo.json: not a plain file');
    expect(r.err).to.match(/recorded 1 build \(0 failed\)/);
    expect([...(await ledgerOf()).keys()]).to.deep.equal(['d']);
  });

  it('a folder of results skips what is not a plain .json file (a FIFO, a folder); a file name with a line break is quoted', async () => {
    await mkdir(join(dir, 'results', 'sub.json'), { recursive: true });
    await execa('mkfifo', [join(dir, 'results', 'pipe.json')]);
    await writeFile(join(dir, 'results', 'bad\nname.json'), 'nope');
    await writeFile(join(dir, 'results', 'ok.json'), formatResults(added, [good('a')]));
    const r = await envctl(dir, 'record', 'results');
    expect(r.code).to.equal(1);
    expect(r.err).to.contain('"results/bad\\nname.json": not JSON');
    expect(r.err).to.not.contain('pipe.json').and.not.contain('sub.json');
    expect([...(await ledgerOf()).keys()]).to.deep.equal(['a']);
  });
});
