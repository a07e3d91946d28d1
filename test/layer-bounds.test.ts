import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { normaliseReference } from '../src/model/reference.js';
import { reviewMarkdown } from '../src/plan/markdown.js';
import { reviewChange } from '../src/plan/review.js';
import { commit, git } from './fixtures/repo.js';
import { byRule, check, config, removeDir, tempDir, yaml, type Files, type Run } from './helpers.js';

const env = (...lines: string[]) => yaml('owner: alice', ...lines);
const runs = (n: number) => ['instructions: |', ...Array.from({ length: n }, (_, i) => `  RUN echo ${i}`)];
const files = (r: Run, rule: string) => byRule(r, rule).map((p) => p.file);
const DIGEST = `sha256:${'ab12'.repeat(16)}`;
const UNKNOWN = 'base: { image: "reg.example/unknown:1" }';

describe('layers: a lower bound when the base image is not counted', () => {
  it('own instructions alone over the limit on an unknown base image are an error saying "at least"', () => {
    const r = check({ 'environments/a.yaml': env(UNKNOWN, ...runs(130)) });
    const limit = byRule(r, 'layer-limit');
    expect(limit.map((p) => [p.file, p.line, p.severity])).to.deep.equal([['environments/a.yaml', 3, 'error']]);
    expect(limit[0]!.message).to.match(/^the image would have at least 131\/127 layers: at least 1 from the base \(reg\.example\/unknown:1; the layers of base image "reg\.example\/unknown:1" unknown, counted as 1\) and 130 here; the limit is 127\./);
    expect(files(r, 'layer-count-unknown')).to.deep.equal(['environments/a.yaml']);
    expect(r.environments[0]!.layers).to.deep.include({ own: 130, base: undefined, total: undefined, atLeast: 131 });
  });

  it('on a base cycle each member counts its own layers only (the cycle is its own error); what stands on it counts down to the member', () => {
    const r = check({
      'environments/a.yaml': env('base: { environment: b }', ...runs(60)),
      'environments/b.yaml': env('base: { environment: a }', ...runs(80)),
      'environments/c.yaml': env('base: { environment: a }', ...runs(70)),
      'environments/d.yaml': env('base: { environment: d }', ...runs(130)),
    });
    expect(byRule(r, 'base-cycle').map((p) => p.file)).to.deep.equal(['environments/a.yaml', 'environments/d.yaml']);
    // a and b alone are under the limit; c (70 + a's 60) and d (130 of its own) are over it.
    expect(files(r, 'layer-limit')).to.deep.equal(['environments/c.yaml', 'environments/d.yaml']);
    expect(byRule(r, 'layer-limit')[0]!.message).to.contain('at least 130/127 layers: at least 60 from the base (a → b; base environment "b" not counted)');
  });

  it('a chain on an unknown image: an error at each environment whose lower bound is over the limit, a warning near it', () => {
    const r = check({
      'environments/a.yaml': env(UNKNOWN, ...runs(60)),
      'environments/b.yaml': env('base: { environment: a }', ...runs(60)),
      'environments/c.yaml': env('base: { environment: b }', ...runs(10)),
      'environments/d.yaml': env('base: { environment: c }'),
    });
    expect(files(r, 'layer-limit')).to.deep.equal(['environments/c.yaml', 'environments/d.yaml']);
    const [c, d] = byRule(r, 'layer-limit');
    expect(c!.message).to.contain('at least 131/127 layers: at least 121 from the base (b → a → reg.example/unknown:1;');
    expect(d!.message).to.contain('at least 131/127 layers: at least 131 from the base (c → b → a → reg.example/unknown:1;');
    expect(d!.line).to.equal(2); // no instructions: at the base key
    const near = byRule(r, 'layer-limit-near');
    expect(near.map((p) => p.file)).to.deep.equal(['environments/b.yaml']);
    expect(near[0]!.message).to.match(/^the image will have at least 121\/127 layers: .*near the limit of 127/);
    expect(files(r, 'layer-count-unknown')).to.deep.equal(['environments/a.yaml']);
    expect(r.environments.map((e) => [e.name, e.layers.atLeast, e.layers.total])).to.deep.equal([
      ['a', 61, undefined], ['b', 121, undefined], ['c', 131, undefined], ['d', 131, undefined],
    ]);
  });

  it('a lower bound under the limit: only the warning where the image is named', () => {
    const r = check({
      'environments/a.yaml': env(UNKNOWN, ...runs(3)),
      'environments/b.yaml': env('base: { environment: a }', ...runs(2)),
    });
    expect(r.all.filter((p) => p.rule.startsWith('layer')).map((p) => [p.file, p.rule, p.severity])).to.deep.equal([['environments/a.yaml', 'layer-count-unknown', 'warning']]);
  });

  it('an environment over the limit on its own is an error even when its base environment cannot be counted', () => {
    const r = check({ 'environments/a.yaml': env('base: { environment: nosuch }', ...runs(128)) });
    const limit = byRule(r, 'layer-limit');
    expect(limit).to.have.length(1);
    expect(limit[0]!.message).to.contain('at least 128/127 layers: at least 0 from the base (nosuch; base environment "nosuch" not counted) and 128 here');
    expect(byRule(r, 'layer-count-unknown')).to.deep.equal([]);
  });

  it('docker\'s scratch is no image: exactly zero layers, nothing unknown', () => {
    const r = check({ 'environments/a.yaml': env('base: { image: scratch }', ...runs(127)) });
    expect(r.environments[0]!.layers).to.deep.include({ base: 0, total: 127, atLeast: 127 });
    expect(byRule(r, 'layer-limit')).to.deep.equal([]);
    expect(byRule(r, 'layer-count-unknown')).to.deep.equal([]);
  });
});

describe('layers: exact counts as before', () => {
  it('a known base: total and lower bound agree, the message says no "at least"', () => {
    const spec = { 'environments/a.yaml': env('base: { image: "reg.example/img:1" }', ...runs(3)) };
    const at127 = check(spec, { imageLayers: new Map([['reg.example/img:1', 124]]) });
    expect(at127.environments[0]!.layers).to.deep.include({ own: 3, base: 124, total: 127, atLeast: 127 });
    expect(byRule(at127, 'layer-limit')).to.deep.equal([]);
    const over = byRule(check(spec, { imageLayers: new Map([['reg.example/img:1', 125]]) }), 'layer-limit');
    expect(over.map((p) => p.message.split(';')[0])).to.deep.equal(['the image would have 128 layers: 125 from the base (reg.example/img:1) and 3 here']);
  });
});

describe('layers: imageLayers keys by normalised reference', () => {
  it('normalises the way docker does', () => {
    for (const ref of ['ubuntu:noble', 'library/ubuntu:noble', 'docker.io/ubuntu:noble', 'docker.io/library/ubuntu:noble', 'index.docker.io/library/ubuntu:noble', 'Docker.IO/library/ubuntu:noble']) {
      expect(normaliseReference(ref), ref).to.equal('docker.io/library/ubuntu:noble');
    }
    expect(normaliseReference('ubuntu')).to.equal('docker.io/library/ubuntu:latest');
    expect(normaliseReference('Reg.Example:5000/team/img')).to.equal('reg.example:5000/team/img:latest');
    expect(normaliseReference('localhost/img:2')).to.equal('localhost/img:2');
    expect(normaliseReference('ghcr.io/acme/img@sha256:ab12')).to.equal('ghcr.io/acme/img@sha256:ab12');
    expect(normaliseReference('ubuntu:noble@sha256:ab12')).to.equal('docker.io/library/ubuntu:noble@sha256:ab12');
    expect(normaliseReference('jupyter/base-notebook')).to.equal('docker.io/jupyter/base-notebook:latest');
  });

  const total = (base: string, opts: Parameters<typeof check>[1]) =>
    check({ 'environments/a.yaml': env(`base: { image: "${base}" }`, ...runs(2)) }, opts).environments[0]!.layers.total;

  it('a declared count is found under any spelling of the reference', () => {
    for (const key of ['ubuntu:noble', 'docker.io/library/ubuntu:noble', 'index.docker.io/library/ubuntu:noble', 'library/ubuntu:noble']) {
      for (const base of ['ubuntu:noble', 'docker.io/library/ubuntu:noble', 'library/ubuntu:noble']) {
        expect(total(base, { config: config({ imageLayers: { [key]: 7 } }) }), `${key} for ${base}`).to.equal(9);
      }
    }
    expect(total('Reg.Example/img', { config: config({ imageLayers: { 'reg.example/img:latest': 4 } }) })).to.equal(6);
    expect(total(`reg.example/img@${DIGEST}`, { config: config({ imageLayers: { [`reg.example/img@${DIGEST}`]: 4 } }) })).to.equal(6);
    // A digest names one image, a tag another: neither stands for the other.
    expect(total(`reg.example/img@${DIGEST}`, { config: config({ imageLayers: { 'reg.example/img': 4 } }) })).to.equal(undefined);
    expect(total('ubuntu:jammy', { config: config({ imageLayers: { 'ubuntu:noble': 4 } }) })).to.equal(undefined);
  });

  it('registry counts are matched the same way, and still win over declared ones', () => {
    const registry = new Map([['docker.io/library/ubuntu:noble', 3]]);
    expect(total('ubuntu:noble', { imageLayers: registry })).to.equal(5);
    expect(total('ubuntu:noble', { imageLayers: registry, config: config({ imageLayers: { 'library/ubuntu:noble': 50 } }) })).to.equal(5);
  });

  it('the default base is matched by normalised reference too', () => {
    const cfg = config({ defaultBase: { image: 'docker.io/library/debian:bookworm', layers: 5 } });
    expect(total('debian:bookworm', { config: cfg })).to.equal(7);
  });
});

describe('layers: the lower bound in a review', () => {
  const cfg = config();
  const side = (f: Files, label: string) => {
    const run = check(f, { config: cfg });
    const texts = new Map(Object.entries(f).map(([p, t]) => [p.replace(/^environments\/|\.yaml$/g, ''), String(t)]));
    return { label, environments: run.environments, texts, problems: run.all };
  };
  const reviewOf = (change: Files) =>
    reviewChange({ config: cfg, target: { ...side({}, 'main'), revisions: [] }, change: side(change, 'this change'), ledger: new Map() });

  it('says "at least" in JSON, the table and the section; exact counts keep their form', () => {
    const r = reviewOf({ 'environments/a.yaml': env(UNKNOWN, ...runs(130)), 'environments/b.yaml': env(...runs(2)) });
    const [a, b] = r.environments;
    expect(a!.layers).to.deep.equal({ total: null, limit: 127, atLeast: 131 });
    expect(b!.layers).to.deep.equal({ total: 3, limit: 127 });
    const md = reviewMarkdown(r);
    expect(md).to.contain('| ≥ 131/127 ❌ |').and.contain('- Layers: at least 131 of 127 (over the limit)');
    expect(md).to.contain('| 3/127 |').and.contain('- Layers: 3 of 127\n');
  });
});

describe('envctl plan --base: the lower bound in text', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await tempDir('envctl-layer-bounds-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, { 'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'), 'environments/keep.yaml': env(...runs(1)) }, 'keep');
  });
  after(() => removeDir(dir));

  it('prints "at least N/127 layers" for an environment on an uncounted image', async () => {
    await mkdir(join(dir, 'environments'), { recursive: true });
    await writeFile(join(dir, 'environments', 'a.yaml'), env(UNKNOWN, ...runs(1)));
    const out: string[] = [];
    await main(['plan', '--base', 'main', '--offline'], { out: (t: string) => out.push(t), err: () => undefined, cwd: dir, env: {} });
    expect(out.join('\n')).to.equal('a → revision 1: builds, at least 2/127 layers, 1 problem');
  });
});
