/**
 * The ledger's publications (ledger/model.ts, git/ledger.ts
 * recordPublications): kept beside the builds, merged by attempt, read back
 * exactly; a file whose entries could put a path into a request to the
 * product (ids outside PRODUCT_ID) is refused; a remote's publications
 * survive a ledger merge; a file without any is written as before.
 */
import { expect } from 'chai';
import { mergeRemoteLedger, readLedger, recordBuilds, recordPublications } from '../src/git/ledger.js';
import { formatLedgerFile, lastPublished, LedgerFormatError, mergeLedgers, parseLedgerFile, type BuildRecord, type Publication } from '../src/ledger/model.js';
import { git } from './fixtures/repo.js';
import { removeDir, tempDir } from './helpers.js';

const KEY = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const DIGEST = `sha256:${'c'.repeat(64)}`;
const pub = (at: string, status: Publication['status'], contentKey = KEY, revision = 1): Publication => ({
  revision, contentKey, digest: DIGEST, status, at,
  ...(status === 'published' ? { product: { environment: 'env-a', revision: `r-${at.slice(11, 13)}`, number: Number(at.slice(11, 13)) } } : { reason: 'the product failed (500)', code: 'product-failed' }),
});
const build: BuildRecord = { id: '1-x', revision: 1, commit: 'c'.repeat(40), contentKey: KEY, status: 'succeeded', image: 'r/a:1', digest: DIGEST, startedAt: '2026-01-01T00:00:00.000Z' };

describe('ledger: publications to the product', () => {
  it('merge keeps each attempt once, oldest first; lastPublished reads the newest published one', () => {
    const a = { format: 'envctl-ledger/2' as const, environment: 'a', active: 1, builds: [build], published: [pub('2026-01-01T01:00:00Z', 'failed'), pub('2026-01-01T02:00:00Z', 'published')] };
    const b = { ...a, published: [pub('2026-01-01T02:00:00Z', 'published'), pub('2026-01-01T03:00:00Z', 'published', OTHER, 2)] };
    const merged = mergeLedgers(a, b);
    expect(merged.published!.map((p) => [p.at.slice(11, 13), p.status])).to.deep.equal([['01', 'failed'], ['02', 'published'], ['03', 'published']]);
    expect(lastPublished(merged)!.contentKey).to.equal(OTHER);
    expect(lastPublished({ ...merged, published: merged.published!.slice(0, 2) })!.product!.number).to.equal(2);
    expect(lastPublished({ ...merged, published: merged.published!.slice(0, 1) })).to.equal(undefined);
    // Written as format 3, which an envctl that does not know publications refuses rather than dropping them.
    expect(JSON.parse(formatLedgerFile(merged)).format).to.equal('envctl-ledger/3');
    expect(parseLedgerFile(formatLedgerFile(merged), 'ledger/a.json')).to.deep.equal(merged);
  });

  it('a file without publications is written as before (no published key)', () => {
    const text = formatLedgerFile({ format: 'envctl-ledger/2', environment: 'a', active: 1, builds: [build] });
    expect(JSON.parse(text)).to.not.have.property('published');
    expect(JSON.parse(text).format).to.equal('envctl-ledger/2');
  });

  it('refuses entries whose product ids could reach a request path, or that are not publications at all', () => {
    const file = (published: unknown) => JSON.stringify({ format: 'envctl-ledger/2', environment: 'a', builds: [], published });
    const bad = [
      [{ ...pub('2026-01-01T02:00:00Z', 'published'), product: { environment: '../../admin', revision: 'r', number: 1 } }],
      [{ ...pub('2026-01-01T02:00:00Z', 'published'), product: { environment: 'env-a', revision: 'r?x=1', number: 1 } }],
      [{ ...pub('2026-01-01T02:00:00Z', 'published'), product: undefined }],
      [{ ...pub('2026-01-01T02:00:00Z', 'failed'), status: 'maybe' }],
      [{ ...pub('2026-01-01T02:00:00Z', 'failed'), revision: 0 }],
      'not a list',
    ];
    for (const b of bad) {
      expect(() => parseLedgerFile(file(b), 'ledger/a.json'), JSON.stringify(b)).to.throw(LedgerFormatError, /^ledger\/a\.json: published /);
    }
  });
});

describe('ledger: recordPublications on the state branch', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('envctl-ledger-pub-');
    await git(dir, 'init', '-q', '-b', 'main');
  });
  afterEach(() => removeDir(dir));

  it('adds the attempts beside the builds in one commit; the same attempts again make no commit', async () => {
    await recordBuilds(dir, 'envctl-state', new Map([['a', [build]]]), { summary: 'build' });
    const entries = new Map([['a', [pub('2026-01-01T02:00:00Z', 'published')]]]);
    const first = await recordPublications(dir, 'envctl-state', entries, 'published 1');
    expect(await recordPublications(dir, 'envctl-state', entries, 'published 1')).to.equal(first);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('a')!.builds).to.have.length(1);
    expect(ledger.get('a')!.published).to.deep.equal(entries.get('a'));
    expect(await git(dir, 'log', '-1', '--format=%B', 'envctl-state')).to.contain('a revision 1: published as product revision 2 (r-02)');
    // Another build recorded later keeps them.
    await recordBuilds(dir, 'envctl-state', new Map([['a', [{ ...build, id: '2-x', revision: 2, startedAt: '2026-01-02T00:00:00.000Z' }]]]), { summary: 'build 2' });
    expect((await readLedger(dir, 'envctl-state')).ledger.get('a')!.published).to.have.length(1);
  });

  it('a remote\'s publications and the local ones both survive a ledger merge', async () => {
    await recordBuilds(dir, 'envctl-state', new Map([['a', [build]]]), { summary: 'build' });
    const base = (await git(dir, 'rev-parse', 'envctl-state')).trim();
    await recordPublications(dir, 'envctl-state', new Map([['a', [pub('2026-01-01T02:00:00Z', 'published')]]]), 'local');
    const local = (await git(dir, 'rev-parse', 'envctl-state')).trim();
    await git(dir, 'branch', '-f', 'envctl-state', base);
    await recordPublications(dir, 'envctl-state', new Map([['a', [pub('2026-01-01T03:00:00Z', 'failed')]]]), 'remote');
    const remote = (await git(dir, 'rev-parse', 'envctl-state')).trim();
    await git(dir, 'branch', '-f', 'envctl-state', local);
    await mergeRemoteLedger(dir, 'envctl-state', remote);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('a')!.published!.map((p) => p.status)).to.deep.equal(['published', 'failed']);
  });
});
