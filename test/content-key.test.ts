/**
 * One content key everywhere: `revisions` (KEY and --json), `render --key`,
 * `plan` and the ledger name a revision by the same key, computed with the
 * base by digest where the ledger knows it; a key against an unbuilt base
 * environment is marked unresolved. Real git repositories; ledgers written
 * with recordBuilds (no builder needed).
 */
import { expect } from 'chai';
import type { Io } from '../src/cli/command.js';
import { main } from '../src/cli/main.js';
import { readLedger, recordBuilds } from '../src/git/ledger.js';
import { emptyLedger, type BuildRecord, type Ledger } from '../src/ledger/model.js';
import type { PlannedBuild } from '../src/plan/index.js';
import { shortKey } from '../src/render/index.js';
import { environmentAt, revisionKeys, type RevisionRow } from '../src/repository/history.js';
import { openRepository } from '../src/repository/index.js';
import { revisionsOf } from '../src/store/revision-index.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';

const REGISTRY = '127.0.0.1:1';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
/** The base image pinned by digest: no registry is asked, so plan keys it the same with or without one. */
const IMAGE = `${REGISTRY}/busybox:1@${digest('a')}`;

async function envctl(dir: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  return envctlWith({ ENVCTL_OFFLINE: '1' }, dir, ...argv);
}

async function envctlWith(env: NodeJS.ProcessEnv, dir: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir, env: { GITHUB_ACTIONS: 'false', ...env } };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function json<T>(dir: string, ...argv: string[]): Promise<T> {
  const r = await envctl(dir, ...argv);
  expect(r.code, r.err).to.equal(0);
  return JSON.parse(r.out) as T;
}

const planOf = async (dir: string) => (await json<{ builds: PlannedBuild[] }>(dir, 'plan', '--json')).builds;

/** A succeeded build record of the planned build, as sync writes it. */
function built(step: PlannedBuild, o: { digest: string; baseDigest: string; startedAt: string }): BuildRecord {
  return {
    id: `${step.revision}-${o.startedAt}`, revision: step.revision, commit: step.commit, contentKey: step.contentKey!, status: 'succeeded',
    image: `${REGISTRY}/envctl/${step.environment}:${step.revision}`, digest: o.digest, baseDigest: o.baseDigest, startedAt: o.startedAt, endedAt: o.startedAt,
  };
}

describe('content key: one key per revision in every output', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await tempDir('envctl-key-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: "${REGISTRY}" }`), '.gitignore': '.envctl/\n',
      'environments/base.yaml': yaml('owner: a', `base: { image: "${IMAGE}" }`, 'instructions: |', '  RUN echo base'),
      'environments/child.yaml': yaml('owner: a', 'base: { environment: base }', 'instructions: |', '  RUN echo child'),
    }, 'base and child');
  });
  after(() => removeDir(dir));

  it('before its base is built, a child\'s key is marked unresolved in revisions and render --key', async () => {
    const [row] = await json<RevisionRow[]>(dir, 'revisions', 'child', '--json');
    expect(row!.keyResolved).to.equal(false);
    const text = await envctl(dir, 'revisions', 'child');
    expect(text.out.split('\n')[1]).to.match(new RegExp(`\\s~${shortKey(row!.contentKey!)}\\s`));
    expect(text.err).to.match(/^~ key against a base environment not built yet/);
    const key = await envctl(dir, 'render', 'child', '--key');
    expect(key.out).to.equal(row!.contentKey);
    expect(key.err).to.contain('unresolved base').and.contain(`child (FROM ${REGISTRY}/envctl/base:active)`);
    const [baseRow] = await json<RevisionRow[]>(dir, 'revisions', 'base', '--json');
    expect(baseRow!.keyResolved).to.equal(true);
  });

  it('once built, revisions KEY, render --key, plan and the ledger agree; the child\'s key names its base by digest', async () => {
    const [baseStep] = await planOf(dir);
    expect(baseStep!.environment).to.equal('base');
    await recordBuilds(dir, 'envctl-state', new Map([['base', [built(baseStep!, { digest: digest('b'), baseDigest: digest('a'), startedAt: '2026-01-01T00:00:01Z' })]]]), { summary: 't' });
    // The child is planned against base's digest, then built.
    const [childStep] = await planOf(dir);
    expect(childStep!.environment).to.equal('child');
    await recordBuilds(dir, 'envctl-state', new Map([['child', [built(childStep!, { digest: digest('c'), baseDigest: digest('b'), startedAt: '2026-01-01T00:00:02Z' })]]]), { summary: 't' });
    const { ledger } = await readLedger(dir, 'envctl-state');

    for (const name of ['base', 'child']) {
      const recorded = ledger.get(name)!.builds[0]!.contentKey;
      const [row] = await json<RevisionRow[]>(dir, 'revisions', name, '--json');
      expect([row!.contentKey, row!.keyResolved], `revisions ${name} --json`).to.deep.equal([recorded, true]);
      const text = await envctl(dir, 'revisions', name);
      expect(text.out.split('\n')[1], `revisions ${name}`).to.match(new RegExp(`\\s${shortKey(recorded)}\\s`));
      expect(text.err).to.equal('');
      const key = await envctl(dir, 'render', name, '--key');
      expect([key.out, key.err], `render ${name} --key`).to.deep.equal([recorded, '']);
    }
    expect(await planOf(dir)).to.deep.equal([]);
    const show = await envctl(dir, 'show', 'child@1', '--render');
    expect(show.out).to.match(new RegExp(`^FROM ${REGISTRY}/envctl/base@${digest('b')}$`, 'm'));
  });

  it('after the base is rebuilt, the child\'s revision keeps its recorded key; render --key gives the rebuild\'s, as plan does', async () => {
    await commit(dir, { 'environments/base.yaml': yaml('owner: a', `base: { image: "${IMAGE}" }`, 'instructions: |', '  RUN echo base two') }, 'base: two');
    const [base2] = await planOf(dir);
    await recordBuilds(dir, 'envctl-state', new Map([['base', [built(base2!, { digest: digest('d'), baseDigest: digest('a'), startedAt: '2026-01-01T00:00:03Z' })]]]), { summary: 't' });
    const plan = await planOf(dir);
    expect(plan.map((b) => [b.environment, b.reason])).to.deep.equal([['child', 'base changed']]);
    const { ledger } = await readLedger(dir, 'envctl-state');
    const [row] = await json<RevisionRow[]>(dir, 'revisions', 'child', '--json');
    expect(row!.contentKey).to.equal(ledger.get('child')!.builds[0]!.contentKey);
    const key = await envctl(dir, 'render', 'child', '--key');
    expect(key.out).to.equal(plan[0]!.contentKey).and.not.equal(row!.contentKey);
  });
});

describe('content key: a base image by tag', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await tempDir('envctl-key-tag-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: "${REGISTRY}" }`), '.gitignore': '.envctl/\n',
      'environments/solo.yaml': yaml('owner: a', `base: { image: "${REGISTRY}/busybox:1" }`, 'instructions: |', '  RUN echo solo'),
    }, 'solo');
  });
  after(() => removeDir(dir));

  it('is not marked unresolved (plan --offline keys it so), and a build\'s recorded base digest names it after', async () => {
    const repo = await openRepository(dir, {});
    const list = await revisionsOf(dir, repo.config, 'solo');
    const [byTag] = await revisionKeys(dir, repo.config, list);
    expect(byTag!.resolved).to.equal(true);
    const withRecord = (contentKey: string): Ledger => new Map([['solo', { ...emptyLedger('solo'), active: 1, builds: [{
      id: 'x', revision: 1, commit: list[0]!.commit, contentKey, status: 'succeeded', digest: digest('c'), baseDigest: digest('f'), startedAt: '2026-01-01T00:00:00Z',
    }] }]]);
    // Built with FROM naming the digest: the key is the one against the digest the build recorded.
    const at = await environmentAt(dir, repo.config, list[0]!, { ledger: withRecord('sha256:unknown') });
    expect(at.rendered!.from).to.equal(`${REGISTRY}/busybox:1@${digest('f')}`);
    const [byDigest] = await revisionKeys(dir, repo.config, list, { ledger: withRecord(at.rendered!.contentKey) });
    expect(byDigest!.contentKey).to.equal(at.rendered!.contentKey).and.not.equal(byTag!.contentKey);
    // Built while the registry gave no digest (the key hashed the tag; the digest was looked up after): that key stands.
    const [stillTag] = await revisionKeys(dir, repo.config, list, { ledger: withRecord(byTag!.contentKey) });
    expect(stillTag).to.deep.equal(byTag);
    const shown = await environmentAt(dir, repo.config, list[0]!, { ledger: withRecord(byTag!.contentKey) });
    expect(shown.rendered!.from).to.equal(`${REGISTRY}/busybox:1`);
  });

  it('render --key: keyed by the tag offline, as plan --offline; marked unresolved when the registry cannot be asked', async () => {
    const offline = await envctl(dir, 'render', 'solo', '--key');
    expect(offline.err).to.equal('');
    const plan = (await json<{ builds: PlannedBuild[] }>(dir, 'plan', '--json')).builds;
    expect(offline.out).to.equal(plan[0]!.contentKey);
    const asked = await envctlWith({}, dir, 'render', 'solo', '--key');
    expect(asked.code, asked.err).to.equal(0);
    expect(asked.err).to.contain('unresolved base').and.contain(`solo (FROM ${REGISTRY}/busybox:1)`);
    const [rendered] = JSON.parse((await envctlWith({}, dir, 'render', 'solo', '--json')).out) as { keyResolved: boolean }[];
    expect(rendered!.keyResolved).to.equal(false);
  });
});
