/** The ledger: merge rules (pure), and the state branch written by compare-and-swap, also by racing processes. */
import { expect } from 'chai';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readLedger, recordBuilds } from '../src/git/ledger.js';
import {
  activeRevision, emptyLedger, latestAttempts, LEDGER_FORMAT, LedgerFormatError, mergeLedgers, outcomeLabel, parseLedgerFile, formatLedgerFile, upgradeRecord, type BuildRecord,
} from '../src/ledger/model.js';
import { parseResults, RESULTS_FORMAT, ResultsFormatError } from '../src/ledger/results.js';
import { isEnvctlError } from '../src/model/errors.js';
import { removeDir, tempDir } from './helpers.js';

const rec = (o: Partial<BuildRecord> & { id: string; revision: number }): BuildRecord => ({
  commit: 'c'.repeat(40), contentKey: 'sha256:k', status: 'succeeded', startedAt: `2026-01-01T00:00:0${o.revision}Z`, ...o,
});

describe('ledger: records and the active revision', () => {
  it('the active revision is the newest that succeeded; a failed newer one leaves it', () => {
    const builds = [rec({ id: 'a', revision: 1 }), rec({ id: 'b', revision: 2 }), rec({ id: 'c', revision: 3, status: 'failed' })];
    expect(activeRevision(builds)).to.equal(2);
    expect(activeRevision([rec({ id: 'x', revision: 1, status: 'building' })])).to.equal(null);
  });

  it('merging keeps every record of both sides and the further-advanced state of the same attempt', () => {
    const base = emptyLedger('e');
    const left = { ...base, builds: [rec({ id: 'a', revision: 1 }), rec({ id: 'q', revision: 2, status: 'queued' })] };
    const right = { ...base, builds: [rec({ id: 'b', revision: 3, status: 'failed' }), rec({ id: 'q', revision: 2, status: 'succeeded', endedAt: '2026-01-01T01:00:00Z' })] };
    const merged = mergeLedgers(left, right);
    expect(merged.builds.map((b) => [b.id, b.status])).to.deep.equal([['a', 'succeeded'], ['q', 'succeeded'], ['b', 'failed']]);
    expect(merged.active).to.equal(2);
    expect(mergeLedgers(right, left)).to.deep.equal(merged);
  });

  it('the latest attempt per revision is the one started last', () => {
    const attempts = latestAttempts([rec({ id: '1', revision: 4, status: 'failed', startedAt: '2026-01-01T00:00:01Z' }), rec({ id: '2', revision: 4, startedAt: '2026-01-01T00:00:05Z' })]);
    expect(attempts.get(4)?.id).to.equal('2');
  });

  it('files round-trip, and another format is refused with a message', () => {
    const l = mergeLedgers(emptyLedger('e'), { ...emptyLedger('e'), builds: [rec({ id: 'a', revision: 1 })] });
    expect(parseLedgerFile(formatLedgerFile(l), 'ledger/e.json')).to.deep.equal(l);
    expect(() => parseLedgerFile('{"format":"envctl-ledger/9","environment":"e","builds":[]}', 'ledger/e.json')).to.throw(/newer envctl/);
    expect(() => parseLedgerFile('{', 'ledger/e.json')).to.throw(/not JSON/);
  });

  it('a file it cannot read is an input error with a code naming why and the file', () => {
    const codeOf = (text: string) => {
      try {
        parseLedgerFile(text, 'ledger/e.json');
      } catch (err) {
        expect(err).to.be.instanceOf(LedgerFormatError);
        expect(isEnvctlError(err, 'input')).to.equal(true);
        expect((err as LedgerFormatError).data).to.deep.equal({ path: 'ledger/e.json' });
        return (err as LedgerFormatError).code;
      }
      return undefined;
    };
    expect(['{', '{"format":"envctl-ledger/9","environment":"e","builds":[]}', `{"format":"${LEDGER_FORMAT}","builds":[]}`].map(codeOf))
      .to.deep.equal(['ledger-not-json', 'ledger-format-unknown', 'ledger-malformed']);
  });

  it('format 1 is still read: each failed or cancelled record gets its failure derived from the reason, once', () => {
    const old = [
      rec({ id: 'ok', revision: 1, digest: 'sha256:aa' }),
      rec({ id: 'reg', revision: 2, status: 'failed', reason: 'registry 127.0.0.1:5115: push failed: connection refused' }),
      rec({ id: 'auth', revision: 3, status: 'failed', reason: 'registry ghcr.io wants credentials for ghcr.io/acme/e@sha256:1' }),
      rec({ id: 'skip', revision: 4, status: 'failed', reason: 'skipped: its base b did not build' }),
      rec({ id: 'err', revision: 5, status: 'failed', reason: 'error: fetch failed' }),
      rec({ id: 'run', revision: 6, status: 'failed', reason: 'build failed: error building at STEP "RUN false": exit status 1' }),
      rec({ id: 'gone', revision: 7, status: 'cancelled', reason: 'superseded by revision 8 (sync pid 1)' }),
    ];
    const read = parseLedgerFile(JSON.stringify({ format: 'envctl-ledger/1', environment: 'e', active: 1, builds: old }), 'ledger/e.json');
    expect(read.format).to.equal(LEDGER_FORMAT);
    expect(read.builds.map((b) => [b.id, b.failure])).to.deep.equal([
      ['ok', undefined],
      ['reg', { kind: 'registry', host: 'registry 127.0.0.1:5115' }],
      ['auth', { kind: 'registry', host: 'registry ghcr.io' }],
      ['skip', { kind: 'skipped' }],
      ['err', { kind: 'unexpected' }],
      ['run', { kind: 'build' }],
      ['gone', { kind: 'cancelled' }],
    ]);
    // The human sentence stays; written again, the file is format 2 and reads back the same.
    expect(read.builds[1]!.reason).to.equal(old[1]!.reason);
    expect(parseLedgerFile(formatLedgerFile(read), 'ledger/e.json')).to.deep.equal(read);
    expect(JSON.parse(formatLedgerFile(read)).format).to.equal('envctl-ledger/2');
    // Format 2 is taken as written: its failure is not derived again from the words.
    const v2 = parseLedgerFile(JSON.stringify({ format: LEDGER_FORMAT, environment: 'e', builds: [rec({ id: 'x', revision: 1, status: 'failed', reason: 'registry r: looks like registry trouble', failure: { kind: 'build' } })] }), 'ledger/e.json');
    expect(v2.builds[0]!.failure).to.deep.equal({ kind: 'build' });
    expect(upgradeRecord(v2.builds[0]!)).to.equal(v2.builds[0]);
  });

  it('every report words an outcome from failure.kind', () => {
    expect(outcomeLabel(rec({ id: 'a', revision: 1 }))).to.equal('succeeded');
    expect(outcomeLabel(rec({ id: 'a', revision: 1, status: 'failed', reason: 'registry x: y', failure: { kind: 'build' } }))).to.equal('failed (build)');
    expect(outcomeLabel(rec({ id: 'a', revision: 1, status: 'failed', reason: 'RUN false', failure: { kind: 'registry' } }))).to.equal('failed (registry; retried)');
    expect(outcomeLabel(rec({ id: 'a', revision: 1, status: 'cancelled', failure: { kind: 'cancelled' } }))).to.equal('cancelled');
  });

  it('results files of format 1 are read with their records upgraded; a bad one is an input error', () => {
    // Entries are checked now (test/record-hostile.test.ts): a well-formed content key and head.
    const builds = [{ environment: 'e', record: rec({ id: 'r', revision: 2, status: 'failed', reason: 'registry 127.0.0.1:5115: push failed', contentKey: `sha256:${'a'.repeat(64)}` }) }];
    const read = parseResults(JSON.stringify({ format: 'envctl-results/1', head: 'a'.repeat(40), builds }), 'r.json');
    expect(read.refused).to.deep.equal([]);
    expect(read.format).to.equal(RESULTS_FORMAT).and.equal('envctl-results/2');
    expect(read.builds[0]!.record.failure).to.deep.equal({ kind: 'registry', host: 'registry 127.0.0.1:5115' });
    const err = (() => {
      try {
        return parseResults('{"format":"envctl-results/7","builds":[]}', 'r.json');
      } catch (e) {
        return e;
      }
    })();
    expect(err).to.be.instanceOf(ResultsFormatError);
    expect(err).to.include({ kind: 'input', code: 'results-format-unknown' });
  });
});

describe('ledger: the state branch', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('envctl-ledger-');
    await execa('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  });
  afterEach(() => removeDir(dir));

  it('records in one commit per call, without touching the work tree or HEAD, readable by git', async () => {
    await recordBuilds(dir, 'envctl-state', new Map([['py', [rec({ id: 'a', revision: 1, digest: 'sha256:aa' })]]]), { summary: 'envctl sync: 1 build' });
    await recordBuilds(dir, 'envctl-state', new Map([['py', [rec({ id: 'b', revision: 2, status: 'failed', reason: 'RUN failed' })]]]), { summary: 'envctl sync: 1 build' });
    const { head, ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('py')?.builds.map((b) => b.id)).to.deep.equal(['a', 'b']);
    expect(ledger.get('py')?.active).to.equal(1);
    const log = (await execa('git', ['log', '--format=%s%n%b', 'envctl-state'], { cwd: dir })).stdout;
    expect(log).to.contain('py revision 2: failed (RUN failed)');
    expect((await execa('git', ['rev-parse', 'envctl-state'], { cwd: dir })).stdout).to.equal(head);
    expect((await execa('git', ['rev-list', '--count', 'envctl-state'], { cwd: dir })).stdout).to.equal('2');
    expect(JSON.parse((await execa('git', ['show', 'envctl-state:ledger/py.json'], { cwd: dir })).stdout).active).to.equal(1);
    expect((await execa('git', ['fsck', '--strict'], { cwd: dir, reject: false })).exitCode).to.equal(0);
    expect((await execa('git', ['status', '--porcelain'], { cwd: dir })).stdout).to.equal('');
    expect((await execa('git', ['symbolic-ref', 'HEAD'], { cwd: dir })).stdout).to.equal('refs/heads/main');
  });

  it('a state branch of format 1 is read with failures derived, and rewritten as format 2 by the next write', async () => {
    const git = async (args: string[], input?: string) => (await execa('git', args, { cwd: dir, ...(input !== undefined ? { input } : {}) })).stdout.trim();
    const v1 = {
      format: 'envctl-ledger/1', environment: 'py', active: 1,
      builds: [rec({ id: 'a', revision: 1, digest: 'sha256:aa' }), rec({ id: 'b', revision: 2, status: 'failed', reason: 'registry 127.0.0.1:5115: push failed: connection refused' })],
    };
    const blob = await git(['hash-object', '-w', '--stdin'], `${JSON.stringify(v1, null, 2)}\n`);
    const folder = await git(['mktree'], `100644 blob ${blob}\tpy.json\n`);
    const root = await git(['mktree'], `040000 tree ${folder}\tledger\n`);
    const env = { GIT_AUTHOR_NAME: 'old envctl', GIT_AUTHOR_EMAIL: 'e@example.com', GIT_COMMITTER_NAME: 'old envctl', GIT_COMMITTER_EMAIL: 'e@example.com' };
    const commit = (await execa('git', ['commit-tree', root, '-m', 'envctl sync: old'], { cwd: dir, env })).stdout.trim();
    await git(['update-ref', 'refs/heads/envctl-state', commit]);

    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('py')?.builds.map((b) => b.failure)).to.deep.equal([undefined, { kind: 'registry', host: 'registry 127.0.0.1:5115' }]);
    expect(ledger.get('py')?.active).to.equal(1);

    await recordBuilds(dir, 'envctl-state', new Map([['other', [rec({ id: 'c', revision: 1, digest: 'sha256:cc' })]]]), { summary: 'envctl sync: 1 build' });
    const py = JSON.parse(await git(['show', 'envctl-state:ledger/py.json'])) as { format: string; builds: BuildRecord[] };
    expect(py.format).to.equal('envctl-ledger/2');
    expect(py.builds[1]!.failure).to.deep.equal({ kind: 'registry', host: 'registry 127.0.0.1:5115' });
    expect(py.builds[1]!.reason).to.equal('registry 127.0.0.1:5115: push failed: connection refused');
    expect(await git(['show', 'envctl-state:README.md'])).to.contain('envctl-ledger/2').and.contain('`failure`');
  });

  it('two processes recording at once both keep every record', async () => {
    const script = fileURLToPath(new URL('./fixtures/record-builds.js', import.meta.url));
    await Promise.all(['a', 'b'].map((tag) => execa(process.execPath, [script, dir, tag, '15'])));
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('env-a')?.builds).to.have.length(15);
    expect(ledger.get('env-b')?.builds).to.have.length(15);
    expect(ledger.get('shared')?.builds).to.have.length(30);
    expect((await execa('git', ['rev-list', '--count', 'envctl-state'], { cwd: dir })).stdout).to.equal('30');
  });

  it('a lock left by a killed writer does not block forever; a fresh one is waited for', async () => {
    const { writeFile, utimes, mkdir } = await import('node:fs/promises');
    const lock = join(dir, '.git', 'refs', 'heads', 'envctl-state.lock');
    await mkdir(join(dir, '.git', 'refs', 'heads'), { recursive: true });
    // envctl names itself in its lock: a holder that no longer runs is recognised at once.
    const dead = execa(process.execPath, ['-e', '']);
    const deadPid = dead.pid!;
    await dead;
    await writeFile(lock, `pid ${deadPid}\n`);
    await recordBuilds(dir, 'envctl-state', new Map([['py', [rec({ id: 'z', revision: 1 })]]]), { summary: 's', lockTimeoutMs: 200 });
    await writeFile(lock, ''); // another tool's lock: stale only after a minute
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    await recordBuilds(dir, 'envctl-state', new Map([['py', [rec({ id: 'a', revision: 1 })]]]), { summary: 's' });
    await writeFile(lock, '');
    let err: Error | undefined;
    await recordBuilds(dir, 'envctl-state', new Map([['py', [rec({ id: 'b', revision: 2 })]]]), { summary: 's', lockTimeoutMs: 200 }).catch((e: Error) => { err = e; });
    expect(err?.message).to.match(/held by another writer/);
  });
});

describe('ledger: publishing the state branch to a remote', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await removeDir(d);
  });

  async function clones(): Promise<{ remote: string; a: string; b: string }> {
    const remote = await tempDir('envctl-remote-');
    const a = await tempDir('envctl-clone-a-');
    const b = await tempDir('envctl-clone-b-');
    dirs.push(remote, a, b);
    await execa('git', ['init', '-q', '--bare', remote]);
    for (const d of [a, b]) {
      await execa('git', ['init', '-q', '-b', 'main'], { cwd: d });
      await execa('git', ['remote', 'add', 'origin', remote], { cwd: d });
    }
    return { remote, a, b };
  }

  it('a push refused because another sync pushed first merges record by record and succeeds', async () => {
    const { pushLedger } = await import('../src/git/remote.js');
    const { remote, a, b } = await clones();
    await recordBuilds(a, 'envctl-state', new Map([['py', [rec({ id: 'from-a', revision: 1 })]]]), { summary: 'a' });
    await pushLedger(a, 'envctl-state', 'origin');
    await recordBuilds(b, 'envctl-state', new Map([['py', [rec({ id: 'from-b', revision: 2 })]], ['r', [rec({ id: 'r1', revision: 1 })]]]), { summary: 'b' });
    await pushLedger(b, 'envctl-state', 'origin');
    const { ledger } = await readLedger(remote, 'envctl-state');
    expect(ledger.get('py')?.builds.map((x) => x.id).sort()).to.deep.equal(['from-a', 'from-b']);
    expect(ledger.get('r')?.builds).to.have.length(1);
    expect((await execa('git', ['fsck', '--strict'], { cwd: remote, reject: false })).exitCode).to.equal(0);
    // a catches up without a merge of its own when it has nothing new.
    await pushLedger(a, 'envctl-state', 'origin');
    const heads = await Promise.all([a, remote].map(async (d) => (await readLedger(d, 'envctl-state')).head));
    expect(heads[0]).to.equal(heads[1]);
  });

  it('two clones pushing at once both end with all their records on the remote', async () => {
    const { pushLedger } = await import('../src/git/remote.js');
    const { remote, a, b } = await clones();
    await Promise.all([a, b].map(async (d, i) => {
      for (let n = 0; n < 4; n++) {
        await recordBuilds(d, 'envctl-state', new Map([[`env-${i}`, [rec({ id: `${i}-${n}`, revision: n + 1 })]]]), { summary: `${i} ${n}` });
        await pushLedger(d, 'envctl-state', 'origin');
      }
    }));
    const { ledger } = await readLedger(remote, 'envctl-state');
    expect(ledger.get('env-0')?.builds).to.have.length(4);
    expect(ledger.get('env-1')?.builds).to.have.length(4);
  });
});
