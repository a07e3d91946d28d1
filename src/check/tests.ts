/**
 * Rules on `tests:`: each `expect` must compile as the test step compiles it
 * (a pattern that does not would fail every build's tests, so it is caught
 * at review, located), a pattern any output matches is said to test nothing,
 * and two tests of one name would make a failure's report ambiguous.
 */
import { problem, type Problem } from '../model/problem.js';
import { expectPattern, testCommands, type EnvironmentSpec } from '../model/spec.js';
import { position, type SourceMap } from '../schema/index.js';

export function checkTests(spec: EnvironmentSpec, source: SourceMap): Problem[] {
  const out: Problem[] = [];
  const seen = new Map<string, number>();
  for (const test of testCommands(spec)) {
    const at = `/tests/commands/${test.index}`;
    if (test.expect !== undefined) {
      let pattern: RegExp | undefined;
      try {
        pattern = expectPattern(test.expect);
      } catch (err) {
        out.push(problem(position(source, `${at}/expect`, 'value'), 'error', 'test-expect',
          `test "${test.name}": expect is not a regular expression (${(err as Error).message.replace(/^Invalid regular expression: /, '')})`));
      }
      if (pattern?.test('')) {
        out.push(problem(position(source, `${at}/expect`, 'value'), 'warning', 'test-expect-empty',
          `test "${test.name}": expect matches any output, even none, so it checks nothing; the exit code alone decides`));
      }
    }
    const first = seen.get(test.name);
    if (first !== undefined) {
      out.push(problem(position(source, typeof spec.tests!.commands![test.index] === 'string' ? at : `${at}/name`, 'value'), 'error', 'test-name-duplicate',
        `test "${test.name}" is named twice (also test ${first + 1}); give one a distinct name: so a failure names one test`));
    } else seen.set(test.name, test.index);
  }
  return out;
}
