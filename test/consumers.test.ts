/**
 * Projects, models and data sets: loading, the schema, the rules about the
 * environments they use (pure, on in-memory snapshots), and on real git
 * repositories validate, `envctl usage` and `envctl duplicate`.
 */
import { expect } from 'chai';
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkConsumers, typedConsumers, type ComparedBranch, type ConsumerCheckContext } from '../src/check/consumers.js';
import { recordBuilds } from '../src/git/ledger.js';
import { loadConsumers, type LoadedConsumer } from '../src/load/consumers.js';
import { loadEnvironments } from '../src/load/environments.js';
import type { BuildRecord } from '../src/ledger/model.js';
import type { Problem } from '../src/model/problem.js';
import { environmentFacts } from '../src/repository/consumers.js';
import { editSpec } from '../src/source/yaml-edit.js';
import { openRepository } from '../src/repository/index.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, snapshot, tempDir, yaml, type Files } from './helpers.js';
import { runEnvctl } from './fixtures/cli.js';

// ---------------------------------------------------------------------------
// Pure: load and check
// ---------------------------------------------------------------------------

const ENV = (extra: string[] = []) => yaml('owner: "@acme/platform"', 'base: { image: "debian:bookworm" }', ...extra);
const PROJECT = (environment: string, extra: string[] = []) => yaml('owner: "@acme/analytics"', `environment: ${environment}`, ...extra);

interface Checked {
  consumers: LoadedConsumer[];
  problems: Problem[];
  typed: ReturnType<typeof checkConsumers>['consumers'];
}

/** Loads environments and consumers from `files` and checks the consumers as validate would. */
function checkFiles(files: Files, ctx: Partial<ConsumerCheckContext> = {}): Checked {
  const snap = snapshot(files);
  const envs = loadEnvironments(snap, 'environments').environments;
  const loaded = loadConsumers(snap);
  const result = checkConsumers(loaded.consumers, { environments: environmentFacts(envs), ...ctx });
  return { consumers: loaded.consumers, problems: [...loaded.problems, ...result.problems], typed: result.consumers };
}

const rules = (c: Checked, rule: string) => c.problems.filter((p) => p.rule === rule);

function compared(environments: Record<string, string> = {}, choices: Record<string, { name: string; revision: number | 'active' }> = {}): ComparedBranch {
  return {
    label: 'HEAD',
    environments: new Map(Object.entries(environments).map(([name, file]) => [name, { file }])),
    choices: new Map(Object.entries(choices)),
  };
}

describe('consumers: loading', () => {
  it('finds file and folder forms of every kind, notes requirements.txt, ignores other files', () => {
    const { consumers, problems } = checkFiles({
      'environments/py.yaml': ENV(),
      'projects/README.md': '# projects',
      'projects/churn.yaml': PROJECT('py'),
      'projects/forecast/project.yaml': PROJECT('py'),
      'projects/forecast/requirements.txt': 'pandas\n',
      'projects/forecast/main.py': 'print(1)\n',
      'models/scorer/model.yaml': PROJECT('py'),
      'datasets/sales.yaml': PROJECT('py'),
    });
    expect(problems).to.deep.equal([]);
    expect(consumers.map((c) => [c.kind, c.name, c.file, c.folder ?? null, c.hasRequirements])).to.deep.equal([
      ['project', 'churn', 'projects/churn.yaml', null, false],
      ['project', 'forecast', 'projects/forecast/project.yaml', 'projects/forecast', true],
      ['model', 'scorer', 'models/scorer/model.yaml', 'models/scorer', false],
      ['dataset', 'sales', 'datasets/sales.yaml', null, false],
    ]);
  });

  it('reports .yml files, bad names, a name defined twice, a folder without its spec and an empty file', () => {
    const snap = snapshot({
      'projects/a.yml': PROJECT('py'),
      'projects/Bad_Name.yaml': PROJECT('py'),
      'projects/twice.yaml': PROJECT('py'),
      'projects/twice/project.yaml': PROJECT('py'),
      'models/nospec/model.yml': PROJECT('py'),
      'datasets/empty.yaml': '# nothing yet\n',
    });
    const { consumers, problems } = loadConsumers({ ...snap, folders: ['datasets/bare'] });
    const got = problems.map((p) => [p.file, p.severity, p.rule]);
    expect(got).to.deep.include.members([
      ['projects/a.yml', 'error', 'consumer-file'],
      ['projects/Bad_Name.yaml', 'error', 'consumer-name'],
      ['projects/twice/project.yaml', 'error', 'consumer-duplicate'],
      ['models/nospec/model.yml', 'warning', 'consumer-file'],
      ['datasets/bare', 'warning', 'consumer-file'],
      ['datasets/empty.yaml', 'error', 'consumer-empty'],
    ]);
    expect(problems.find((p) => p.file === 'models/nospec/model.yml')?.message).to.equal('folder models/nospec/ has no model.yaml, so it is not a model');
    expect(problems.find((p) => p.rule === 'consumer-duplicate')?.message).to.contain('in projects/twice.yaml');
    expect(consumers.map((c) => `${c.kind}/${c.name}`)).to.deep.equal(['project/twice', 'dataset/empty']);
  });

  it('YAML errors are located and leave the data out', () => {
    const { consumers, problems } = checkFiles({ 'projects/x.yaml': yaml('owner: a', 'environment: [py') });
    expect(problems.map((p) => p.rule)).to.deep.equal(['yaml-syntax']);
    expect(consumers[0]!.data).to.equal(undefined);
  });
});

describe('consumers: the schema', () => {
  it('a valid spec is typed; pinned revisions and `active` both pass', () => {
    const c = checkFiles({
      'environments/py.yaml': ENV(),
      'projects/a.yaml': yaml('title: A', 'owner: alice', 'environment: py', 'command: python3 run.py'),
      'projects/b.yaml': yaml('owner: "@acme/x"', 'environment: { name: py, revision: active }'),
    });
    expect(c.problems).to.deep.equal([]);
    expect(c.typed.map((t) => [t.name, t.spec.environment, t.spec.command ?? null])).to.deep.equal([
      ['a', 'py', 'python3 run.py'],
      ['b', { name: 'py', revision: 'active' }, null],
    ]);
  });

  it('errors point at the field: unknown fields with a guess, required fields, owner and name patterns, wrong types', () => {
    const c = checkFiles({
      'environments/py.yaml': ENV(),
      'projects/a.yaml': yaml('owner: "@acme/x"', 'environment:', '  name: py', '  revison: 2'),
      'projects/b.yaml': yaml('titel: B', 'owner: "not an owner"'),
      'projects/c.yaml': yaml('owner: x', 'environment: Py_Env'),
      'projects/d.yaml': yaml('owner: x', 'environment: 5'),
      'projects/e.yaml': yaml('owner: x', 'environment: { name: py, revision: 0 }'),
    });
    const at = (file: string) => c.problems.filter((p) => p.file === file).map((p) => `${p.line}:${p.col} ${p.rule}: ${p.message}`);
    expect(at('projects/a.yaml')).to.have.members([
      '2:1 schema-required: environment is missing required field "revision"',
      '4:3 schema-unknown-field: unknown field "revison" in environment; did you mean "revision"?',
    ]);
    expect(at('projects/b.yaml')).to.include.members([
      '1:1 schema-unknown-field: unknown field "titel"; did you mean "title"?',
      '2:8 schema-pattern: owner "not an owner" is not valid: an owner is a GitHub login or @org/team',
      '1:1 schema-required: missing required field "environment"',
    ]);
    expect(at('projects/c.yaml')).to.deep.equal(['2:14 schema-pattern: environment "Py_Env" is not valid: environment names use lowercase letters, digits and dashes']);
    expect(at('projects/d.yaml')).to.deep.equal(['2:14 schema-type: environment must be a string or object, not number 5']);
    expect(at('projects/e.yaml').join('\n')).to.match(/^2:\d+ schema.*revision/);
    expect(c.typed).to.deep.equal([]);
    // An environment value that fails the schema is not also reported as unknown.
    expect(rules(c, 'consumer-unknown-environment')).to.deep.equal([]);
  });
});

describe('consumers: rules about their environments', () => {
  it('consumer-unknown-environment: located at the value, with a guess', () => {
    const c = checkFiles({ 'environments/python-datascience.yaml': ENV(), 'projects/a.yaml': PROJECT('python') });
    expect(rules(c, 'consumer-unknown-environment').map((p) => `${p.file}:${p.line}:${p.col} ${p.severity} ${p.message}`)).to.deep.equal([
      'projects/a.yaml:2:14 error environment "python" does not exist; did you mean "python-datascience"?',
    ]);
  });

  it('deleting an environment still in use: an error at each user and one per user at the deleted file', () => {
    const c = checkFiles({
      'environments/py.yaml': ENV(),
      'projects/a.yaml': PROJECT('old'),
      'models/m/model.yaml': PROJECT('{ name: old, revision: 2 }'),
      'projects/fine.yaml': PROJECT('py'),
    }, { compared: compared({ old: 'environments/old/environment.yaml' }) });
    expect(rules(c, 'consumer-unknown-environment').map((p) => `${p.file}:${p.line} ${p.message}`)).to.deep.equal([
      'models/m/model.yaml:2 model "m" uses environment "old", which this change deletes: choose another environment, or archive "old" instead of deleting it',
      'projects/a.yaml:2 project "a" uses environment "old", which this change deletes: choose another environment, or archive "old" instead of deleting it',
    ]);
    const side = rules(c, 'environment-deleted-in-use');
    expect(side.map((p) => `${p.file}:${p.line}:${p.col} ${p.severity}`)).to.deep.equal([
      'environments/old/environment.yaml:1:1 error',
      'environments/old/environment.yaml:1:1 error',
    ]);
    expect(side.map((p) => p.message)).to.have.members([
      'environment "old" is deleted by this change; still used by project "a" (projects/a.yaml): move it to another environment first, or archive "old" instead',
      'environment "old" is deleted by this change; still used by model "m" (models/m/model.yaml): move it to another environment first, or archive "old" instead',
    ]);
  });

  it('a rename under renamedFrom names the new name', () => {
    const c = checkFiles({ 'environments/new.yaml': ENV(['renamedFrom: old']), 'projects/a.yaml': PROJECT('old') },
      { compared: compared({ old: 'environments/old.yaml' }) });
    expect(rules(c, 'consumer-unknown-environment')[0]?.message).to.equal('project "a" uses environment "old", which this change renames to "new": point it at "new"');
    expect(rules(c, 'environment-deleted-in-use')[0]?.message).to.contain('is renamed to "new" by this change; still used by project "a"');
  });

  it('a schema error elsewhere in the file does not hide a deleted environment', () => {
    const c = checkFiles({ 'environments/py.yaml': ENV(), 'projects/a.yaml': PROJECT('old', ['titel: x']) },
      { compared: compared({ old: 'environments/old.yaml' }) });
    expect(rules(c, 'environment-deleted-in-use')).to.have.length(1);
    expect(rules(c, 'schema-unknown-field')).to.have.length(1);
  });

  describe('consumer-archived-environment', () => {
    const files = {
      'environments/legacy.yaml': ENV(['archived: true']),
      'projects/kept.yaml': PROJECT('legacy'),
      'projects/new.yaml': PROJECT('legacy'),
      'projects/repinned.yaml': PROJECT('{ name: legacy, revision: 3 }'),
      'projects/spelled.yaml': PROJECT('{ name: legacy, revision: active }'),
    };
    const before = compared({}, {
      'project/kept': { name: 'legacy', revision: 'active' },
      'project/repinned': { name: 'legacy', revision: 2 },
      'project/spelled': { name: 'legacy', revision: 'active' },
    });

    it('a consumer that already used it gets a warning; a new consumer or a changed choice an error', () => {
      const c = checkFiles(files, { compared: before });
      const got = rules(c, 'consumer-archived-environment').map((p) => `${p.file}:${p.line}:${p.col} ${p.severity}: ${p.message}`);
      expect(got).to.deep.equal([
        'projects/kept.yaml:2:14 warning: environment "legacy" is archived; this project keeps working, but move it to another environment',
        'projects/new.yaml:2:14 error: environment "legacy" is archived and cannot be chosen by a new project',
        'projects/repinned.yaml:2:22 error: environment "legacy" is archived and cannot be chosen anew (HEAD has "legacy" revision 2); keep the project\'s choice as it was, or move it to another environment',
        // `legacy` and `{ name: legacy, revision: active }` are the same choice.
        'projects/spelled.yaml:2:22 warning: environment "legacy" is archived; this project keeps working, but move it to another environment',
      ]);
    });

    it('with nothing to compare with, every choice is new', () => {
      const c = checkFiles(files);
      expect(rules(c, 'consumer-archived-environment').map((p) => p.severity)).to.deep.equal(['error', 'error', 'error', 'error']);
    });
  });

  describe('consumer-unknown-revision', () => {
    const files = {
      'environments/py.yaml': ENV(),
      'environments/fresh.yaml': ENV(),
      'projects/ok.yaml': PROJECT('{ name: py, revision: 3 }'),
      'projects/ahead.yaml': yaml('owner: x', 'environment:', '  name: py', '  revision: 4'),
      'projects/fresh.yaml': PROJECT('{ name: fresh, revision: 1 }'),
      'projects/active.yaml': PROJECT('py'),
    };

    it('a pinned revision beyond the latest is an error at the revision; one not yet merged says so', () => {
      const c = checkFiles(files, { latestRevisions: new Map([['py', 3]]), revisionsBranch: 'main' });
      expect(rules(c, 'consumer-unknown-revision').map((p) => `${p.file}:${p.line}:${p.col} ${p.message}`)).to.deep.equal([
        'projects/ahead.yaml:4:13 environment "py" has no revision 4 on main; its latest is 3',
        'projects/fresh.yaml:2:39 environment "fresh" has no revisions yet on main, so revision 1 does not exist; pin one once it is merged, or use its active revision',
      ]);
    });

    it('without revision numbers (no history) the rule is skipped', () => {
      expect(rules(checkFiles(files), 'consumer-unknown-revision')).to.deep.equal([]);
    });
  });

  it('the shipped sample projects pass the schema', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const repo = await (await openRepository(root, {})).sources();
    const { consumers, problems } = typedConsumers(repo.consumers);
    expect(problems).to.deep.equal([]);
    expect(repo.problems.filter((p) => p.file.startsWith('projects/'))).to.deep.equal([]);
    expect(consumers.map((c) => c.name)).to.include.members(['churn-analysis', 'demand-forecast']);
    expect(consumers.find((c) => c.name === 'demand-forecast')?.hasRequirements).to.equal(true);
    for (const c of consumers) expect(repo.loaded.map((e) => e.name)).to.include(typeof c.spec.environment === 'string' ? c.spec.environment : c.spec.environment.name);
  });
});

// ---------------------------------------------------------------------------
// Pure: editing a spec for duplicate
// ---------------------------------------------------------------------------

describe('duplicate: editing the YAML text', () => {
  function edit(text: string, remove: string[], owner?: string): string {
    const env = loadEnvironments(snapshot({ 'environments/x.yaml': text }), 'environments').environments[0]!;
    return editSpec(env, remove, owner);
  }

  it('removes whole entries (with their indented values) and keeps comments, blank lines and order', () => {
    const text = yaml(
      '# yaml-language-server: $schema=../schemas/environment.schema.json',
      '# Header comment.',
      'title: Old',
      'owner: "@acme/a"   # the team',
      'archived: true  # retired',
      '',
      '# About the instructions.',
      'renamedFrom:',
      '  older-name',
      'instructions: |',
      '  RUN true',
    );
    expect(edit(text, ['archived', 'renamedFrom'], '@acme/b')).to.equal(yaml(
      '# yaml-language-server: $schema=../schemas/environment.schema.json',
      '# Header comment.',
      'title: Old',
      'owner: "@acme/b"   # the team',
      '',
      '# About the instructions.',
      'instructions: |',
      '  RUN true',
    ));
  });

  it('replaces plain, single-quoted and multi-line owners, and adds a missing one before the first key', () => {
    expect(edit(yaml('owner: alice', 'title: T'), [], 'bob')).to.equal(yaml('owner: "bob"', 'title: T'));
    expect(edit(yaml("owner: 'it''s'  # x", 'title: T'), [], 'bob')).to.equal(yaml('owner: "bob"  # x', 'title: T'));
    expect(edit(yaml('owner:', '  alice', 'title: T'), [], 'bob')).to.equal(yaml('owner: "bob"', 'title: T'));
    expect(edit(yaml('# c', 'title: T'), [], 'bob')).to.equal(yaml('# c', 'owner: "bob"', 'title: T'));
  });

  it('refuses a document written as one flow mapping', () => {
    expect(() => edit('{ owner: a, archived: true }\n', ['archived'])).to.throw(/flow mapping/);
  });
});

// ---------------------------------------------------------------------------
// On git repositories, through the CLI
// ---------------------------------------------------------------------------

const envctl = (dir: string, ...argv: string[]) => runEnvctl(dir, argv);

const CONFIG = yaml('registry: { address: "127.0.0.1:1" }', 'imageLayers: { "debian:bookworm": 1 }');
const SPEC = (extra: string[] = []) => yaml(
  '# yaml-language-server: $schema=../schemas/environment.schema.json',
  'title: An environment',
  'owner: "@acme/platform"   # platform team',
  ...extra,
  'base: { image: "debian:bookworm" }',
  '',
  '# One RUN.',
  'instructions: |',
  '  RUN true',
);

const rec = (id: string, revision: number, status: BuildRecord['status']): BuildRecord => ({
  id, revision, commit: 'c'.repeat(40), contentKey: `sha256:${id}`, status, startedAt: `2026-01-01T00:00:0${revision}Z`,
  ...(status === 'succeeded' ? { image: `127.0.0.1:1/envctl/x:${revision}`, digest: `sha256:${id.repeat(4)}` } : {}),
});

describe('consumers on a git repository', function () {
  this.timeout(120_000);
  const dirs: string[] = [];

  async function repo(files: Record<string, string>): Promise<string> {
    const dir = await tempDir('envctl-consumers-');
    dirs.push(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    // commit() stages everything; envctl's local state stays out, as in a real repository.
    await commit(dir, { 'envctl.yaml': CONFIG, '.gitignore': '.envctl/\n', ...files }, 'initial');
    return dir;
  }

  after(async () => {
    for (const d of dirs) await removeDir(d);
  });

  describe('validate: archived environments', () => {
    it('a project already on an archived environment gets a warning (exit 0); a new one an error at its line (exit 1)', async () => {
      const dir = await repo({
        'environments/legacy.yaml': SPEC(['archived: true']),
        'environments/py.yaml': SPEC(),
        'projects/old.yaml': PROJECT('legacy'),
      });
      const kept = await envctl(dir, 'validate');
      expect(kept.code, kept.out + kept.err).to.equal(0);
      expect(kept.out).to.equal('projects/old.yaml:2:14: warning: environment "legacy" is archived; this project keeps working, but move it to another environment [consumer-archived-environment]');
      expect(kept.err).to.contain('0 errors, 1 warning in 2 environments and 1 project');

      await writeFile(join(dir, 'projects/new.yaml'), yaml('title: New', 'owner: "@acme/x"', 'environment:', '  name: legacy', '  revision: active'));
      const added = await envctl(dir, 'validate');
      expect(added.code).to.equal(1);
      expect(added.out.split('\n')).to.include('projects/new.yaml:4:9: error: environment "legacy" is archived and cannot be chosen by a new project [consumer-archived-environment]');

      // Named on its own, the project is validated alone; the other environment's users are left out.
      const alone = await envctl(dir, 'validate', 'projects/new.yaml', '--json');
      expect(alone.code).to.equal(1);
      const json = JSON.parse(alone.out) as { consumers: number; problems: Problem[] };
      expect(json.consumers).to.equal(1);
      expect(json.problems.map((p) => p.file)).to.deep.equal(['projects/new.yaml']);
      expect((await envctl(dir, 'validate', 'py')).code).to.equal(0);

      // Compared with a branch where the project did not exist yet, the kept one is new too.
      await commit(dir, {}, 'add new project');
      await git(dir, 'branch', 'before', 'HEAD~1');
      expect((await envctl(dir, 'validate')).code).to.equal(0);
      const against = await envctl(dir, 'validate', '--against', 'before');
      expect(against.code).to.equal(1);
      expect(against.out).to.contain('projects/new.yaml:4:9: error');
      expect((await envctl(dir, 'validate', '--against', 'no-such-branch')).code).to.equal(2);
    });
  });

  describe('validate: deleting an environment that something uses', () => {
    it('is an error naming the user, at the user and at the deleted file', async () => {
      const dir = await repo({
        'environments/old/environment.yaml': SPEC(),
        'environments/py.yaml': SPEC(),
        'projects/churn.yaml': PROJECT('old'),
        'datasets/sales/dataset.yaml': PROJECT('{ name: old, revision: 1 }'),
      });
      await rm(join(dir, 'environments/old'), { recursive: true });
      const r = await envctl(dir, 'validate');
      expect(r.code).to.equal(1);
      const lines = r.out.split('\n');
      expect(lines).to.include('environments/old/environment.yaml:1:1: error: environment "old" is deleted by this change; still used by project "churn" (projects/churn.yaml): move it to another environment first, or archive "old" instead [environment-deleted-in-use]');
      expect(lines).to.include('environments/old/environment.yaml:1:1: error: environment "old" is deleted by this change; still used by data set "sales" (datasets/sales/dataset.yaml): move it to another environment first, or archive "old" instead [environment-deleted-in-use]');
      expect(lines).to.include('projects/churn.yaml:2:14: error: project "churn" uses environment "old", which this change deletes: choose another environment, or archive "old" instead of deleting it [consumer-unknown-environment]');
      expect(lines.filter((l) => l.includes('[consumer-unknown-environment]'))).to.have.length(2);

      // Moving the users along in the same change makes it clean.
      await writeFile(join(dir, 'projects/churn.yaml'), PROJECT('py'));
      await writeFile(join(dir, 'datasets/sales/dataset.yaml'), PROJECT('py'));
      const moved = await envctl(dir, 'validate');
      expect(moved.code, moved.out).to.equal(0);
    });
  });

  describe('validate: pinned revisions', () => {
    it('a pin beyond the environment\'s latest revision on main is an error; the latest itself is fine', async () => {
      const dir = await repo({ 'environments/py.yaml': SPEC(), 'projects/p.yaml': PROJECT('{ name: py, revision: 2 }') });
      const early = await envctl(dir, 'validate');
      expect(early.code).to.equal(1);
      expect(early.out).to.equal('projects/p.yaml:2:36: error: environment "py" has no revision 2 on main; its latest is 1 [consumer-unknown-revision]');
      await commit(dir, { 'environments/py.yaml': SPEC(['description: second']) }, 'py: second revision');
      const later = await envctl(dir, 'validate');
      expect(later.code, later.out).to.equal(0);
    });

    it('in a shallow clone a pin cannot be checked: a warning says why, and validate still passes', async () => {
      const origin = await repo({ 'environments/py.yaml': SPEC(), 'projects/p.yaml': PROJECT('{ name: py, revision: 1 }') });
      await commit(origin, { 'environments/py.yaml': SPEC(['description: second']) }, 'py 2');
      const clone = await tempDir('envctl-consumers-shallow-');
      dirs.push(clone);
      await git(clone, 'clone', '-q', '--depth', '1', `file://${origin}`, '.');
      const r = await envctl(clone, 'validate');
      expect(r.code, r.out + r.err).to.equal(0);
      expect(r.out).to.match(/^projects\/p\.yaml:2:36: warning: revision 1 of environment "py" was not checked: this clone is shallow.* \[consumer-unknown-revision\]$/);
    });
  });

  describe('envctl usage', () => {
    it('lists users with their revision: active resolved through the ledger, pinned as is; JSON too', async () => {
      const dir = await repo({
        'environments/py.yaml': SPEC(),
        'environments/r.yaml': SPEC(),
        'projects/churn.yaml': PROJECT('py'),
        'projects/forecast/project.yaml': PROJECT('{ name: py, revision: 1 }'),
        'models/scorer.yaml': PROJECT('{ name: py, revision: active }'),
        'datasets/sales.yaml': PROJECT('r'),
      });
      await commit(dir, { 'environments/py.yaml': SPEC(['description: two']) }, 'py 2');
      await commit(dir, { 'environments/py.yaml': SPEC(['description: three']) }, 'py 3');
      await recordBuilds(dir, 'envctl-state', new Map([['py', [rec('a', 1, 'succeeded'), rec('b', 2, 'succeeded'), rec('c', 3, 'failed')]]]), { summary: 'test' });

      const r = await envctl(dir, 'usage', 'py');
      expect(r.code).to.equal(0);
      expect(r.out).to.equal([
        'KIND     NAME      REVISION    OWNER            FILE',
        'project  churn     active (2)  @acme/analytics  projects/churn.yaml',
        'project  forecast  1           @acme/analytics  projects/forecast/project.yaml',
        'model    scorer    active (2)  @acme/analytics  models/scorer.yaml',
      ].join('\n'));

      const none = await envctl(dir, 'usage', 'r');
      expect(none.out).to.contain('active (not built yet)');
      expect(none.out).to.contain('data set');

      const json = JSON.parse((await envctl(dir, 'usage', 'py', '--json')).out) as { latest: number; active: number; users: { name: string; revision: unknown; resolved: unknown }[] };
      expect(json.latest).to.equal(3);
      expect(json.active).to.equal(2);
      expect(json.users.map((u) => [u.name, u.revision, u.resolved])).to.deep.equal([['churn', 'active', 2], ['forecast', 1, 1], ['scorer', 'active', 2]]);

      // Deleted from the work tree but in history: still answered, with its users.
      await rm(join(dir, 'environments/r.yaml'));
      const gone = await envctl(dir, 'usage', 'r');
      expect(gone.code).to.equal(0);
      expect(gone.err).to.contain('deleted from the work tree');
      expect(gone.out).to.contain('sales');
    });

    it('an unknown environment or a wrong argument count is a usage error (exit 2)', async () => {
      const dir = await repo({ 'environments/python-datascience.yaml': SPEC() });
      const unknown = await envctl(dir, 'usage', 'python');
      expect(unknown.code).to.equal(2);
      expect(unknown.err).to.contain('no environment "python" in environments/ or its history; did you mean "python-datascience"?');
      expect((await envctl(dir, 'usage')).code).to.equal(2);
      expect((await envctl(dir, 'usage', 'a', 'b')).code).to.equal(2);
      const empty = await envctl(dir, 'usage', 'python-datascience');
      expect(empty.code).to.equal(0);
      expect(empty.out).to.equal('no project, model or data set uses environment "python-datascience"');
    });
  });

  describe('envctl duplicate', () => {
    it('copies a file environment with a new owner, without archived, comments and layout kept; it starts at revision 1', async () => {
      const source = SPEC(['archived: true   # retired']);
      const dir = await repo({ 'environments/legacy.yaml': source });
      const r = await envctl(dir, 'duplicate', 'legacy', 'fresh', '--owner', '@acme/newteam');
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.contain('wrote environments/fresh.yaml: a copy of legacy; owner @acme/newteam; left out: archived');
      expect(r.out).to.contain('git add environments/fresh.yaml && git commit');
      const copy = await readFile(join(dir, 'environments/fresh.yaml'), 'utf8');
      expect(copy).to.equal(source.replace('"@acme/platform"', '"@acme/newteam"').replace('archived: true   # retired\n', ''));
      expect(await readFile(join(dir, 'environments/legacy.yaml'), 'utf8')).to.equal(source);
      const v = await envctl(dir, 'validate', 'fresh');
      expect(v.code, v.out).to.equal(0);

      await commit(dir, {}, 'Add fresh');
      const revs = await envctl(dir, 'revisions', 'fresh', '--json');
      expect((JSON.parse(revs.out) as { number: number }[]).map((x) => x.number)).to.deep.equal([1]);
    });

    it('copies a folder environment whole (files, executable bits), keeping the source\'s owner by default', async () => {
      const dir = await repo({
        'environments/tools/environment.yaml': SPEC(['renamedFrom: older']).replace('instructions: |\n  RUN true', 'instructions: |\n  COPY start /opt/start'),
        'environments/tools/start': '#!/bin/sh\necho hi\n',
      });
      await chmod(join(dir, 'environments/tools/start'), 0o755);
      const r = await envctl(dir, 'duplicate', 'tools', 'tools-2');
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.contain('wrote environments/tools-2/ (2 files): a copy of tools; owner @acme/platform; left out: renamedFrom');
      const spec = await readFile(join(dir, 'environments/tools-2/environment.yaml'), 'utf8');
      expect(spec).to.not.contain('renamedFrom');
      expect(spec).to.contain('owner: "@acme/platform"   # platform team');
      expect(await readFile(join(dir, 'environments/tools-2/start'), 'utf8')).to.equal('#!/bin/sh\necho hi\n');
      expect((await stat(join(dir, 'environments/tools-2/start'))).mode & 0o111).to.not.equal(0);
    });

    it('refuses an existing target, an invalid name, an unknown source and a bad owner (exit 2), writing nothing', async () => {
      const dir = await repo({ 'environments/a.yaml': SPEC(), 'environments/b.yaml': SPEC(['description: b']) });
      const before = await readFile(join(dir, 'environments/b.yaml'), 'utf8');
      const exists = await envctl(dir, 'duplicate', 'a', 'b');
      expect(exists.code).to.equal(2);
      expect(exists.err).to.contain('environment "b" already exists (environments/b.yaml)');
      expect(await readFile(join(dir, 'environments/b.yaml'), 'utf8')).to.equal(before);
      const bad = await envctl(dir, 'duplicate', 'a', 'Not_Valid');
      expect(bad.code).to.equal(2);
      expect(bad.err).to.contain('"Not_Valid" is not a valid environment name');
      const unknown = await envctl(dir, 'duplicate', 'nope', 'c');
      expect(unknown.code).to.equal(2);
      expect(unknown.err).to.contain('no environment "nope"');
      expect((await envctl(dir, 'duplicate', 'a', 'c', '--owner', 'not an owner')).code).to.equal(2);
      expect((await envctl(dir, 'duplicate', 'a')).code).to.equal(2);
      expect((await git(dir, 'status', '--porcelain'))).to.equal('');
    });
  });
});
