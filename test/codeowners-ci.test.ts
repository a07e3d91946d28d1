/**
 * CODEOWNERS against hostile layouts: consumers' owners, paths CI names
 * inside owners' files (package.json scripts, workflow `run:`, `uses: ./`,
 * `working-directory`, variables and wildcards), owner folders that overlap
 * the administrators' files, and the repository's own file kept current.
 */
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { packageScriptPaths, shellPaths, shellWords, workflowPaths } from '../src/ownership/ci-paths.js';
import { CODEOWNERS_FILE, generateCodeowners, type CodeownersInput, type OwnedConsumer, type OwnedEnvironment } from '../src/ownership/codeowners.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';

const ADMINS = '@acme/admins';

/** The owners GitHub applies to a path: the last matching rule (same semantics as codeowners.test.ts). */
function ownersOf(text: string, path: string): string[] | undefined {
  let owners: string[] | undefined;
  for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
    const m = /^((?:\\.|\S)+)\s+(.*)$/.exec(line)!;
    if (matches(m[1]!, path)) owners = m[2]!.split(/\s+/);
  }
  return owners;
}

function matches(pattern: string, path: string): boolean {
  if (pattern === '*') return true;
  let re = '';
  for (let i = 1; i < pattern.length; i++) {
    const c = pattern[i]!;
    const lit = (x: string) => x.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    if (c === '\\') re += lit(pattern[++i]!);
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += lit(c);
  }
  if (pattern.endsWith('/')) return new RegExp(`^${re}`).test(path);
  return new RegExp(`^${re}${/[*?]$/.test(pattern) ? '' : '(/.*)?'}$`).test(path);
}

const env = (name: string, owner: string, folder = true): OwnedEnvironment =>
  ({ name, path: folder ? `environments/${name}` : `environments/${name}.yaml`, folder, owner });
const consumer = (kind: OwnedConsumer['kind'], name: string, owner: string | undefined, folder = true): OwnedConsumer => {
  const dir = { project: 'projects', model: 'models', dataset: 'datasets' }[kind];
  return { kind, name, path: folder ? `${dir}/${name}` : `${dir}/${name}.yaml`, folder, owner };
};

function generate(extra: Partial<CodeownersInput>): string {
  return generateCodeowners({ environmentsDir: 'environments', administrators: [ADMINS], administratorFields: [], environments: [env('py', '@data')], ...extra }).text;
}

describe('codeowners: consumers get their owner\'s review', () => {
  it('gives each project, model and data set (folder or file) to its owner; another team\'s job needs that team', () => {
    const text = generate({
      consumers: [
        consumer('project', 'churn', '@acme/analytics'),
        consumer('project', 'forecast', 'forecasters', false),
        consumer('model', 'ranker', '@acme/ml'),
        consumer('dataset', 'sales', 'jo@example.com', false),
      ],
    });
    expect(ownersOf(text, 'projects/churn/project.yaml')).to.deep.equal(['@acme/analytics']);
    expect(ownersOf(text, 'projects/churn/train.py')).to.deep.equal(['@acme/analytics']);
    expect(ownersOf(text, 'projects/forecast.yaml')).to.deep.equal(['@forecasters']);
    expect(ownersOf(text, 'models/ranker/model.yaml')).to.deep.equal(['@acme/ml']);
    expect(ownersOf(text, 'datasets/sales.yaml')).to.deep.equal(['jo@example.com']);
    // Not anyone's: the administrators, never nobody.
    expect(ownersOf(text, 'projects/new-one.yaml')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'projects/README.md')).to.deep.equal([ADMINS]);
  });

  it('skips a consumer whose owner would change what the line means, and its files fall to the administrators', () => {
    const result = generateCodeowners({
      environmentsDir: 'environments', administrators: [ADMINS], administratorFields: [], environments: [],
      consumers: [consumer('project', 'evil', '@a\n* @mallory'), consumer('model', 'none', undefined), consumer('dataset', 'ok', '@x')],
    });
    expect(result.text).to.not.contain('mallory');
    expect(result.skipped.map((s) => s.name)).to.deep.equal(['project/evil', 'model/none']);
    expect(ownersOf(result.text, 'projects/evil/project.yaml')).to.deep.equal([ADMINS]);
    expect(result.rules.find((r) => r.consumer === 'dataset/ok')?.owners).to.deep.equal(['@x']);
  });
});

describe('codeowners: what decides what CI runs stays with the administrators', () => {
  it('an environment folder placed over the administrators\' files does not win', () => {
    // environmentsDir is envctl.yaml's (administrators'), but a folder there must still not take src/ or .github/.
    for (const dir of ['src', '.github', 'scripts', 'test']) {
      const text = generateCodeowners({
        environmentsDir: dir, administrators: [ADMINS], administratorFields: [],
        environments: [{ name: 'x', path: `${dir}/x`, folder: true, owner: '@mallory' }, { name: 'y', path: `${dir}/y.yaml`, owner: '@mallory' }],
      }).text;
      expect(ownersOf(text, `${dir}/x/environment.yaml`), dir).to.deep.equal([ADMINS]);
      expect(ownersOf(text, `${dir}/y.yaml`), dir).to.deep.equal([ADMINS]);
    }
  });

  it('keeps every fixed CI file with the administrators even though a catch-all covers them', () => {
    const text = generate({});
    for (const path of ['tsconfig.json', 'tsconfig.build.json', '.npmrc', '.mocharc.cjs', '.mocharc.yml', 'test/x.test.ts', 'bench/run.ts',
      'package.json', 'package-lock.json', '.github/workflows/ci.yml', '.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS', 'envctl.yaml', 'action.yml', 'bin/envctl.js']) {
      expect(ownersOf(text, path), path).to.deep.equal([ADMINS]);
    }
    expect(ownersOf(text, 'environments/py/Dockerfile.extra')).to.deep.equal(['@data']);
  });

  it('takes back a path a package script names inside an owner\'s folder', () => {
    const pkg = { path: 'package.json', text: JSON.stringify({ scripts: { prepare: 'tsc -p . && node environments/py/gen.mjs', test: 'bash "projects/churn/ci check.sh" --x=models/ranker/eval.py' } }) };
    const ciPaths = packageScriptPaths(pkg);
    const text = generate({ consumers: [consumer('project', 'churn', '@analytics'), consumer('model', 'ranker', '@ml')], ciPaths });
    expect(ownersOf(text, 'environments/py/gen.mjs')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'projects/churn/ci check.sh')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'models/ranker/eval.py')).to.deep.equal([ADMINS]);
    // The rest of their folders stays theirs.
    expect(ownersOf(text, 'environments/py/environment.yaml')).to.deep.equal(['@data']);
    expect(ownersOf(text, 'projects/churn/project.yaml')).to.deep.equal(['@analytics']);
    expect(text).to.contain('/projects/churn/ci\\ check.sh @acme/admins');
  });

  it('takes back what a workflow runs: run:, uses: ./, working-directory, variables as wildcards', () => {
    const workflow = {
      path: '.github/workflows/jobs.yml',
      text: yaml(
        'on: push',
        'jobs:',
        '  train:',
        '    defaults: { run: { working-directory: projects/churn } }',
        '    steps:',
        '      - run: ./train.sh --data ../../datasets/sales/load.py',
        '      - uses: ./models/ranker/action',
        '      - run: python score.py',
        '        working-directory: models/ranker',
        '  all:',
        '    steps:',
        '      - run: bash "projects/${{ matrix.name }}/run.sh" && sh $GITHUB_WORKSPACE/projects/$P/post.sh',
        '  reuse:',
        '    uses: ./environments/py/ci.yml',
      ),
    };
    const ciPaths = workflowPaths(workflow);
    const text = generate({
      consumers: [consumer('project', 'churn', '@analytics'), consumer('project', 'other', '@other'), consumer('model', 'ranker', '@ml'), consumer('dataset', 'sales', '@sales')],
      ciPaths,
    });
    expect(ownersOf(text, 'projects/churn/train.sh')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'datasets/sales/load.py')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'models/ranker/action/action.yml')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'models/ranker/score.py')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'environments/py/ci.yml')).to.deep.equal([ADMINS]);
    // A variable in the path: every project's run.sh and post.sh, not the rest of their folders.
    expect(ownersOf(text, 'projects/other/run.sh')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'projects/other/post.sh')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'projects/other/project.yaml')).to.deep.equal(['@other']);
    const rule = generateCodeowners({ environmentsDir: 'environments', administrators: [ADMINS], administratorFields: [], environments: [], consumers: [consumer('project', 'other', '@o')], ciPaths }).rules.find((r) => r.pattern === '/projects/*/run.sh');
    expect(rule?.namedBy).to.deep.equal(['.github/workflows/jobs.yml']);
  });

  it('reads a composite action\'s steps and a JavaScript action\'s entry points relative to the action', () => {
    const action = { path: 'action.yml', text: yaml('runs:', '  using: composite', '  steps:', '    - run: node "$GITHUB_ACTION_PATH/projects/churn/hook.js"', '      shell: bash') };
    const js = { path: 'action.yml', text: yaml('runs:', '  using: node20', '  main: projects/churn/index.js', '  post: ./projects/churn/../churn/post.js') };
    const paths = [...workflowPaths(action, ''), ...workflowPaths(js, '')].map((p) => p.path);
    expect(paths).to.include.members(['projects/churn/hook.js', 'projects/churn/index.js', 'projects/churn/post.js']);
  });

  it('does not hand whole owner folders over for naming the folders that hold them, and ignores what is no repository path', () => {
    const ciPaths = [
      ...shellPaths('envctl validate environments && du -sh projects/ && ls ./environments/', '', 'w.yml'),
      ...shellPaths('cat /etc/passwd ~/x $HOME/environments/py/x https://x.example/projects/churn/y ../../escape/projects/churn', '', 'w.yml'),
      ...shellPaths('rm -rf * */ "$DIR"', '', 'w.yml'),
    ];
    const text = generate({ consumers: [consumer('project', 'churn', '@analytics')], ciPaths });
    expect(ownersOf(text, 'environments/py/environment.yaml')).to.deep.equal(['@data']);
    expect(ownersOf(text, 'projects/churn/project.yaml')).to.deep.equal(['@analytics']);
    expect(ciPaths.map((p) => p.path)).to.not.include.members(['etc/passwd', 'escape/projects/churn', '*']);
  });

  it('splits shell words as a shell would, close enough: quotes, escapes, operators, comments', () => {
    expect(shellWords(`a 'b c' "d \\" e" f\\ g h;i|j&&k>l <m $(n) \`o\` --p=q # r s\nt`)).to.deep.equal(
      ['a', 'b c', 'd " e', 'f g', 'h', 'i', 'j', 'k', 'l', 'm', '$', 'n', 'o', '--p', 'q', 't']);
  });

  it('survives hostile CI files: broken JSON or YAML, alias bombs, wrong shapes, huge words', () => {
    expect(packageScriptPaths({ path: 'package.json', text: '{"scripts":' })).to.deep.equal([]);
    expect(packageScriptPaths({ path: 'package.json', text: '{"scripts": ["x"]}' })).to.deep.equal([]);
    expect(workflowPaths({ path: 'w.yml', text: 'jobs: [unclosed' })).to.deep.equal([]);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`), 'jobs: { x: { steps: [{ run: "bash projects/a/x.sh" }] } }'].join('\n');
    expect(workflowPaths({ path: 'w.yml', text: bomb })).to.deep.equal([]);
    expect(workflowPaths({ path: 'w.yml', text: yaml('jobs:', '  a: 3', '  b: { steps: 4 }', '  c: { steps: [5, { run: 6, uses: 7 }] }') })).to.deep.equal([]);
    expect(shellPaths(`bash projects/${'a'.repeat(10_000)}/x.sh`, '', 'w').map((p) => p.path)).to.deep.equal(['bash']);
    expect(shellPaths('bash "projects/a\u0007/x.sh"', '', 'w').map((p) => p.path)).to.deep.equal(['bash']);
  });
});

describe('codeowners: the command reads package.json, the workflows and the action', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await tempDir('envctl-codeowners-ci-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }', `administrators: ["${ADMINS}"]`),
      'environments/py/environment.yaml': yaml('owner: "@data"', 'base: { image: "debian:bookworm" }', 'instructions: |', '  RUN true'),
      'environments/py/hook.sh': 'true\n',
      'projects/churn/project.yaml': yaml('owner: "@analytics"', 'environment: py', 'command: python train.py'),
      'projects/churn/train.py': 'print(1)\n',
      'models/ranker.yaml': yaml('owner: "@ml"', 'environment: py'),
      'package.json': JSON.stringify({ scripts: { prepare: 'bash environments/py/hook.sh' } }),
      '.github/workflows/ci.yml': yaml('on: push', 'jobs:', '  a:', '    steps:', '      - run: python projects/churn/train.py'),
    }, 'initial');
  });
  after(async () => removeDir(dir));

  it('writes consumer rules and takes back the files CI runs', async () => {
    const out: string[] = [];
    const code = await main(['codeowners', '-C', dir], { out: (t) => out.push(t), err: () => {}, cwd: dir, env: { ENVCTL_OFFLINE: '1' } });
    expect(code).to.equal(0);
    const text = await readFile(join(dir, CODEOWNERS_FILE), 'utf8');
    expect(ownersOf(text, 'projects/churn/project.yaml')).to.deep.equal(['@analytics']);
    expect(ownersOf(text, 'models/ranker.yaml')).to.deep.equal(['@ml']);
    expect(ownersOf(text, 'projects/churn/train.py')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'environments/py/hook.sh')).to.deep.equal([ADMINS]);
    expect(ownersOf(text, 'environments/py/environment.yaml')).to.deep.equal(['@data']);
  });
});

describe('codeowners: this repository', () => {
  it('commits the file `envctl codeowners` generates (the pull-request workflow checks it)', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['codeowners', '--check', '-C', root], { out: (t) => out.push(t), err: (t) => err.push(t), cwd: root, env: { ENVCTL_OFFLINE: '1' } });
    expect(code, [...out, ...err].join('\n')).to.equal(0);
  });
});
