/** `tests:` in the environment YAML: the schema's shape and the check's located problems (pure). */
import { expect } from 'chai';
import { expectPattern, testCommands, toolWaitSeconds, type EnvironmentSpec } from '../src/model/spec.js';
import { runArgs, START_CHECK } from '../src/builder/tests.js';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runEnvctl } from './fixtures/cli.js';
import { check, removeDir, tempDir, writeTree, yaml, type Run } from './helpers.js';

const env = (...lines: string[]) => yaml('owner: alice', ...lines);
const located = (r: Run) => r.all.map((p) => [p.line, p.col, p.severity, p.rule, p.message]);

describe('tests: in the environment YAML', () => {
  it('accepts commands as strings and in the long form, and tools as true or with a timeout', () => {
    const r = check({
      'environments/a.yaml': env(
        'tests:',
        '  commands:',
        '    - python3 -c "import sklearn"',
        '    - name: ggplot2',
        '      run: R -e \'library(ggplot2)\'',
        '      expect: "^\\\\[1\\\\] TRUE"',
        '      timeout: 60',
        '    - run: [python3, --version]',
        '  tools: { timeout: 30 }',
      ),
    });
    expect(located(r)).to.deep.equal([]);
    const spec = r.environments[0]!.spec;
    expect(testCommands(spec)).to.deep.equal([
      { index: 0, name: 'python3 -c "import sklearn"', argv: ['/bin/sh', '-c', 'python3 -c "import sklearn"'], timeoutSeconds: 120 },
      { index: 1, name: 'ggplot2', argv: ['/bin/sh', '-c', 'R -e \'library(ggplot2)\''], expect: '^\\[1\\] TRUE', timeoutSeconds: 60 },
      { index: 2, name: 'python3 --version', argv: ['python3', '--version'], timeoutSeconds: 120 },
    ]);
    expect(toolWaitSeconds(spec)).to.equal(30);
    expect(toolWaitSeconds({ owner: 'a', tests: { tools: true } })).to.equal(60);
    expect(toolWaitSeconds({ owner: 'a', tests: { tools: false } })).to.equal(undefined);
    expect(toolWaitSeconds({ owner: 'a' } as EnvironmentSpec)).to.equal(undefined);
  });

  it('locates an expect that is not a regular expression at its value', () => {
    const r = check({ 'environments/a.yaml': env('tests:', '  commands:', '    - run: "true"', '      expect: "(unclosed"') });
    expect(located(r)).to.deep.equal([
      [5, 15, 'error', 'test-expect', 'test "true": expect is not a regular expression (/(unclosed/m: Unterminated group)'],
    ]);
  });

  it('warns of an expect any output matches, and refuses a name used twice', () => {
    const r = check({ 'environments/a.yaml': env('tests:', '  commands:', '    - { name: t, run: "true", expect: ".*" }', '    - { name: t, run: "false" }', '    - "true"', '    - "true"') });
    expect(located(r)).to.deep.equal([
      [4, 39, 'warning', 'test-expect-empty', 'test "t": expect matches any output, even none, so it checks nothing; the exit code alone decides'],
      [5, 15, 'error', 'test-name-duplicate', 'test "t" is named twice (also test 1); give one a distinct name: so a failure names one test'],
      [7, 7, 'error', 'test-name-duplicate', 'test "true" is named twice (also test 3); give one a distinct name: so a failure names one test'],
    ]);
  });

  it('reports wrong shapes at their place, every one in one run', () => {
    const r = check({ 'environments/a.yaml': env('tests:', '  commands:', '    - { run: "true", timeout: 0 }', '    - { run: [] }', '    - { rn: x }', '    - 5', '  tools: sometimes', '  extra: 1') });
    expect(r.all.map((p) => [p.line, p.col, p.severity, p.rule, p.message.replace(/ \(true: .*$/, '')])).to.deep.equal([
      [4, 31, 'error', 'schema', 'tests.commands[0].timeout must be >= 1'],
      [5, 14, 'error', 'schema', 'tests.commands[1].run must NOT have fewer than 1 items'],
      [6, 7, 'error', 'schema', 'tests.commands[2] must be a string or a mapping with run, not a mapping'],
      [7, 7, 'error', 'schema', 'tests.commands[3] must be a string or a mapping with run, not number 5'],
      [8, 10, 'error', 'schema', 'tests.tools must be a boolean or a mapping, not string "sometimes"'],
      [9, 3, 'error', 'schema-unknown-field', 'unknown field "extra" in tests; known fields: commands, tools'],
    ]);
    expect(r.environments).to.deep.equal([]);
  });

  it('envctl validate prints each as file:line:col with its rule and exits 1', async () => {
    const dir = await tempDir('envctl-tests-validate-');
    try {
      await writeTree(dir, {
        'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }', 'imageLayers: { "debian:bookworm": 1 }'),
        'environments/a.yaml': env('tests:', '  commands:', '    - { run: "true", expect: "[" }', '    - { name: "true", run: "false" }'),
      });
      const r = await runEnvctl(dir, ['validate']);
      expect(r.code).to.equal(1);
      expect(r.out.split('\n').filter((l) => /\[test-/.test(l))).to.deep.equal([
        'environments/a.yaml:4:30: error: test "true": expect is not a regular expression (/[/m: Unterminated character class) [test-expect]',
        'environments/a.yaml:5:15: error: test "true" is named twice (also test 1); give one a distinct name: so a failure names one test [test-name-duplicate]',
      ]);
    } finally {
      await removeDir(dir);
    }
  });

  it('compiles patterns multiline, as the test step matches them', () => {
    expect(expectPattern('^b$').test('a\nb\nc')).to.equal(true);
  });
});

describe('image tests: the engine\'s commands', () => {
  const run = { engine: 'buildah' as const, image: `127.0.0.1:5000/envctl/a@sha256:${'a'.repeat(64)}`, env: [{ name: 'A', value: 'x y' }], insecure: true, storage: 'vfs' as const, isolation: 'oci' as const };
  it('a command runs in the working container with the builder\'s isolation and its private network, its argv as given', () => {
    const args = runArgs(run, 'envctl-test-1', ['/bin/sh', '-c', 'echo "$HOME"; rm -rf /']);
    expect(args.slice(0, 3)).to.deep.equal(['--storage-driver', 'vfs', 'run']);
    expect(args).to.include('--isolation');
    expect(args).not.to.include('--network');
    expect(args.slice(-5)).to.deep.equal(['envctl-test-1', '--', '/bin/sh', '-c', 'echo "$HOME"; rm -rf /']);
    expect(args).to.include('A=x y');
  });

  it('a tool gets the host network and the project folder; podman runs a fresh container by digest', () => {
    const tool = runArgs(run, 'c', ['x'], { host: true, mount: { host: '/tmp/p', container: '/mnt/project' } });
    expect(tool.join(' ')).to.contain('--network host --volume /tmp/p:/mnt/project');
    const podman = runArgs({ ...run, engine: 'podman' }, undefined, ['id']);
    expect(podman.slice(0, 4)).to.deep.equal(['run', '--rm', '--pull=missing', '--tls-verify=false']);
    expect(podman.slice(-2)).to.deep.equal([run.image, 'id']);
  });

  it('the start check takes the start as an argument: found, missing, not executable, a folder, a name on PATH; nothing in it runs', async () => {
    const dir = await tempDir('envctl-start-check-');
    try {
      await writeFile(join(dir, 'ok'), '#!/bin/sh\n', { mode: 0o755 });
      await writeFile(join(dir, 'plain'), 'x', { mode: 0o644 });
      await mkdir(join(dir, 'venv', 'bin'), { recursive: true });
      await writeFile(join(dir, 'venv', 'bin', 'envctl-venv-tool'), '#!/bin/sh\n', { mode: 0o755 });
      const checkStart = async (start: string, venv = '') => {
        const r = await execa('/bin/sh', ['-c', START_CHECK, 'sh', venv, start], { reject: false, all: true, env: { PATH: '/usr/bin:/bin' } });
        return [r.exitCode, String(r.all).replace(dir, 'DIR')];
      };
      expect(await checkStart(join(dir, 'ok'))).to.deep.equal([0, '']);
      // A bare name is looked up on PATH, the venv's bin first, as at run time.
      expect(await checkStart('envctl-venv-tool')).to.deep.equal([3, 'envctl: envctl-venv-tool is not found on PATH (/usr/bin:/bin)']);
      expect(await checkStart('envctl-venv-tool', join(dir, 'venv'))).to.deep.equal([0, '']);
      expect(await checkStart(join(dir, 'plain'))).to.deep.equal([4, `envctl: DIR/plain is not executable by ${(await execa('id', ['-un'])).stdout}`]);
      expect(await checkStart(dir)).to.deep.equal([4, 'envctl: DIR is a folder, not a program']);
      const hostile = `${dir}/x; touch ${dir}/pwned`;
      expect(await checkStart(hostile)).to.deep.equal([3, `envctl: DIR/x; touch ${dir}/pwned does not exist in the image`]);
      expect(await checkStart('sh')).to.deep.equal([0, '']);
      expect(existsSync(join(dir, 'pwned'))).to.equal(false);
    } finally {
      await removeDir(dir);
    }
  });
});
