/**
 * A stage built on another environment (`base: { environment }`), to copy
 * from its image: named as a base environment is (by digest once the ledger
 * has it), in the content key, ordered in plan, located when unknown, and a
 * loop through it refused.
 */
import { expect } from 'chai';
import { emptyLedger, mergeLedgers, type BuildRecord, type Ledger } from '../src/ledger/model.js';
import type { EnvironmentEntry } from '../src/git/history.js';
import { planBuilds } from '../src/plan/index.js';
import { renderResolved } from '../src/repository/keys.js';
import type { Revision } from '../src/revisions/number.js';
import { byRule, check, config, yaml, type Files } from './helpers.js';

const cfg = config();
const DIGEST = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
const entry: EnvironmentEntry = { oid: 'e'.repeat(40), form: 'file' };
const rev = (environment: string, number: number): Revision => ({ environment, number, commit: `${number}`.padStart(40, '0'), subject: 's', author: 'a', email: 'e', time: number, entry });
const ok = (revision: number, o: Partial<BuildRecord> = {}): BuildRecord => ({
  id: `${revision}-${o.startedAt ?? ''}`, revision, commit: 'c', contentKey: 'sha256:other', status: 'succeeded', digest: DIGEST(revision), startedAt: `2026-01-01T00:00:${String(revision).padStart(2, '0')}Z`, ...o,
});
const ledgerOf = (entries: Record<string, BuildRecord[]>): Ledger =>
  new Map(Object.entries(entries).map(([name, builds]) => [name, mergeLedgers(emptyLedger(name), { ...emptyLedger(name), builds })]));

/** `py` builds a conda tree; `app` copies it through a stage on py (no instructions of its own). */
const files: Files = {
  'environments/py.yaml': yaml('owner: a', 'instructions: |', '  RUN mkdir -p /opt/conda'),
  'environments/app.yaml': yaml('owner: a',
    'stages:',
    '  - name: py',
    '    base: { environment: py }',
    'instructions: |',
    '  COPY --from=py /opt/conda /opt/conda'),
};
const envs = check(files).environments;
const image = (name: string) => `${cfg.registry.address}/${cfg.registry.prefix}${name}`;
const renderApp = (ledger: Ledger) => renderResolved(envs, cfg, { ledger }, new Set(['app']))[0]!;

describe('stages on another environment: check', () => {
  it('a stage on an environment needs no instructions, and COPY --from names it as any stage', () => {
    const r = check(files);
    expect(r.all.filter((p) => p.severity === 'error'), JSON.stringify(r.all)).to.deep.equal([]);
    expect(r.environments.map((e) => e.name).sort()).to.deep.equal(['app', 'py']);
  });

  it('an unknown environment is an error at the stage base, with a suggestion', () => {
    const r = check({ ...files, 'environments/app.yaml': yaml('owner: a', 'stages:', '  - name: p', '    base: { environment: pyt }', 'instructions: |', '  COPY --from=p /x /x'),
      'environments/python.yaml': yaml('owner: a') });
    const found = byRule(r, 'stage-environment-unknown');
    expect(found.map((p) => [p.file, p.line, p.col, p.severity])).to.deep.equal([['environments/app.yaml', 4, 26, 'error']]);
    expect(found[0]!.message).to.contain('environment "pyt", which does not exist').and.contain('"python"');
  });

  it('copying from an environment built on you is a cycle, located at the first name\'s stage', () => {
    const r = check({
      'environments/a.yaml': yaml('owner: a', 'stages:', '  - name: bb', '    base: { environment: b }', 'instructions: |', '  COPY --from=bb /x /x'),
      'environments/b.yaml': yaml('owner: a', 'base: { environment: a }'),
    });
    const found = byRule(r, 'base-cycle');
    expect(found.map((p) => [p.file, p.line, p.col])).to.deep.equal([['environments/a.yaml', 4, 26]]);
    expect(found[0]!.message).to.contain('a → b → a').and.contain('a copies from b');
  });

  it('a loop of bases alone keeps its message and place', () => {
    const r = check({ 'environments/a.yaml': yaml('owner: a', 'base: { environment: b }'), 'environments/b.yaml': yaml('owner: a', 'base: { environment: a }') });
    const found = byRule(r, 'base-cycle');
    expect(found.map((p) => [p.file, p.line, p.message])).to.deep.equal([['environments/a.yaml', 2, 'bases form a cycle of 2 environments: a → b → a']]);
  });
});

describe('stages on another environment: render and key', () => {
  it('names the environment by tag before it is built (key unresolved), by digest once the ledger has it', () => {
    const before = renderApp(new Map());
    expect(before.dockerfile).to.contain(`FROM ${image('py')}:active AS py`);
    expect(before.keyResolved).to.equal(false);
    const after = renderApp(ledgerOf({ py: [ok(1)] }));
    expect(after.dockerfile).to.contain(`FROM ${image('py')}@${DIGEST(1)} AS py`);
    expect(after.keyResolved).to.equal(true);
  });

  it('the key changes when that environment\'s active build changes', () => {
    const one = renderApp(ledgerOf({ py: [ok(1)] })).contentKey;
    const two = renderApp(ledgerOf({ py: [ok(1), ok(2)] })).contentKey;
    expect(two).to.not.equal(one);
    expect(renderApp(ledgerOf({ py: [ok(1)] })).contentKey).to.equal(one);
  });

  it('an environment without stages keeps its Dockerfile and key whatever another environment copies', () => {
    const py = (ledger: Ledger) => renderResolved(envs, cfg, { ledger }, new Set(['py']))[0]!;
    expect(py(new Map()).contentKey).to.equal(py(ledgerOf({ app: [ok(4)] })).contentKey);
  });
});

describe('stages on another environment: plan', () => {
  const latest = new Map([['py', rev('py', 2)], ['app', rev('app', 1)]]);

  it('orders the source first, in one group, the copier waiting for it with its key unknown', () => {
    const p = planBuilds({ config: cfg, environments: envs, latest, ledger: new Map() });
    expect(p.builds.map((b) => [b.environment, b.after, b.contentKey === null])).to.deep.equal([['py', [], false], ['app', ['py'], true]]);
    expect(p.groups).to.deep.equal([['py', 'app']]);
  });

  it('rebuilds the copier when the source is rebuilt, and not when nothing changed', () => {
    const keyed = renderApp(ledgerOf({ py: [ok(2)] })).contentKey;
    const settled = ledgerOf({ py: [ok(2)], app: [ok(1, { contentKey: keyed })] });
    expect(planBuilds({ config: cfg, environments: envs, latest, ledger: settled }).builds).to.deep.equal([]);
    // py's revision 3 is planned: app waits for it.
    const pending = planBuilds({ config: cfg, environments: envs, latest: new Map([...latest, ['py', rev('py', 3)]]), ledger: settled });
    expect(pending.builds.map((b) => [b.environment, b.reason, b.after])).to.deep.equal([['py', 'new revision', []], ['app', 'base changed', ['py']]]);
    // py was rebuilt elsewhere (a new active image): app's key moved, so it is rebuilt on it.
    const moved = ledgerOf({ py: [ok(2), ok(2, { digest: DIGEST(9), startedAt: '2026-01-02T00:00:00Z' })], app: [ok(1, { contentKey: keyed })] });
    const rebuilt = planBuilds({ config: cfg, environments: envs, latest, ledger: moved });
    expect(rebuilt.builds.map((b) => [b.environment, b.reason, b.action])).to.deep.equal([['app', 'base changed', 'build']]);
    expect(rebuilt.builds[0]!.contentKey).to.equal(renderApp(moved).contentKey).and.not.equal(keyed);
  });
});
