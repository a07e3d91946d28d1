/** plan: which builds the ledger lacks, in dependency order, with reuse by content key. */
import { expect } from 'chai';
import type { EnvironmentEntry } from '../src/git/history.js';
import { emptyLedger, mergeLedgers, type BuildRecord, type Ledger } from '../src/ledger/model.js';
import { planBuilds } from '../src/plan/index.js';
import { renderEnvironment } from '../src/render/index.js';
import type { Revision } from '../src/revisions/number.js';
import { check, config, yaml } from './helpers.js';

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
      base: [ok(2, { status: 'failed', reason: 'registry 127.0.0.1:5115 refused the push', startedAt: at(1) })],
      child: [ok(1, { status: 'building', startedAt: at(2) })],
      solo: [ok(3, { status: 'failed', reason: 'RUN exited with 1', startedAt: at(3) })],
    });
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger });
    expect(p.builds.map((b) => [b.environment, b.reason])).to.deep.equal([['base', 'retry'], ['child', 'interrupted']]);
  });

  it('retries an unexpected error (a network failure outside the registry calls)', () => {
    const ledger = ledgerOf({ base: [ok(2)], child: [ok(1)], solo: [ok(3, { status: 'failed', reason: 'error: fetch failed' })] });
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger });
    expect(p.builds.map((b) => [b.environment, b.reason])).to.deep.equal([['solo', 'retry']]);
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
