/** `tests:` in the environment YAML: the schema's shape and the check's located problems (pure). */
import { expect } from 'chai';
import { expectPattern, testCommands, toolWaitSeconds, type EnvironmentSpec } from '../src/model/spec.js';
import { check, yaml, type Run } from './helpers.js';

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

  it('compiles patterns multiline, as the test step matches them', () => {
    expect(expectPattern('^b$').test('a\nb\nc')).to.equal(true);
  });
});
