import { expect } from 'chai';
import { loadConfig } from '../src/config/index.js';
import { byRule, check, config, yaml } from './helpers.js';

const env = (...lines: string[]) => yaml('owner: alice', ...lines);
const args = (...a: string[]) => `dockerArguments: ${JSON.stringify(a)}`;
const on = (base: string) => `base: { environment: ${base} }`;
type Policy = NonNullable<Parameters<typeof config>[0]>['policy'];
const run = (files: Record<string, string>, policy: Policy) => check(files, { config: config({ policy: { administratorFields: ['*'], ...policy } }) });
/** [file, line, col, message] of the docker-argument refusals. */
const refused = (r: ReturnType<typeof check>) => r.all.filter((p) => p.rule === 'policy-docker-argument' || p.rule === 'docker-argument-syntax').map((p) => [p.file, p.line, p.col, p.message]);

describe('policy along the base chain', () => {
  it('two levels: arguments inherited from a base are checked for the environment\'s own name, at its base key', () => {
    const files = { 'environments/b.yaml': env(args('--privileged', '--shm-size=1g')), 'environments/a.yaml': env('title: A', on('b')) };
    const r = run(files, { privileged: ['b'] });
    const found = refused(r);
    expect(found.map((f) => f.slice(0, 3))).to.deep.equal([['environments/a.yaml', 3, 1]]);
    expect(found[0]![3]).to.contain('"--privileged", inherited from base environment "b"').and.contain('list "a" under policy.privileged');
    expect(refused(run(files, { privileged: ['a', 'b'] }))).to.deep.equal([]);
    expect(refused(run(files, { privileged: ['*'] }))).to.deep.equal([]);
    // Nothing to inherit: the base's harmless arguments alone give no error.
    expect(refused(run({ 'environments/b.yaml': env(args('--shm-size=1g')), 'environments/a.yaml': env(on('b')) }, {}))).to.deep.equal([]);
  });

  it('three levels: every environment below the one allowed is refused, each naming the base the argument comes from', () => {
    const files = {
      'environments/c.yaml': env(args('-v', '/etc:/x')),
      'environments/b.yaml': env(on('c'), args('--cpus=2')),
      'environments/a.yaml': env(on('b'), args('--memory=4g')),
    };
    const found = refused(run(files, { hostMounts: ['c'] }));
    expect(found.map((f) => f.slice(0, 3))).to.deep.equal([['environments/a.yaml', 2, 1], ['environments/b.yaml', 2, 1]]);
    for (const f of found) expect(f[3]).to.contain('"-v", inherited from base environment "c"').and.contain('host path /etc');
    expect(refused(run(files, { hostMounts: ['c', 'b'] })).map((f) => f[0])).to.deep.equal(['environments/a.yaml']);
    expect(refused(run(files, { hostMounts: ['c', 'b', 'a'] }))).to.deep.equal([]);
    // The allowance by name follows the chain the same way.
    const byName = { ...files, 'environments/c.yaml': env(args('--runtime=nvidia')) };
    expect(refused(run(byName, { arguments: { '--runtime': ['c', 'b'] } })).map((f) => f[0])).to.deep.equal(['environments/a.yaml']);
  });

  it('reads the inherited and own arguments as one list, as the run spec joins them (farthest base first)', () => {
    // The base's last word wants a value: at run time it takes the environment's first word.
    const files = { 'environments/b.yaml': env(args('--shm-size=1g', '--network')), 'environments/a.yaml': env(on('b'), args('host')) };
    const found = refused(run(files, {}));
    expect(found.find((f) => f[0] === 'environments/b.yaml')![3]).to.contain('is the last argument');
    const own = found.filter((f) => f[0] === 'environments/a.yaml');
    expect(own.map((f) => f.slice(1, 3))).to.deep.equal([[2, 1]]);
    expect(own[0]![3]).to.contain('"--network", inherited from base environment "b"').and.contain("shares the host's network");
    // An own argument that reads harmlessly alone is still judged in the joined list.
    expect(refused(run({ 'environments/b.yaml': env(args('-i')), 'environments/a.yaml': env(on('b'), args('-tv/etc:/x')) }, {})).map((f) => f[0])).to.deep.equal(['environments/a.yaml']);
  });

  it('stops at a cycle or a missing base', () => {
    const r = run({ 'environments/a.yaml': env(on('b'), args('--privileged')), 'environments/b.yaml': env(on('a'), args('--cap-add=ALL')) }, { privileged: ['a'] });
    expect(byRule(r, 'base-cycle')).to.have.length(1);
    // On a cycle nothing is inherited (the cycle is its own error; nothing on it builds or runs): b is refused its own --cap-add.
    expect(refused(r).map((f) => [f[0], String(f[3]).split('"')[1]])).to.deep.equal([['environments/b.yaml', '--cap-add=ALL']]);
    // What leads into a cycle inherits from the member it stands on.
    const into = run({ 'environments/a.yaml': env(on('b')), 'environments/b.yaml': env(on('a')), 'environments/c.yaml': env(on('a'), args('--rm')) }, {});
    expect(refused(into)).to.deep.equal([]);
    const intoPrivileged = run({ 'environments/a.yaml': env(on('b'), args('--privileged')), 'environments/b.yaml': env(on('a')), 'environments/c.yaml': env(on('a')) }, { privileged: ['a'] });
    expect(refused(intoPrivileged).map((f) => [f[0], String(f[3]).split('"')[1]])).to.deep.equal([['environments/c.yaml', '--privileged']]);
    expect(refused(run({ 'environments/a.yaml': env(on('gone'), args('--rm')) }, {}))).to.deep.equal([]);
  });
});

describe('config: policy.arguments', () => {
  const load = (...lines: string[]) => loadConfig(new TextEncoder().encode(yaml(...lines)));
  it('maps long flag names to environment patterns; empty by default', () => {
    expect(load('policy:', '  privileged: [gpu-*]').config.policy.arguments).to.deep.equal({});
    const ok = load('policy:', '  arguments:', '    --runtime: ["gpu-*"]', '    --foo: [a, "b*"]');
    expect(ok.problems).to.deep.equal([]);
    expect(ok.config.policy.arguments).to.deep.equal({ '--runtime': ['gpu-*'], '--foo': ['a', 'b*'] });
  });

  it('refuses a key that is no long flag name and a pattern that is no name pattern', () => {
    for (const bad of [['    runtime: [a]'], ['    -v: [a]'], ['    --Runtime: [a]'], ['    --runtime: ["a b"]'], ['    --runtime: a']]) {
      const r = load('policy:', '  arguments:', ...bad);
      expect(r.problems.length, bad[0]).to.be.greaterThan(0);
      expect(r.problems[0]!.line, bad[0]).to.be.within(2, 3);
      expect(r.config.policy.arguments).to.deep.equal({});
    }
  });

  it('a run over 1,000 docker arguments along the chain is refused unread, at the base key of each environment past it', () => {
    const files: Record<string, string> = {};
    const name = (i: number) => `e${String(i).padStart(4, '0')}`;
    // e0000 on e0001 on … on e1199; each passes three harmless words, so e0000 would inherit 3,597.
    for (let i = 0; i < 1200; i++) files[`environments/${name(i)}.yaml`] = env(...(i < 1199 ? [on(name(i + 1))] : []), args('--shm-size=1g', '-e', 'A=1'));
    const over = byRule(run(files, {}), 'docker-argument-syntax');
    // Environments up to 333 bases deep inherit at most 999 words; the rest are over.
    expect(over.map((p) => p.file)).to.deep.equal(Object.keys(files).sort().slice(0, 1200 - 334));
    expect(over[0]!.message).to.equal('the run would carry more than 1000 docker arguments with those inherited along the base chain; envctl reads at most 1000');
    expect([over[0]!.line, over[0]!.col]).to.deep.equal([2, 1]);
    const own = byRule(run({ 'environments/a.yaml': env(args(...Array.from({ length: 1001 }, () => '--rm'))) }, {}), 'docker-argument-syntax');
    expect(own.map((p) => [p.line, p.col, p.message])).to.deep.equal([[2, 1, 'the run would carry more than 1000 docker arguments; envctl reads at most 1000']]);
  });
});
