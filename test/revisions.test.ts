/**
 * Revisions from git history, against real repositories made with native
 * git: numbering (merges, reverts, folders, deletions, renames), the
 * incremental index under .envctl/cache, and the revisions, show, diff and
 * rollback commands as a child process.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { revisionKeys } from '../src/repository/history.js';
import { revisionsOf, updateRevisions } from '../src/store/revision-index.js';
import { removeDir, tempDir, yaml } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const BIN = join(ROOT, 'bin', 'envctl.js');
const CONFIG_TEXT = yaml('registry: { address: "127.0.0.1:1" }', 'imageLayers: { "debian:bookworm": 1 }');
const CONFIG = loadConfig(new TextEncoder().encode(CONFIG_TEXT)).config;

/** Each git command gets the next minute as author and committer date. */
let clock = 1_700_000_000;

async function git(cwd: string, args: string[], author?: string): Promise<string> {
  const when = `@${(clock += 60)} +0000`;
  const env: Record<string, string> = { GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
  if (author) Object.assign(env, { GIT_AUTHOR_NAME: author, GIT_AUTHOR_EMAIL: `${author.toLowerCase()}@example.com` });
  return String((await execa('git', args, { cwd, env })).stdout).trim();
}

/** Write (string) or delete (null) files, stage everything and commit; returns the new commit id. */
async function commit(dir: string, files: Record<string, string | null>, message: string, author?: string): Promise<string> {
  for (const [path, text] of Object.entries(files)) {
    if (text === null) await rm(join(dir, path), { recursive: true, force: true });
    else {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
  }
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', message], author);
  return git(dir, ['rev-parse', 'HEAD']);
}

interface Result {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

async function envctl(args: string[], cwd = ROOT): Promise<Result> {
  const r = await execa(process.execPath, [BIN, ...args], {
    reject: false, cwd, timeout: 15_000,
    env: { ENVCTL_OFFLINE: '1', GITHUB_ACTIONS: 'false', ENVCTL_DEBUG: '' },
  });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function noStackTrace(r: Result): void {
  expect(`${r.stdout}\n${r.stderr}`).to.not.match(/^ {4}at /m);
}

interface Row {
  number: number;
  environment: string;
  subject: string;
  contentKey: string | null;
  sameKeyAs: number | null;
  recreated?: true;
}

async function jsonRevisions(dir: string, name: string): Promise<Row[]> {
  const r = await envctl(['revisions', name, '--json', '-C', dir]);
  expect(r.exitCode, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as Row[];
}

/** A valid environment; `run` and `foo` are build inputs, `description` is not. */
function spec(o: { run?: string; foo?: string; description?: string; head?: string[]; copy?: string } = {}): string {
  return yaml(
    ...(o.head ?? []),
    'title: Test',
    `description: ${o.description ?? 'An environment'}`,
    'owner: "@acme/team"',
    'base: { image: "debian:bookworm" }',
    'instructions: |',
    ...(o.copy ? [`  COPY ${o.copy} /opt/${o.copy}`] : []),
    `  RUN ${o.run ?? 'echo one'}`,
    'variables:',
    `  FOO: "${o.foo ?? '1'}"`,
  );
}

const A = 'environments/a.yaml';

describe('revisions: numbering from git history', function () {
  this.timeout(120_000);
  const dirs: string[] = [];

  async function newRepo(): Promise<string> {
    const dir = await tempDir('envctl-rev-');
    dirs.push(dir);
    await git(dir, ['init', '-q', '-b', 'main']);
    await git(dir, ['config', 'user.name', 'Alice']);
    await git(dir, ['config', 'user.email', 'alice@example.com']);
    await commit(dir, { 'envctl.yaml': CONFIG_TEXT, '.gitignore': '.envctl/\n', 'README.md': '# envs\n' }, 'Initial commit');
    return dir;
  }

  /** a with three revisions: echo one, echo two, echo three. */
  async function threeRevisions(): Promise<{ dir: string; commits: string[] }> {
    const dir = await newRepo();
    const commits = [
      await commit(dir, { [A]: spec() }, 'Add a', 'Alice'),
      await commit(dir, { [A]: spec({ run: 'echo two' }) }, 'a: echo two', 'Bob'),
      await commit(dir, { [A]: spec({ run: 'echo three' }) }, 'a: echo three', 'Carol'),
    ];
    return { dir, commits };
  }

  async function numbers(dir: string, name: string): Promise<[number, string, string][]> {
    return (await revisionsOf(dir, CONFIG, name)).map((r) => [r.number, r.environment, r.subject]);
  }

  after(async () => {
    for (const d of dirs) await removeDir(d);
  });

  it('numbers commits that change an environment 1, 2, 3 with subjects and authors; README-only commits are not revisions', async () => {
    const dir = await newRepo();
    const c1 = await commit(dir, { [A]: spec() }, 'Add a', 'Alice');
    await commit(dir, { 'README.md': '# changed\n' }, 'Docs only', 'Bob');
    const c2 = await commit(dir, { [A]: spec({ run: 'echo two' }) }, 'a: echo two', 'Bob');
    await commit(dir, { 'README.md': '# changed again\n' }, 'More docs');
    const c3 = await commit(dir, { [A]: spec({ run: 'echo three' }) }, 'a: echo three', 'Carol');
    const list = await revisionsOf(dir, CONFIG, 'a');
    expect(list.map((r) => [r.number, r.commit, r.subject, r.author, r.email])).to.deep.equal([
      [1, c1, 'Add a', 'Alice', 'alice@example.com'],
      [2, c2, 'a: echo two', 'Bob', 'bob@example.com'],
      [3, c3, 'a: echo three', 'Carol', 'carol@example.com'],
    ]);
    expect(list[1]!.time).to.equal(Number(await git(dir, ['log', '-1', '--format=%at', c2])));

    const r = await envctl(['revisions', 'a', '-C', dir]);
    expect(r.exitCode, r.stderr).to.equal(0);
    const lines = r.stdout.split('\n');
    expect(lines).to.have.length(4);
    expect(lines[0]).to.match(/^REV\s+COMMIT\s+DATE\s+AUTHOR\s+KEY\s+SUMMARY$/);
    expect(lines[2]).to.match(new RegExp(`^2\\s+${c2.slice(0, 7)}\\s+\\d{4}-\\d\\d-\\d\\d\\s+Bob\\s+[0-9a-f]{12}\\s+a: echo two$`));
  });

  it('a --no-ff merge counts once, by its first-parent diff; a merge outside environments/ is no revision', async () => {
    const dir = await newRepo();
    await commit(dir, { [A]: spec(), 'environments/b.yaml': spec() }, 'Add a and b');
    await git(dir, ['checkout', '-q', '-b', 'feature']);
    await commit(dir, { [A]: spec({ run: 'echo two' }) }, 'feature: echo two');
    await commit(dir, { [A]: spec({ run: 'echo three' }) }, 'feature: echo three');
    await git(dir, ['checkout', '-q', 'main']);
    await commit(dir, { [A]: spec({ foo: '2' }) }, 'main: FOO 2');
    await git(dir, ['merge', '--no-ff', '-q', '-m', 'Merge feature', 'feature']);
    const merge = await git(dir, ['rev-parse', 'HEAD']);
    await git(dir, ['checkout', '-q', '-b', 'docs']);
    await commit(dir, { 'README.md': 'docs\n' }, 'docs: readme');
    await git(dir, ['checkout', '-q', 'main']);
    await git(dir, ['merge', '--no-ff', '-q', '-m', 'Merge docs', 'docs']);
    await commit(dir, { 'environments/b.yaml': spec({ foo: '3' }) }, 'main: b FOO 3');

    const list = await revisionsOf(dir, CONFIG, 'a');
    expect(list.map((r) => [r.number, r.subject])).to.deep.equal([[1, 'Add a and b'], [2, 'main: FOO 2'], [3, 'Merge feature']]);
    expect(list[2]!.commit).to.equal(merge);
    expect(await numbers(dir, 'b')).to.deep.equal([[1, 'b', 'Add a and b'], [2, 'b', 'main: b FOO 3']]);

    const merged = await envctl(['show', 'a@3', '-C', dir]);
    expect(merged.stdout).to.contain('RUN echo three').and.contain('FOO: "2"');
    const onMain = await envctl(['show', 'a@2', '-C', dir]);
    expect(onMain.stdout).to.contain('RUN echo one').and.contain('FOO: "2"');
  });

  it('a git revert is a new revision whose content key equals the one two back', async () => {
    const dir = await newRepo();
    await commit(dir, { [A]: spec() }, 'Add a');
    await commit(dir, { [A]: spec({ run: 'echo two' }) }, 'a: echo two');
    await git(dir, ['revert', '--no-edit', 'HEAD']);
    const list = await revisionsOf(dir, CONFIG, 'a');
    expect(list.map((r) => [r.number, r.subject])).to.deep.equal([[1, 'Add a'], [2, 'a: echo two'], [3, 'Revert "a: echo two"']]);
    const keys = (await revisionKeys(dir, CONFIG, list)).map((k) => k?.contentKey);
    expect(keys[0]).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(keys[1]).to.not.equal(keys[0]);
    expect(keys[2]).to.equal(keys[0]);
    const rows = await jsonRevisions(dir, 'a');
    expect(rows.map((r) => r.sameKeyAs)).to.deep.equal([null, null, 1]);
    expect(rows[2]!.contentKey).to.equal(keys[0]);
  });

  it('folder form: a context file change is a revision with a new key; a description change is a revision with the same key', async () => {
    const dir = await newRepo();
    const yamlPath = 'environments/b/environment.yaml';
    const req = 'environments/b/requirements.txt';
    await commit(dir, { [yamlPath]: spec({ copy: 'requirements.txt' }), [req]: 'numpy\n' }, 'Add b');
    await commit(dir, { [req]: 'numpy\npandas\n' }, 'b: add pandas');
    await commit(dir, { [yamlPath]: spec({ copy: 'requirements.txt', description: 'Now described' }) }, 'b: describe');
    const list = await revisionsOf(dir, CONFIG, 'b');
    expect(list.map((r) => [r.number, r.subject, r.entry.form])).to.deep.equal([
      [1, 'Add b', 'folder'], [2, 'b: add pandas', 'folder'], [3, 'b: describe', 'folder'],
    ]);
    const keys = (await revisionKeys(dir, CONFIG, list)).map((k) => k?.contentKey ?? null);
    expect(keys.every((k) => k !== null)).to.equal(true);
    expect(keys[1]).to.not.equal(keys[0]);
    expect(keys[2]).to.equal(keys[1]);
  });

  it('a deletion ends the history; re-creating continues the numbering, flagged recreated', async () => {
    const dir = await newRepo();
    const C = 'environments/c.yaml';
    await commit(dir, { [C]: spec() }, 'Add c');
    await commit(dir, { [C]: spec({ run: 'echo two' }) }, 'c: echo two');
    await commit(dir, { [C]: null }, 'Remove c');
    await commit(dir, { [A]: spec() }, 'Add a');
    expect((await updateRevisions(dir, CONFIG)).entries).to.have.keys(['a']);
    await commit(dir, { [C]: spec({ run: 'echo back' }) }, 'Bring c back');
    expect(await numbers(dir, 'c')).to.deep.equal([[1, 'c', 'Add c'], [2, 'c', 'c: echo two'], [3, 'c', 'Bring c back']]);
    expect((await updateRevisions(dir, CONFIG)).entries).to.have.keys(['a', 'c']);
    const rows = await jsonRevisions(dir, 'c');
    expect(rows.map((r) => r.recreated ?? false)).to.deep.equal([false, false, true]);
  });

  it('git mv without renamedFrom starts a new environment at 1 and keeps the old history', async () => {
    const dir = await newRepo();
    await commit(dir, { 'environments/d.yaml': spec() }, 'Add d');
    await commit(dir, { 'environments/d.yaml': spec({ run: 'echo two' }) }, 'd: echo two');
    await git(dir, ['mv', 'environments/d.yaml', 'environments/e.yaml']);
    await commit(dir, {}, 'Rename d to e');
    const e = await revisionsOf(dir, CONFIG, 'e');
    expect(e.map((r) => [r.number, r.environment, r.subject, r.renamedFrom])).to.deep.equal([[1, 'e', 'Rename d to e', undefined]]);
    expect(await numbers(dir, 'd')).to.deep.equal([[1, 'd', 'Add d'], [2, 'd', 'd: echo two']]);
  });

  it('git mv with renamedFrom in the same commit continues the old numbering and lists the old revisions first', async () => {
    const dir = await newRepo();
    await commit(dir, { 'environments/d.yaml': spec() }, 'Add d');
    await commit(dir, { 'environments/d.yaml': spec({ run: 'echo two' }) }, 'd: echo two');
    await git(dir, ['mv', 'environments/d.yaml', 'environments/e.yaml']);
    await commit(dir, { 'environments/e.yaml': spec({ run: 'echo two', head: ['renamedFrom: d'] }) }, 'Rename d to e');
    await commit(dir, { 'environments/e.yaml': spec({ run: 'echo four', head: ['renamedFrom: d'] }) }, 'e: echo four');
    expect(await numbers(dir, 'e')).to.deep.equal([
      [1, 'd', 'Add d'], [2, 'd', 'd: echo two'], [3, 'e', 'Rename d to e'], [4, 'e', 'e: echo four'],
    ]);
    expect((await revisionsOf(dir, CONFIG, 'e'))[2]!.renamedFrom).to.equal('d');
    expect(await numbers(dir, 'd')).to.deep.equal([[1, 'd', 'Add d'], [2, 'd', 'd: echo two']]);
    const r = await envctl(['revisions', 'e', '-C', dir]);
    expect(r.exitCode, r.stderr).to.equal(0);
    const rows = r.stdout.split('\n').slice(1);
    expect(rows.map((l) => l.split(/\s+/)[0])).to.deep.equal(['1', '2', '3', '4']);
    expect(rows.map((l) => l.endsWith('[as d]'))).to.deep.equal([true, true, false, false]);
    // renamedFrom is not a build input: the rename needs no build.
    expect((await jsonRevisions(dir, 'e')).map((x) => x.sameKeyAs)).to.deep.equal([null, null, 2, null]);
  });

  it('a shallow clone exits 1 asking for fetch-depth: 0, without a stack trace', async () => {
    const { dir } = await threeRevisions();
    const clone = join(dir, '.envctl', 'clone');
    await git(dir, ['clone', '-q', '--depth', '1', `file://${dir}`, clone]);
    const r = await envctl(['revisions', 'a'], clone);
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.contain('fetch-depth: 0');
    noStackTrace(r);
  });

  describe('the index under .envctl/cache/revisions', () => {
    const indexOf = (dir: string) => join(dir, '.envctl', 'cache', 'revisions', 'main', 'index.json');

    it('is written on the first run and then extended one commit at a time', async () => {
      const { dir } = await threeRevisions();
      const first = await updateRevisions(dir, CONFIG);
      expect([first.added, first.rebuilt]).to.deep.equal([3, true]);
      expect(existsSync(indexOf(dir))).to.equal(true);
      const again = await updateRevisions(dir, CONFIG);
      expect([again.added, again.rebuilt]).to.deep.equal([0, false]);
      await commit(dir, { [A]: spec({ run: 'echo four' }) }, 'a: echo four');
      const next = await updateRevisions(dir, CONFIG);
      expect([next.added, next.rebuilt]).to.deep.equal([1, false]);
      expect((await next.read('a')).map((r) => r.number)).to.deep.equal([1, 2, 3, 4]);

      const warm = await next.read();
      await rm(join(dir, '.envctl', 'cache'), { recursive: true });
      const cold = await updateRevisions(dir, CONFIG);
      expect([cold.added, cold.rebuilt]).to.deep.equal([4, true]);
      expect(await cold.read()).to.deep.equal(warm);
    });

    it('is rebuilt after git commit --amend', async () => {
      const { dir } = await threeRevisions();
      await updateRevisions(dir, CONFIG);
      await git(dir, ['commit', '-q', '--amend', '-m', 'a: echo three (amended)']);
      const head = await git(dir, ['rev-parse', 'HEAD']);
      const log = await updateRevisions(dir, CONFIG);
      expect(log.rebuilt).to.equal(true);
      const list = await log.read('a');
      expect(list.map((r) => [r.number, r.subject])).to.deep.equal([[1, 'Add a'], [2, 'a: echo two'], [3, 'a: echo three (amended)']]);
      expect(list[2]!.commit).to.equal(head);
    });

    it('is rebuilt after reset --hard HEAD~2 and new commits', async () => {
      const { dir, commits } = await threeRevisions();
      await updateRevisions(dir, CONFIG);
      await git(dir, ['reset', '-q', '--hard', 'HEAD~2']);
      await commit(dir, { 'README.md': 'other\n' }, 'Docs');
      const c2 = await commit(dir, { [A]: spec({ run: 'echo other' }) }, 'a: echo other');
      const log = await updateRevisions(dir, CONFIG);
      expect(log.rebuilt).to.equal(true);
      const list = await log.read('a');
      expect(list.map((r) => [r.number, r.commit, r.subject])).to.deep.equal([[1, commits[0], 'Add a'], [2, c2, 'a: echo other']]);
    });

    it('is rebuilt when index.json is truncated or corrupt', async () => {
      const { dir } = await threeRevisions();
      const warm = await (await updateRevisions(dir, CONFIG)).read();
      for (const damage of ['', '{"version":1,"fold', 'null', '[1,2,3]']) {
        await writeFile(indexOf(dir), damage);
        const log = await updateRevisions(dir, CONFIG);
        expect([damage, log.rebuilt, log.added]).to.deep.equal([damage, true, 3]);
        expect(await log.read()).to.deep.equal(warm);
      }
    });
  });

  describe('repositories as users have them', () => {
    it('a linked worktree reads the main repository\'s history', async () => {
      const dir = await newRepo();
      await commit(dir, { [A]: spec() }, 'Create a');
      await commit(dir, { [A]: spec({ run: 'echo two' }) }, 'Change a');
      await git(dir, ['branch', 'side']);
      const wt = `${dir}-wt`;
      dirs.push(wt);
      await git(dir, ['worktree', 'add', '-q', wt, 'side']);
      expect((await jsonRevisions(wt, 'a')).map((r) => r.subject)).to.deep.equal(['Create a', 'Change a']);
    });

    it('validate compares archived bases with HEAD, or with --against', async () => {
      const dir = await newRepo();
      const old = yaml('owner: "@acme/team"', 'archived: true', 'base: { image: "debian:bookworm" }');
      const onOld = yaml('owner: "@acme/team"', 'base: { environment: old }');
      await commit(dir, { 'environments/old.yaml': yaml('owner: "@acme/team"', 'base: { image: "debian:bookworm" }'), 'environments/a.yaml': onOld }, 'a on old');
      await commit(dir, { 'environments/old.yaml': old }, 'Archive old');
      await writeFile(join(dir, 'environments/b.yaml'), onOld);
      const r = await envctl(['validate', '-C', dir]);
      expect(r.exitCode, r.stdout).to.equal(1);
      const lines = r.stdout.split('\n').filter((l) => l.includes('[base-archived]'));
      expect(lines.map((l) => l.split(':').slice(0, 4).join(':'))).to.deep.equal([
        'environments/a.yaml:2:22: warning',
        'environments/b.yaml:2:22: error',
      ]);
      // Against the first commit, where b did not exist either, the same holds; against a ref that lacks a, a's choice is new.
      const first = await git(dir, ['rev-parse', 'HEAD~2']);
      const r2 = await envctl(['validate', '--against', first, '-C', dir]);
      expect(r2.stdout.split('\n').filter((l) => l.includes('[base-archived]')).map((l) => l.split(':')[0] + ':' + l.split(':')[3])).to.deep.equal([
        'environments/a.yaml: error',
        'environments/b.yaml: error',
      ]);
    });

    it('validate --against a name that resolves to nothing is a usage error; an annotated tag is peeled', async () => {
      const dir = await newRepo();
      await commit(dir, { [A]: spec() }, 'Create a');
      const bad = await envctl(['validate', '--against', 'no-such-ref', '-C', dir]);
      // Only asked when some base is archived: make one.
      await commit(dir, { 'environments/old.yaml': yaml('owner: "@acme/team"', 'archived: true', 'base: { image: "debian:bookworm" }'), 'environments/b.yaml': yaml('owner: "@acme/team"', 'base: { environment: old }') }, 'b on old');
      await git(dir, ['tag', '-a', '-m', 'release', 'v1']);
      const typo = await envctl(['validate', '--against', 'no-such-ref', '-C', dir]);
      expect(typo.exitCode).to.equal(2);
      // The library says what is missing; the CLI names the flag it came from (data.option).
      expect(typo.stderr).to.contain('--against no-such-ref: no such branch, tag or commit');
      noStackTrace(typo);
      const tagged = await envctl(['validate', '--against', 'v1', '-C', dir]);
      expect(tagged.exitCode, tagged.stderr).to.equal(0);
      expect(tagged.stdout).to.contain('warning').and.contain('[base-archived]');
      expect(bad.exitCode).to.equal(0);
    });

    it('a damaged revisions.jsonl is rebuilt from history', async () => {
      const dir = await newRepo();
      await commit(dir, { [A]: spec() }, 'Create a');
      await updateRevisions(dir, CONFIG);
      const log = join(dir, '.envctl', 'cache', 'revisions', 'main', 'revisions.jsonl');
      const text = await readFile(log, 'utf8');
      await writeFile(log, text.replace('"number"', '"num\u0001ber"'));
      expect((await revisionsOf(dir, CONFIG, 'a')).map((r) => r.number)).to.deep.equal([1]);
    });

    it('a lost revisions.jsonl is rebuilt, not numbered on from a gap', async () => {
      const dir = await newRepo();
      await commit(dir, { [A]: spec() }, 'Create a');
      await updateRevisions(dir, CONFIG);
      await rm(join(dir, '.envctl', 'cache', 'revisions', 'main', 'revisions.jsonl'));
      await commit(dir, { [A]: spec({ run: 'echo two' }) }, 'Change a');
      const log = await updateRevisions(dir, CONFIG);
      expect(log.rebuilt).to.equal(true);
      expect((await log.read('a')).map((r) => [r.number, r.subject])).to.deep.equal([[1, 'Create a'], [2, 'Change a']]);
    });
  });

  describe('show and diff', () => {
    let dir: string;
    before(async () => {
      ({ dir } = await threeRevisions());
    });

    it('show a@2 prints the YAML of revision 2; --render its Dockerfile', async () => {
      const r = await envctl(['show', 'a@2', '-C', dir]);
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(`${r.stdout}\n`).to.equal(spec({ run: 'echo two' }));
      const d = await envctl(['show', 'a@2', '--render', '-C', dir]);
      expect(d.exitCode, d.stderr).to.equal(0);
      expect(d.stdout).to.match(/^FROM debian:bookworm/m).and.match(/^RUN echo two$/m);
      expect(d.stdout).to.not.contain('echo three');
    });

    it('show of a revision out of range or an unknown environment exits 2', async () => {
      const r = await envctl(['show', 'a@99', '-C', dir]);
      expect(r.exitCode).to.equal(2);
      expect(r.stderr).to.contain('revisions 1–3').and.contain('no revision 99');
      const nope = await envctl(['show', 'nope', '-C', dir]);
      expect(nope.exitCode).to.equal(2);
      expect(nope.stderr).to.contain('expected <name>@<revision>');
      const nope1 = await envctl(['show', 'nope@1', '-C', dir]);
      expect(nope1.exitCode).to.equal(2);
      expect(nope1.stderr).to.contain('"nope" has no revisions');
      for (const x of [r, nope, nope1]) noStackTrace(x);
    });

    it('diff a 1 2 shows the changed instruction in spec and Dockerfile', async () => {
      const r = await envctl(['diff', 'a', '1', '2', '-C', dir]);
      expect(r.exitCode, r.stderr).to.equal(0);
      const lines = r.stdout.split('\n');
      expect(lines).to.include.members(['-  RUN echo one', '+  RUN echo two', '-RUN echo one', '+RUN echo two']);
      expect(r.stdout).to.contain('a@revision 1 spec').and.contain('a@revision 2 Dockerfile');
    });

    it('diff a latest compares with the working tree', async () => {
      await writeFile(join(dir, A), spec({ run: 'echo worktree' }));
      try {
        const r = await envctl(['diff', 'a', 'latest', '-C', dir]);
        expect(r.exitCode, r.stderr).to.equal(0);
        expect(r.stdout.split('\n')).to.include.members(['-  RUN echo three', '+  RUN echo worktree', '+RUN echo worktree']);
        expect(r.stdout).to.contain('a@working tree spec');
      } finally {
        await git(dir, ['checkout', '--', A]);
      }
    });
  });

  describe('a clone without a local main branch', () => {
    it('revisions, show and diff name the missing branch and how to fetch it, not "no revisions"', async () => {
      const { dir } = await threeRevisions();
      const clone = join(dir, '.envctl', 'clone');
      await git(dir, ['clone', '-q', `file://${dir}`, clone]);
      // Only origin/main is left, as in a CI checkout of a pull request's branch.
      await git(clone, ['checkout', '-q', '-b', 'topic']);
      await git(clone, ['branch', '-q', '-D', 'main']);
      for (const args of [['revisions', 'a'], ['diff', 'a', '1'], ['show', 'a@1']]) {
        const r = await envctl([...args, '-C', clone]);
        expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).to.equal(1);
        expect(r.stderr).to.not.contain('no revisions');
        expect(r.stderr).to.contain('branch main does not exist in this clone, only origin/main').and.contain('git fetch origin main:main');
        noStackTrace(r);
      }
      await git(clone, ['fetch', '-q', 'origin', 'main:main']);
      expect((await envctl(['revisions', 'a', '-C', clone])).exitCode).to.equal(0);
    });
  });

  describe('diff of a folder environment with the working tree', () => {
    it('shows changed build-context files, and not a file git ignores', async () => {
      const dir = await newRepo();
      const folder = 'environments/f';
      await commit(dir, {
        '.gitignore': '.envctl/\n*.pyc\n',
        [`${folder}/environment.yaml`]: spec({ copy: 'notes.txt' }),
        [`${folder}/notes.txt`]: 'one\n',
      }, 'Add f');
      await writeFile(join(dir, folder, 'notes.txt'), 'two\n');
      await writeFile(join(dir, folder, 'cache.pyc'), 'compiled\n');
      const r = await envctl(['diff', 'f', '1', '-C', dir]);
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(r.stdout).to.contain('f@revision 1 context/notes.txt').and.contain('f@working tree context/notes.txt');
      expect(r.stdout.split('\n')).to.include.members(['-one', '+two']);
      expect(r.stdout).to.not.contain('cache.pyc').and.not.contain('compiled');
      // The same ignore rule keeps it out of the build inputs: the key is the committed revision's once notes.txt is back.
      await writeFile(join(dir, folder, 'notes.txt'), 'one\n');
      expect((await envctl(['diff', 'f', '1', '-C', dir])).stdout).to.equal('');
    });
  });

  describe('rollback', () => {
    it('commits the files of revision 1 byte for byte, with the same content key', async () => {
      const { dir, commits } = await threeRevisions();
      const r = await envctl(['rollback', 'a', '--to', '1', '-C', dir]);
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(await git(dir, ['log', '-1', '--format=%s'])).to.equal('Roll back a to revision 1');
      expect(await git(dir, ['rev-parse', 'HEAD~1'])).to.equal(commits[2]);
      expect((await readFile(join(dir, A))).equals(Buffer.from(spec()))).to.equal(true);
      expect(await git(dir, ['status', '--porcelain'])).to.equal('');
      const rows = await jsonRevisions(dir, 'a');
      expect(rows.map((x) => x.number)).to.deep.equal([1, 2, 3, 4]);
      expect(rows[3]!.subject).to.equal('Roll back a to revision 1');
      expect(rows[3]!.contentKey).to.equal(rows[0]!.contentKey);
      expect(rows[3]!.sameKeyAs).to.equal(1);
    });

    it('refuses a dirty work tree with exit 1 and no commit', async () => {
      const { dir, commits } = await threeRevisions();
      await writeFile(join(dir, A), spec({ run: 'echo dirty' }));
      const r = await envctl(['rollback', 'a', '--to', '1', '-C', dir]);
      expect(r.exitCode).to.equal(1);
      expect(r.stderr).to.contain('uncommitted changes');
      noStackTrace(r);
      expect(await git(dir, ['rev-parse', 'HEAD'])).to.equal(commits[2]);
      expect(await readFile(join(dir, A), 'utf8')).to.equal(spec({ run: 'echo dirty' }));
    });

    it('never removes or overwrites files git does not track', async () => {
      const dir = await newRepo();
      const yamlPath = 'environments/b/environment.yaml';
      await commit(dir, { [yamlPath]: spec() }, 'Add b');
      await commit(dir, { [yamlPath]: spec({ run: 'echo two' }), 'environments/b/setup.sh': 'echo\n' }, 'b: setup.sh');
      await writeFile(join(dir, 'environments/b/notes.md'), 'mine\n');
      const r = await envctl(['rollback', 'b', '--to', '1', '-C', dir]);
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(await readFile(join(dir, 'environments/b/notes.md'), 'utf8')).to.equal('mine\n');
      expect(existsSync(join(dir, 'environments/b/setup.sh'))).to.equal(false);
      // An untracked file where the revision has a tracked one: refused, nothing written.
      await commit(dir, { 'environments/b/setup.sh': null }, 'noop');
      await commit(dir, { 'environments/b/later.sh': 'x\n' }, 'b: later');
      const head = await git(dir, ['rev-parse', 'HEAD']);
      await git(dir, ['rm', '-q', '--cached', 'environments/b/later.sh']);
      await git(dir, ['commit', '-q', '-m', 'untrack later.sh']);
      await writeFile(join(dir, 'environments/b/later.sh'), 'untracked copy\n');
      const refused = await envctl(['rollback', 'b', '--to', String((await jsonRevisions(dir, 'b')).find((x) => x.subject === 'b: later')!.number), '-C', dir]);
      expect(refused.exitCode).to.equal(1);
      expect(refused.stderr).to.contain('untracked files would be overwritten: environments/b/later.sh');
      expect(await readFile(join(dir, 'environments/b/later.sh'), 'utf8')).to.equal('untracked copy\n');
      expect(await git(dir, ['rev-parse', 'HEAD~1'])).to.equal(head);
    });

    it('removes a folder environment file added after the target revision', async () => {
      const dir = await newRepo();
      const yamlPath = 'environments/b/environment.yaml';
      const req = 'environments/b/requirements.txt';
      const extra = 'environments/b/extra/setup.sh';
      await commit(dir, { [yamlPath]: spec({ copy: 'requirements.txt' }), [req]: 'numpy\n' }, 'Add b');
      await commit(dir, { [req]: 'numpy\npandas\n', [extra]: 'echo hi\n' }, 'b: pandas and setup.sh');
      const r = await envctl(['rollback', 'b', '--to', '1', '-C', dir]);
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(existsSync(join(dir, extra))).to.equal(false);
      expect(existsSync(join(dir, 'environments/b/extra')), 'emptied folder removed').to.equal(false);
      expect(await readFile(join(dir, req), 'utf8')).to.equal('numpy\n');
      expect((await git(dir, ['ls-files', 'environments/b'])).split('\n')).to.deep.equal([yamlPath, req]);
      expect(await git(dir, ['status', '--porcelain'])).to.equal('');
      const rows = await jsonRevisions(dir, 'b');
      expect(rows.map((x) => [x.number, x.sameKeyAs])).to.deep.equal([[1, null], [2, null], [3, 1]]);
    });
  });
});
