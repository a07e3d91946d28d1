import { expect } from 'chai';
import { loadEnvironments } from '../src/load/environments.js';
import { MAX_SPEC_BYTES } from '../src/source/text.js';
import { parseYaml } from '../src/source/yaml.js';
import { loadConfig } from '../src/config/index.js';
import { byRule, check, snapshot, yaml } from './helpers.js';

describe('load: YAML with positions', () => {
  it('records where keys and values start, 1-based', () => {
    const r = parseYaml(yaml('owner: a', 'variables:', '  FOO: "1"', 'list:', '  - x', '  - y'), 'f.yaml');
    expect(r.problems).to.deep.equal([]);
    const at = (p: string, which: 'key' | 'value') => {
      const pos = r.positions.get(p)!;
      return r.lines.locate('f.yaml', which === 'key' ? pos.key! : pos.value);
    };
    expect(at('/variables/FOO', 'key')).to.include({ line: 3, col: 3 });
    expect(at('/variables/FOO', 'value')).to.include({ line: 3, col: 8 });
    expect(at('/list/1', 'value')).to.include({ line: 6, col: 5 });
  });

  it('reports every duplicate key, at the later one, naming the first line', () => {
    const r = parseYaml(yaml('owner: a', 'title: x', 'owner: b', 'scripts:', '  preRun: a', '  preRun: b'), 'f.yaml');
    const dups = r.problems.filter((p) => p.rule === 'yaml-duplicate-key');
    expect(dups.map((p) => [p.line, p.col])).to.deep.equal([[3, 1], [6, 3]]);
    expect(dups[0]!.message).to.contain('"owner"').and.contain('line 1');
  });

  it('passes a file without duplicates', () => {
    expect(parseYaml(yaml('owner: a', 'title: x'), 'f.yaml').problems).to.deep.equal([]);
  });

  it('locates syntax errors', () => {
    const r = parseYaml(yaml('owner: a', 'title: [x,', '  y: 1'), 'f.yaml');
    expect(r.problems).to.have.length(1);
    expect(r.problems[0]!.rule).to.equal('yaml-syntax');
    expect(r.problems[0]!.line).to.be.greaterThan(1);
    expect(r.value).to.equal(undefined);
  });

  it('refuses an alias bomb before expanding it', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const r = parseYaml(yaml(...lines), 'f.yaml');
    const bomb = r.problems.filter((p) => p.rule === 'yaml-alias-bomb');
    expect(bomb).to.have.length(1);
    expect(bomb[0]!.line).to.be.within(2, 9);
    expect(r.value).to.equal(undefined);
  });

  it('allows a few ordinary aliases', () => {
    const r = parseYaml(yaml('x: &v hello', 'y: *v'), 'f.yaml');
    expect(r.problems).to.deep.equal([]);
    expect(r.value).to.deep.equal({ x: 'hello', y: 'hello' });
  });

  it('refuses more than one document', () => {
    const r = parseYaml(yaml('owner: a', '---', 'owner: b'), 'f.yaml');
    expect(r.problems.map((p) => [p.rule, p.line])).to.deep.equal([['yaml-multiple-documents', 2]]);
  });
});

describe('load: files', () => {
  it('finds single-file and folder environments, with context files', () => {
    const r = loadEnvironments(snapshot({
      'environments/a.yaml': 'owner: x\n',
      'environments/b/environment.yaml': 'owner: x\n',
      'environments/b/requirements.txt': 'numpy\n',
      'environments/README.md': '# not an environment\n',
    }), 'environments');
    expect(r.problems).to.deep.equal([]);
    expect(r.environments.map((e) => [e.name, e.folder, e.context.map((f) => f.path)])).to.deep.equal([
      ['a', undefined, []],
      ['b', 'environments/b', ['environments/b/requirements.txt']],
    ]);
  });

  it('rejects bad names, .yml files, duplicates and folders without a spec', () => {
    const r = check({
      'environments/Bad_Name.yaml': 'owner: x\n',
      'environments/c.yml': 'owner: x\n',
      'environments/d.yaml': 'owner: x\n',
      'environments/d/environment.yaml': 'owner: x\n',
      'environments/e/notes.txt': 'hi\n',
    });
    expect(byRule(r, 'environment-name')[0]!.file).to.equal('environments/Bad_Name.yaml');
    expect(byRule(r, 'environment-file').map((p) => [p.file, p.severity])).to.deep.equal([
      ['environments/c.yml', 'error'],
      ['environments/e/notes.txt', 'warning'],
    ]);
    expect(byRule(r, 'environment-duplicate')).to.have.length(1);
  });

  it('locates non-UTF-8 bytes', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('owner: a\ntitle: ab'), 0xff, 0x0a]);
    const r = check({ 'environments/a.yaml': bytes });
    expect(byRule(r, 'encoding').map((p) => [p.line, p.col])).to.deep.equal([[2, 10]]);
  });

  it('refuses huge files without parsing them', () => {
    const r = check({ 'environments/a.yaml': `owner: a\ndescription: "${'x'.repeat(MAX_SPEC_BYTES)}"\n` });
    expect(byRule(r, 'file-too-large')).to.have.length(1);
  });

  it('reports an empty file', () => {
    expect(byRule(check({ 'environments/a.yaml': '# nothing\n' }), 'environment-empty')).to.have.length(1);
  });
});

describe('load: envctl.yaml', () => {
  it('fills defaults and resolves {registry} in the default base', () => {
    const { config, problems } = loadConfig(undefined);
    expect(problems).to.deep.equal([]);
    expect(config.layers).to.deep.equal({ limit: 127, warnAt: 117 });
    expect(config.registry.address).to.equal('127.0.0.1:5115');
    expect(config.defaultBase.image).to.equal('127.0.0.1:5115/envctl/debian:bookworm');
  });

  it('reports config problems with positions', () => {
    const { problems } = loadConfig(new TextEncoder().encode(yaml('layers:', '  limit: many', 'registy: {}')), 'envctl.yaml');
    expect(problems.map((p) => [p.rule, p.line, p.col])).to.deep.equal([
      ['schema-unknown-field', 3, 1],
      ['schema-type', 2, 10],
    ].sort((a, b) => (a[1] as number) - (b[1] as number)).reverse());
  });

  it('lets a CI job name its own registry (ENVCTL_REGISTRY): address, default base and http follow it', () => {
    const text = new TextEncoder().encode(yaml('registry: { address: embedded, insecure: true }', 'defaultBase: { image: "{registry}/base/debian:12" }'));
    const ghcr = loadConfig(text, 'envctl.yaml', { registry: 'ghcr.io/acme' }).config;
    expect(ghcr.registry).to.include({ address: 'ghcr.io/acme', embedded: false, insecure: false });
    expect(ghcr.defaultBase.image).to.equal('ghcr.io/acme/base/debian:12');
    const local = loadConfig(text, 'envctl.yaml', { registry: '127.0.0.1:5000' }).config;
    expect(local.registry).to.include({ address: '127.0.0.1:5000', insecure: true });
    expect(loadConfig(text).config.registry).to.include({ address: '127.0.0.1:5115', embedded: true });
    expect(loadConfig(text, 'envctl.yaml', { registry: 'ghcr.io/Acme-Corp' }).config.defaultBase.image).to.equal('ghcr.io/acme-corp/base/debian:12');
  });
});
