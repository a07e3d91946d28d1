/**
 * Every problem in one run: a schema error hides no problem of a field it
 * does not touch, and `render --out` without names writes what is valid.
 */
import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Problem } from '../src/model/problem.js';
import { runEnvctl } from './fixtures/cli.js';
import { commit, git } from './fixtures/repo.js';
import { byRule, check, config, removeDir, tempDir, yaml } from './helpers.js';

const at = (ps: Problem[]) => ps.map((p) => [p.file, p.line, p.col, p.rule]);
const rules = (ps: Problem[]) => [...new Set(ps.map((p) => p.rule))].sort();

describe('one run: checks past a schema error', () => {
  it('one file with a schema error, a base cycle, a missing COPY source, a FROM and a refused docker argument: all reported at their place', () => {
    const r = check({
      'environments/a/environment.yaml': yaml(
        'owner: "@acme/team"',
        'visibility: nope',
        'base: { environment: b }',
        'dockerArguments:',
        '  - "--privileged"',
        'instructions: |',
        '  FROM ubuntu',
        '  COPY missing.txt /opt/',
      ),
      'environments/a/setup.sh': 'echo hi\n',
      'environments/b.yaml': yaml('owner: "@acme/team"', 'base: { environment: a }'),
    });
    const a = r.all.filter((p) => p.file === 'environments/a/environment.yaml');
    expect(at(a)).to.deep.equal([
      ['environments/a/environment.yaml', 2, 13, 'schema-enum'],
      ['environments/a/environment.yaml', 3, 22, 'base-cycle'],
      ['environments/a/environment.yaml', 4, 1, 'policy-administrator-field'],
      ['environments/a/environment.yaml', 5, 5, 'policy-docker-argument'],
      ['environments/a/environment.yaml', 7, 3, 'instructions-from'],
      ['environments/a/environment.yaml', 8, 3, 'copy-missing'],
    ]);
    expect(byRule(r, 'base-cycle')[0]!.message).to.contain('a → b → a');
    // Checked, but not renderable: only b (valid, on a cycle) is a typed environment.
    expect(r.environments.map((e) => e.name)).to.deep.equal(['b']);
  });

  it('a broken field skips only the checks that read it: no repeat and no false finding', () => {
    const r = check({
      // dockerArguments broken: no policy finding on them; the instructions are still checked.
      'environments/args.yaml': yaml('owner: "@acme/team"', 'dockerArguments: ["--privileged", 3]', 'instructions: |', '  FROM ubuntu'),
      // base broken: it names no base (no base-unknown for "nowhere", no layer count); variables still checked.
      'environments/base.yaml': yaml('owner: "@acme/team"', 'base: { environment: nowhere, revison: 2 }', 'variables:', '  API_TOKEN: "abc"'),
      // instructions broken: no instruction or layer finding; policy still checked.
      'environments/ins.yaml': yaml('owner: "@acme/team"', 'instructions: 5', 'vpn: true'),
    });
    expect(rules(r.all.filter((p) => p.file === 'environments/args.yaml'))).to.deep.equal(['instructions-from', 'schema-type']);
    expect(at(r.all.filter((p) => p.file === 'environments/base.yaml'))).to.deep.equal([
      ['environments/base.yaml', 2, 31, 'schema-unknown-field'],
      ['environments/base.yaml', 4, 14, 'variable-secret-value'],
    ]);
    expect(rules(r.all.filter((p) => p.file === 'environments/ins.yaml'))).to.deep.equal(['policy-administrator-field', 'schema-type']);
    expect(r.environments).to.deep.equal([]);
    const keys = r.all.map((p) => JSON.stringify(p));
    expect(new Set(keys).size, 'no problem twice').to.equal(keys.length);
  });

  it('a spec that failed the schema still passes its docker arguments down the chain', () => {
    const r = check({
      'environments/parent.yaml': yaml('owner: "@acme/team"', 'visibility: nope', 'dockerArguments: ["--privileged"]'),
      'environments/child.yaml': yaml('owner: "@acme/team"', 'base: { environment: parent }'),
    }, { config: config({ policy: { administratorFields: ['*'] } }) });
    const refused = byRule(r, 'policy-docker-argument').map((p) => [p.file, p.line, p.col]);
    expect(refused).to.deep.equal([['environments/child.yaml', 2, 1], ['environments/parent.yaml', 3, 19]]);
    expect(r.environments.map((e) => e.name)).to.deep.equal(['child']);
  });

  it('no field is usable in a document that is no mapping: the schema error alone', () => {
    const r = check({ 'environments/list.yaml': yaml('- FROM ubuntu') });
    expect(rules(r.all)).to.deep.equal(['schema-type']);
  });
});

describe('one run: render --out without names', function () {
  this.timeout(30_000);
  const CONFIG = yaml('registry: { address: "127.0.0.1:1" }', 'imageLayers: { "debian:bookworm": 1 }');
  const good = (title: string) => yaml(`title: ${title}`, 'owner: "@acme/team"', 'base: { image: "debian:bookworm" }', 'instructions: |', '  RUN true');
  let dir: string;

  before(async () => {
    dir = await tempDir('envctl-one-run-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': CONFIG,
      '.gitignore': '.envctl/\nout/\nnamed/\n',
      'environments/one.yaml': good('One'),
      'environments/two.yaml': good('Two'),
      'environments/broken.yaml': yaml('owner: "@acme/team"', 'visibility: nope', 'base: { image: "debian:bookworm" }'),
      'environments/on-broken.yaml': yaml('owner: "@acme/team"', 'base: { environment: broken }'),
    }, 'initial');
  });

  after(async () => {
    await removeDir(dir);
  });

  it('writes the valid environments, reports the broken one and what stands on it, exits 1', async () => {
    const r = await runEnvctl(dir, ['render', '--out', 'out']);
    expect(r.code, r.err).to.equal(1);
    expect((await readdir(join(dir, 'out'))).sort()).to.deep.equal(['one', 'two']);
    expect(await readFile(join(dir, 'out', 'one', 'Dockerfile'), 'utf8')).to.contain('\nFROM debian:bookworm\n');
    expect(r.out).to.contain('environments/broken.yaml:2:13: error:').and.contain('[schema-enum]');
    expect(r.out).to.match(/^one\tsha256:[0-9a-f]{64}\t/m).and.match(/^two\tsha256:[0-9a-f]{64}\t/m);
    expect(r.err).to.contain('not rendered: broken, on-broken (1 error in them or what they are built on)');
  });

  it('named environments stay all or nothing: one broken name writes none', async () => {
    const r = await runEnvctl(dir, ['render', '--out', 'named', 'one', 'broken']);
    expect(r.code).to.equal(1);
    expect(await readdir(dir)).to.not.include('named');
    const ok = await runEnvctl(dir, ['render', '--out', 'named', 'one', 'two']);
    expect(ok.code, ok.err).to.equal(0);
    expect((await readdir(join(dir, 'named'))).sort()).to.deep.equal(['one', 'two']);
  });
});
