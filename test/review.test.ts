/**
 * The review of a change (plan --base): pure reviewChange over checked
 * environments on both sides, its Markdown, and the CLI on a real
 * repository with a work-tree change against main.
 */
import { expect } from 'chai';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { LEDGER_FORMAT, type EnvironmentLedger, type Ledger } from '../src/ledger/model.js';
import { reviewMarkdown } from '../src/plan/markdown.js';
import { reviewChange, type ReviewInput } from '../src/plan/review.js';
import { renderEnvironment } from '../src/render/index.js';
import type { Revision } from '../src/revisions/number.js';
import { commit, git } from './fixtures/repo.js';
import { check, config, removeDir, tempDir, yaml, type Files } from './helpers.js';

const cfg = config({ registry: { address: 'registry.example/acme' } });
const spec = (run: string, extra: string[] = []) => yaml('owner: "@acme/data"', ...extra, 'instructions: |', `  RUN ${run}`);

function side(files: Files, label: string) {
  const run = check(files, { config: cfg });
  const texts = new Map(Object.entries(files).map(([p, t]) => [p.replace(/^environments\/|\.yaml$/g, '').replace(/\/environment$/, ''), String(t)]));
  return { label, environments: run.environments, texts, problems: run.all };
}

function rev(environment: string, number: number): Revision {
  return { environment, number, commit: `c${number}`, subject: '', author: 'A', email: 'a@example.com', time: number, entry: { oid: `o${number}`, form: 'file' } };
}

function built(environment: string, revision: number, contentKey: string, digest: string): [string, EnvironmentLedger] {
  return [environment, {
    format: LEDGER_FORMAT, environment, active: revision,
    builds: [{ id: `${revision}-x`, revision, commit: `c${revision}`, contentKey, status: 'succeeded', digest, startedAt: '2026-01-01T00:00:00Z', image: `registry.example/acme/envctl/${environment}:${revision}` }],
  }];
}

function review(target: Files, change: Files, revisions: Revision[], ledger: Ledger = new Map()) {
  const t = side(target, 'main');
  const input: ReviewInput = { config: cfg, target: { ...t, revisions }, change: side(change, 'this change'), ledger };
  return reviewChange(input);
}

describe('review: what merging a change would do', () => {
  const target = { 'environments/a.yaml': spec('echo a'), 'environments/b.yaml': spec('echo b', ['base: { environment: a }']), 'environments/c.yaml': spec('echo c') };
  const revisions = [rev('a', 1), rev('a', 2), rev('b', 1), rev('c', 1)];

  it('lists only changed environments, with the revision each becomes and both diffs', () => {
    const r = review(target, { ...target, 'environments/c.yaml': spec('echo c two') }, revisions);
    expect(r.environments.map((e) => e.environment)).to.deep.equal(['c']);
    const c = r.environments[0]!;
    expect(c).to.include({ change: 'changed', revision: 2, previousRevision: 1 });
    expect(c.specDiff).to.contain('-  RUN echo c\n').and.contain('+  RUN echo c two\n');
    expect(c.dockerfileDiff).to.contain('-RUN echo c\n').and.contain('+RUN echo c two\n');
    expect(c.build?.action).to.equal('build');
    expect(c.layers).to.deep.equal({ total: 2, limit: 127 });
  });

  it('names what stands on a changed environment\'s active revision as rebuilding, not what pins a revision', () => {
    const change = { ...target, 'environments/a.yaml': spec('echo a three'), 'environments/d.yaml': spec('echo d', ['base: { environment: a, revision: 2 }']) };
    const a = review({ ...target, 'environments/d.yaml': change['environments/d.yaml'] }, change, [...revisions, rev('d', 1)]).environments.find((e) => e.environment === 'a')!;
    expect(a.revision).to.equal(3);
    expect(a.rebuilds).to.deep.equal(['b']);
  });

  it('a change back to content built before reuses that image: no build', () => {
    const old = check({ ...target, 'environments/c.yaml': spec('echo c') }, { config: cfg }).environments;
    const key = renderEnvironment(old.find((e) => e.name === 'c')!, { config: cfg, all: new Map(old.map((e) => [e.name, e])) }).contentKey;
    const now = { ...target, 'environments/c.yaml': spec('echo c two') };
    const r = review(now, target, [...revisions, rev('c', 2)], new Map([built('c', 1, key, `sha256:${'1'.repeat(64)}`)]));
    expect(r.environments[0]!.build).to.deep.equal({ action: 'reuse', contentKey: key, reusedRevision: 1 });
    expect(reviewMarkdown(r)).to.contain("reuses revision 1's image");
  });

  it('numbers an added environment from 1, a re-created one on from its last revision, a renamed one on from its old name', () => {
    const r = review(target, {
      ...target,
      'environments/new.yaml': spec('echo new'),
      'environments/gone.yaml': spec('echo back'),
      'environments/c2.yaml': spec('echo c', ['renamedFrom: c']),
    }, [...revisions, rev('gone', 1), rev('gone', 2)]);
    const by = new Map(r.environments.map((e) => [e.environment, e]));
    expect(by.get('new')).to.include({ change: 'added', revision: 1 });
    expect(by.get('gone')).to.include({ change: 'added', revision: 3 });
    expect(by.get('c2')).to.include({ change: 'added', revision: 2 });
  });

  it('a removed environment has no revision and shows the whole spec removed', () => {
    const { 'environments/c.yaml': _, ...rest } = target;
    const c = review(target, rest, revisions).environments[0]!;
    expect(c).to.include({ environment: 'c', change: 'removed', revision: null, build: null });
    expect(c.specDiff).to.contain('-  RUN echo c');
  });

  it('gives each environment its own problems and counts the errors', () => {
    const r = review(target, { ...target, 'environments/c.yaml': yaml('owner: "@acme/data"', 'colour: blue') }, revisions);
    expect(r.errors).to.be.greaterThan(0);
    expect(r.environments[0]!.problems.every((p) => p.file === 'environments/c.yaml')).to.equal(true);
    expect(r.environments[0]!.problems.length).to.equal(r.errors);
    expect(r.environments[0]).to.include({ rendered: false, dockerfileDiff: '' });
    expect(reviewMarkdown(r)).to.contain('rendered once the errors above are fixed');
  });
});

describe('review as Markdown', () => {
  const target = { 'environments/a.yaml': spec('echo a') };
  const long = Array.from({ length: 40 }, (_, i) => `  RUN echo ${i}`);

  it('collapses long diffs and leaves short ones open', () => {
    const md = reviewMarkdown(review(target, { 'environments/a.yaml': yaml('owner: "@acme/data"', 'instructions: |', ...long) }, [rev('a', 1)]));
    expect(md).to.contain('| a | 1 → 2 | build |');
    expect(md).to.match(/<details>\n<summary>Spec diff \(\d+ lines\)<\/summary>/);
    const short = reviewMarkdown(review(target, { 'environments/a.yaml': spec('echo b') }, [rev('a', 1)]));
    expect(short).to.contain('**Spec diff**').and.not.contain('<details>');
  });

  it('keeps user text from breaking out: backticks in a spec get a longer fence, HTML in messages is escaped', () => {
    const md = reviewMarkdown(review(target, { 'environments/a.yaml': spec('echo "```" </details><script>x</script>') }, [rev('a', 1)]));
    const fence = /^(`{4,})diff$/m.exec(md);
    expect(fence).to.not.equal(null);
    const problem = { file: 'environments/a.yaml', line: 1, col: 1, severity: 'error' as const, rule: 'x', message: '<img src=x onerror=alert(1)> | pipe' };
    const r = review(target, target, [rev('a', 1)]);
    r.otherProblems.push(problem);
    const text = reviewMarkdown(r);
    expect(text).to.contain('&#60;img src=x onerror=alert\\(1\\)&#62; &#124; pipe');
    expect(text).to.not.match(/(^|[^\\])<img/m);
  });
});

describe('envctl plan --base', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await tempDir('envctl-review-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, { 'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'), 'environments/a.yaml': spec('echo a'), 'environments/b.yaml': spec('echo b') }, 'a and b');
  });
  after(() => removeDir(dir));

  it('reviews the work tree against the target: text, JSON and a Markdown file', async () => {
    await writeFile(join(dir, 'environments', 'a.yaml'), spec('echo a two'));
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: () => undefined, cwd: dir, env: {} };
    expect(await main(['plan', '--base', 'main', '--offline', '--markdown', 'plan.md'], io)).to.equal(0);
    expect(out.join('\n')).to.equal('a → revision 2: builds, 2/127 layers');
    const md = await readFile(join(dir, 'plan.md'), 'utf8');
    expect(md).to.contain('### envctl plan: 1 environment changes').and.contain('+RUN echo a two');
    out.length = 0;
    expect(await main(['plan', '--base', 'main', '--offline', '--json'], io)).to.equal(0);
    expect(JSON.parse(out.join('\n')).environments.map((e: { environment: string }) => e.environment)).to.deep.equal(['a']);
  });

  it('appends to the job summary under GitHub Actions, and names a missing target as a usage error', async () => {
    await mkdir(join(dir, 'ci'), { recursive: true });
    const summary = join(dir, 'ci', 'summary.md');
    await writeFile(summary, '# before\n');
    const io = { out: () => undefined, err: () => undefined, cwd: dir, env: { GITHUB_STEP_SUMMARY: summary } };
    expect(await main(['plan', '--base', 'main', '--offline'], io)).to.equal(0);
    expect(await readFile(summary, 'utf8')).to.match(/^# before\n<!-- envctl-plan-meta head=[0-9a-f]{40} -->\n### envctl plan/); // the hidden meta line names the head
    const err: string[] = [];
    expect(await main(['plan', '--base', 'nope', '--offline'], { ...io, err: (t: string) => err.push(t) })).to.equal(2);
    expect(err.join('\n')).to.contain('no branch or commit "nope"');
  });
});
