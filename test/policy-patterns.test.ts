/** check/policy.ts allowedBy keeps compiled patterns: asked again, and after the cache is cleared, the answers stay. */
import { expect } from 'chai';
import { allowedBy } from '../src/check/policy.js';

describe('policy patterns (compiled once)', () => {
  it('answers the same when asked again, for wildcards and regex characters alike', () => {
    const cases: [string[], string, boolean][] = [
      [['team-*'], 'team-a', true], [['team-*'], 'xteam-a', false], [['a.b'], 'a.b', true], [['a.b'], 'axb', false],
      [['*'], '', true], [['x(y)+'], 'x(y)+', true], [['x(y)+'], 'xyy', false], [['p-*-q'], 'p-1-q', true], [[], 'any', false],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [patterns, name, expected] of cases) expect(allowedBy(patterns, name), `${patterns} ${name}`).to.equal(expected);
    }
    for (let i = 0; i < 1100; i++) expect(allowedBy([`env-${i}-*`], `env-${i}-x`)).to.equal(true); // past the bound: cleared, still right
    for (const [patterns, name, expected] of cases) expect(allowedBy(patterns, name)).to.equal(expected);
  });
});
