/** plan: which builds the ledger lacks, in dependency order, with reuse by content key. */
import { expect } from 'chai';
import type { EnvironmentEntry } from '../src/git/history.js';
import { emptyLedger, mergeLedgers, parseLedgerFile, type BuildRecord, type Ledger } from '../src/ledger/model.js';
import { main } from '../src/cli/main.js';
import { recordBuilds } from '../src/git/ledger.js';
import { planBuilds, type PlannedBuild } from '../src/plan/index.js';
import { renderEnvironment, shortKey } from '../src/render/index.js';
import type { Revision } from '../src/revisions/number.js';
import { commit, git } from './fixtures/repo.js';
import { check, config, removeDir, tempDir, yaml } from './helpers.js';

const entry: EnvironmentEntry = { oid: 'e'.repeat(40), form: 'file' };
const rev = (environment: string, number: number): Revision => ({ environment, number, commit: `${number}`.padStart(40, '0'), subject: 's', author: 'a', email: 'e', time: number, entry });
const DIGEST = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
const ok = (revision: number, o: Partial<BuildRecord> = {}): BuildRecord => ({
  id: `${revision}-${o.status ?? 'ok'}-${o.startedAt ?? ''}`, revision, commit: 'c', contentKey: 'sha256:other', status: 'succeeded', digest: DIGEST(revision), startedAt: `2026-01-01T00:00:${String(revision).padStart(2, '0')}Z`, ...o,
});
function ledgerOf(entries: Record<string, BuildRecord[]>): Ledger {
  return new Map(Object.entries(entries).map(([name, builds]) => [name, mergeLedgers(emptyLedger(name), { ...emptyLedger(name), builds })]));
}

const files = {
  'environments/base.yaml': yaml('owner: a', 'instructions: |', '  RUN echo base'),
  'environments/child.yaml': yaml('owner: a', 'base: { environment: base }', 'instructions: |', '  RUN echo child'),
  'environments/solo.yaml': yaml('owner: a', 'instructions: |', '  RUN echo solo'),
};
const cfg = config();
const envs = check(files).environments;
const latest = new Map([['base', rev('base', 2)], ['child', rev('child', 1)], ['solo', rev('solo', 3)]]);
const keyOf = (name: string, baseRef?: string) => {
  const all = new Map(envs.map((e) => [e.name, e]));
  return renderEnvironment(all.get(name)!, { config: cfg, all, ...(baseRef ? { resolveBase: () => baseRef } : {}) }).contentKey;
};

describe('plan', () => {
  it('an empty ledger builds everything, bases first, grouped with what is built on them', () => {
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger: new Map() });
    expect(p.builds.map((b) => [b.environment, b.revision, b.action, b.reason, b.after])).to.deep.equal([
      ['base', 2, 'build', 'new revision', []],
      ['child', 1, 'build', 'new revision', ['base']],
      ['solo', 3, 'build', 'new revision', []],
    ]);
    expect(p.builds[1]!.contentKey).to.equal(null);
    expect(p.groups).to.deep.equal([['base', 'child'], ['solo']]);
  });

  it('a pin on the base revision being planned (an imported history pins so) waits for it and shares its group; a pin on an older one does not', () => {
    const pinned = check({ ...files, 'environments/child.yaml': yaml('owner: a', 'base: { environment: base, revision: 2 }', 'instructions: |', '  RUN echo child') }).environments;
    const p = planBuilds({ config: cfg, environments: pinned, latest, ledger: new Map() });
    expect(p.builds.map((b) => [b.environment, b.after])).to.deep.equal([['base', []], ['child', ['base']], ['solo', []]]);
    expect(p.groups).to.deep.equal([['base', 'child'], ['solo']]);
    const older = check({ ...files, 'environments/child.yaml': yaml('owner: a', 'base: { environment: base, revision: 1 }', 'instructions: |', '  RUN echo child') }).environments;
    const q = planBuilds({ config: cfg, environments: older, latest, ledger: ledgerOf({ base: [ok(1)] }) });
    expect(q.builds.find((b) => b.environment === 'child')!.after).to.deep.equal([]);
  });

  it('nothing when the ledger has every revision built on the current base digests', () => {
    const ledger = ledgerOf({ base: [ok(2)], child: [ok(1, { baseDigest: DIGEST(2) })], solo: [ok(3)] });
    expect(planBuilds({ config: cfg, environments: envs, latest, ledger }).builds).to.deep.equal([]);
  });

  it('a revision whose content key was built before is reused, not built (git revert)', () => {
    const ledger = ledgerOf({ base: [ok(2)], child: [ok(1, { baseDigest: DIGEST(2) })], solo: [ok(1, { contentKey: keyOf('solo') })] });
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger });
    expect(p.builds.map((b) => [b.environment, b.action, b.reuse])).to.deep.equal([['solo', 'reuse', { revision: 1, digest: DIGEST(1) }]]);
  });

  it('an environment on a base whose active image changed is rebuilt after it', () => {
    const ledger = ledgerOf({ base: [ok(1), ok(2)], child: [ok(1, { baseDigest: DIGEST(1) })], solo: [ok(3)] });
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger });
    expect(p.builds.map((b) => [b.environment, b.reason])).to.deep.equal([['child', 'base changed']]);
    expect(p.builds[0]!.contentKey).to.equal(keyOf('child', `127.0.0.1:5115/envctl/base@${DIGEST(2)}`));
    const rebuilding = planBuilds({ config: cfg, environments: envs, latest: new Map([...latest, ['base', rev('base', 3)]]), ledger });
    expect(rebuilding.builds.map((b) => [b.environment, b.reason, b.after])).to.deep.equal([['base', 'new revision', []], ['child', 'base changed', ['base']]]);
  });

  it('retries registry failures and interrupted builds, not a failing RUN', () => {
    const at = (s: number) => `2026-01-02T00:00:${String(s).padStart(2, '0')}Z`;
    const ledger = ledgerOf({
      base: [ok(2, { status: 'failed', reason: 'registry 127.0.0.1:5115 refused the push', failure: { kind: 'registry', host: 'registry 127.0.0.1:5115' }, startedAt: at(1) })],
      child: [ok(1, { status: 'building', startedAt: at(2) })],
      solo: [ok(3, { status: 'failed', reason: 'RUN exited with 1', failure: { kind: 'build', code: 'build-failed' }, startedAt: at(3) })],
    });
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger });
    expect(p.builds.map((b) => [b.environment, b.reason])).to.deep.equal([['base', 'retry'], ['child', 'interrupted']]);
  });

  it('retries an unexpected error (a network failure outside the registry calls)', () => {
    const ledger = ledgerOf({ base: [ok(2)], child: [ok(1)], solo: [ok(3, { status: 'failed', reason: 'error: fetch failed', failure: { kind: 'unexpected' } })] });
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger });
    expect(p.builds.map((b) => [b.environment, b.reason])).to.deep.equal([['solo', 'retry']]);
  });

  it('decides on failure.kind, not the reason\'s words', () => {
    // A reason that reads like registry trouble, recorded as a failing build: not retried; and the other way round.
    const ledger = ledgerOf({
      base: [ok(2, { status: 'failed', reason: 'registry mirror.example refused: RUN curl failed', failure: { kind: 'build' } })],
      child: [ok(1, { baseDigest: DIGEST(2) })],
      solo: [ok(3, { status: 'failed', reason: 'push failed: connection reset', failure: { kind: 'skipped' } })],
    });
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger });
    expect(p.builds.map((b) => [b.environment, b.reason])).to.deep.equal([['solo', 'retry']]);
    // A cancelled attempt is not retried by itself: the sync that stopped it builds it.
    const cancelled = ledgerOf({ base: [ok(2)], child: [ok(1, { baseDigest: DIGEST(2) })], solo: [ok(3, { status: 'cancelled', reason: 'taken over', failure: { kind: 'cancelled' } })] });
    expect(planBuilds({ config: cfg, environments: envs, latest, ledger: cancelled }).builds).to.deep.equal([]);
  });

  it('plans format-1 records by the failure derived from their reason when read', () => {
    const v1 = (builds: BuildRecord[]) => `${JSON.stringify({ format: 'envctl-ledger/1', environment: 'x', active: null, builds })}\n`;
    const read = (name: string, builds: BuildRecord[]) => [name, { ...parseLedgerFile(v1(builds), `ledger/${name}.json`), environment: name }] as const;
    const ledger: Ledger = new Map([
      read('base', [ok(2, { status: 'failed', reason: 'registry 127.0.0.1:5115: push failed: connection refused' })]),
      read('child', [ok(1, { status: 'failed', reason: 'skipped: its base base did not build' })]),
      read('solo', [ok(3, { status: 'failed', reason: 'build failed: RUN exited with 1' })]),
    ]);
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger });
    expect(p.builds.map((b) => [b.environment, b.reason])).to.deep.equal([['base', 'retry'], ['child', 'retry']]);
  });

  it('an image whose registry could not be asked leaves the key unknown and reuses nothing', () => {
    const image = cfg.defaultBase.image;
    // solo@1 was built with the same content as solo@3 as keyed by the tag: with the image's digest unknown, that proves nothing.
    const ledger = ledgerOf({ base: [ok(2)], child: [ok(1, { baseDigest: DIGEST(2) })], solo: [ok(1, { contentKey: keyOf('solo') })] });
    const known = planBuilds({ config: cfg, environments: envs, latest, ledger });
    expect(known.builds.map((b) => [b.environment, b.action])).to.deep.equal([['solo', 'reuse']]);
    const unknown = planBuilds({ config: cfg, environments: envs, latest, ledger, unknownImages: new Set([image]) });
    expect(unknown.builds.map((b) => [b.environment, b.action, b.contentKey])).to.deep.equal([['solo', 'build', null]]);
  });
});

describe('plan: reuse along a chain', () => {
  it('an environment on a base that is only re-tagged (same digest) needs nothing', () => {
    const baseKey = keyOf('base');
    const ledger = ledgerOf({
      base: [ok(1, { contentKey: baseKey })],
      child: [ok(1, { baseDigest: DIGEST(1) })],
      solo: [ok(3)],
    });
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger });
    expect(p.builds.map((b) => [b.environment, b.action, b.reuse?.digest])).to.deep.equal([['base', 'reuse', DIGEST(1)]]);
  });
});

describe('plan: the command\'s text', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await tempDir('envctl-plan-text-');
    await git(dir, 'init', '-q', '-b', 'main');
    const spec = (run: string, base = 'base: { image: "127.0.0.1:1/busybox:1" }') => yaml('owner: a', base, 'instructions: |', `  RUN ${run}`);
    await commit(dir, {
      'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'), '.gitignore': '.envctl/\n',
      'environments/base.yaml': spec('echo base'), 'environments/child.yaml': spec('echo child', 'base: { environment: base }'), 'environments/solo.yaml': spec('echo solo'),
    }, 'three environments');
  });
  after(() => removeDir(dir));

  async function envctl(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir, env: { ENVCTL_OFFLINE: '1', GITHUB_ACTIONS: 'false' } });
    return { code, out, err };
  }

  it('prints one line per build, then the summary on a line of its own, all on stdout', async () => {
    const solo1 = (JSON.parse((await envctl('plan', '--json')).out.join('\n')) as { builds: PlannedBuild[] }).builds.find((b) => b.environment === 'solo')!;
    // solo@1 was built; solo@2 changes it and solo@3 reverts it: the plan reuses revision 1's image.
    await recordBuilds(dir, 'envctl-state', new Map([['solo', [{ ...ok(1, { contentKey: solo1.contentKey! }), commit: solo1.commit }]]]), { summary: 'test' });
    await commit(dir, { 'environments/solo.yaml': yaml('owner: a', 'base: { image: "127.0.0.1:1/busybox:1" }', 'instructions: |', '  RUN echo two') }, 'solo: two');
    await git(dir, 'revert', '--no-edit', 'HEAD');
    const plan = JSON.parse((await envctl('plan', '--json')).out.join('\n')) as { builds: PlannedBuild[] };
    const base = plan.builds.find((b) => b.environment === 'base')!;
    const r = await envctl('plan');
    expect(r.code, r.err.join('\n')).to.equal(0);
    expect(r.err).to.deep.equal([]);
    expect(r.out.join('\n')).to.equal([
      `base@1  build  [new revision]  key ${shortKey(base.contentKey!)}`,
      'child@1  build  [new revision]  key after its base  after base',
      `solo@3  reuse revision 1's image (same content key)  [new revision]  key ${shortKey(solo1.contentKey!)}`,
      '',
      '2 to build, 1 to reuse, in 2 groups',
    ].join('\n'));
  });
});
