/**
 * Build stages: the schema, the rendered order and text, problems located
 * inside `stages[i].instructions`, the --from rules, and layers counted for
 * the final stage only.
 */
import { expect } from 'chai';
import { renderEnvironment } from '../src/render/index.js';
import { byRule, check, config, yaml, type Run } from './helpers.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const cfg = config();
const errors = (r: Run) => r.all.filter((p) => p.severity === 'error');
const at = (r: Run, rule: string) => byRule(r, rule).map((p) => [p.line, p.col, p.severity]);

/** environments/a/environment.yaml with a builder stage and `final` as the final instructions. */
function twoStage(builderLines: string[], finalLines: string[], extra: string[] = []): Run {
  return check({
    'environments/a/environment.yaml': yaml(
      'owner: alice',
      'base: { image: "debian:12" }',
      'stages:',
      '  - name: build',
      '    base: { image: "golang:1.22" }',
      '    instructions: |',
      ...builderLines.map((l) => `      ${l}`),
      ...extra,
      'instructions: |',
      ...finalLines.map((l) => `  ${l}`),
    ),
    'environments/a/main.go': 'package main\n',
  });
}

describe('stages: schema', () => {
  it('accepts stages on every base form and rejects bad, reserved and missing fields', () => {
    const ok = twoStage(['COPY main.go /src/', 'RUN go build -o /out/app /src/main.go'], ['COPY --from=build /out/app /usr/local/bin/app'],
      ['  - name: test_2', '    base: { stage: build }', '    instructions: RUN true', '  - name: plain', '    base: default', '    instructions: ""']);
    expect(errors(ok), JSON.stringify(ok.all)).to.deep.equal([]);
    const env = (...stage: string[]) => check({ 'environments/a.yaml': yaml('owner: alice', 'stages:', ...stage) });
    expect(byRule(env('  - name: Build', '    base: default', '    instructions: RUN true'), 'schema-pattern')[0]!.message).to.contain('stage names start with a lowercase letter');
    expect(errors(env('  - name: final', '    base: default', '    instructions: RUN true')).map((p) => [p.line, p.col])).to.deep.equal([[3, 11]]);
    expect(errors(env('  - name: scratch', '    base: default', '    instructions: RUN true'))).to.have.length(1);
    expect(errors(env('  - name: b', '    instructions: RUN true'))[0]!.message).to.contain('"base"');
    expect(errors(env('  - name: b', '    base: default', '    instructions: RUN true', '    user: x'))[0]!.message).to.contain('unknown field "user"');
  });

  it('refuses a duplicate name and a stage base that is not an earlier stage', () => {
    const r = check({ 'environments/a.yaml': yaml('owner: alice', 'stages:',
      '  - name: b', '    base: { stage: c }', '    instructions: RUN true',
      '  - name: c', '    base: default', '    instructions: RUN true',
      '  - name: c', '    base: { stage: b }', '    instructions: RUN true') });
    expect(at(r, 'stage-base-unknown')).to.deep.equal([[4, 20, 'error']]);
    expect(byRule(r, 'stage-base-unknown')[0]!.message).to.contain('"c", which is not an earlier stage');
    expect(at(r, 'stage-duplicate')).to.deep.equal([[9, 11, 'error']]);
  });

  it('warns on a stage base image without a version, as for the environment base', () => {
    const r = check({ 'environments/a.yaml': yaml('owner: alice', 'stages:', '  - name: b', '    base: { image: golang }', '    instructions: RUN true') });
    expect(at(r, 'base-image-unpinned')).to.deep.equal([[4, 20, 'warning']]);
  });
});

describe('stages: render', () => {
  it('renders each stage as FROM … AS <name> with its instructions, before the final FROM, stages in order; stage images as written', () => {
    const r = twoStage(['COPY main.go /src/', 'RUN go build -o /out/app /src/main.go', ''], ['COPY --from=build /out/app /usr/local/bin/app'],
      ['  - name: check', '    base: { stage: build }', '    instructions: RUN go vet /src/main.go']);
    const env = r.environments[0]!;
    const out = renderEnvironment(env, { config: cfg, all: new Map([[env.name, env]]), imageDigests: new Map([['golang:1.22', DIGEST], ['debian:12', DIGEST]]) });
    const build = out.dockerfile.slice(out.dockerfile.indexOf('\n') + 1, out.dockerfile.indexOf('\nLABEL'));
    expect(build).to.equal([
      'FROM golang:1.22 AS build', '', 'COPY main.go /src/', 'RUN go build -o /out/app /src/main.go', '',
      'FROM build AS check', '', 'RUN go vet /src/main.go', '',
      `FROM debian:12@${DIGEST}`, '', 'COPY --from=build /out/app /usr/local/bin/app', '',
    ].join('\n'));
    expect(out.from).to.equal(`debian:12@${DIGEST}`);
    // One key per revision: whether the digests given happen to hold a stage's image does not matter.
    const again = renderEnvironment(env, { config: cfg, all: new Map([[env.name, env]]), imageDigests: new Map([['debian:12', DIGEST]]) });
    expect(again.contentKey).to.equal(out.contentKey);
  });

  it('an environment without stages renders and keys as before; stages change the key', () => {
    const files = (stages: string[]) => ({ 'environments/a.yaml': yaml('owner: alice', 'base: { image: "debian:12" }', ...stages, 'instructions: RUN true') });
    const plain = check(files([])).environments[0]!;
    const empty = check(files(['stages: []'])).environments[0]!;
    const staged = check(files(['stages:', '  - name: b', '    base: default', '    instructions: RUN true'])).environments[0]!;
    const render = (e: typeof plain) => renderEnvironment(e, { config: cfg, all: new Map([[e.name, e]]) });
    expect(render(plain).dockerfile).to.match(/^# Rendered by envctl[^\n]*\nFROM debian:12\n\nRUN true\n\nLABEL/);
    expect(render(empty).dockerfile).to.equal(render(plain).dockerfile);
    expect(render(empty).contentKey).to.equal(render(plain).contentKey);
    expect(render(staged).contentKey).to.not.equal(render(plain).contentKey);
    expect(render(staged).dockerfile).to.contain(`FROM ${cfg.defaultBase.image} AS b\n\nRUN true\n\nFROM debian:12\n`);
  });

  it('refuses to render when a stage does not end cleanly (it would swallow the next FROM)', () => {
    const r = twoStage(['RUN echo \\'], ['RUN true']);
    expect(at(r, 'instructions-unterminated')).to.deep.equal([[7, 7, 'error']]);
    const env = r.environments[0]!;
    expect(() => renderEnvironment(env, { config: cfg, all: new Map([[env.name, env]]) })).to.throw(/do not end cleanly/);
  });
});

describe('stages: instructions checked in place', () => {
  it('FROM, unknown instructions and missing COPY sources inside a stage land at their line:col', () => {
    const r = twoStage(['RUN true', 'FROM alpine', 'RUNN x', 'COPY nothere.txt /x/', 'COPY main.go /src/'], ['RUN true']);
    expect(at(r, 'instructions-from')).to.deep.equal([[8, 7, 'error']]);
    expect(at(r, 'instructions-unknown')).to.deep.equal([[9, 7, 'error']]);
    expect(at(r, 'copy-missing')).to.deep.equal([[10, 7, 'error']]);
    expect(byRule(r, 'copy-missing')[0]!.message).to.contain('"nothere.txt" is not in environments/a/');
  });

  it('heredocs inside a stage are refused where buildah may build, as in the final block', () => {
    const r = twoStage(['RUN <<EOF', 'echo hi', 'EOF'], ['RUN true']);
    expect(r.all.filter((p) => p.severity === 'error' && p.line >= 7 && p.line <= 9).length).to.be.greaterThan(0);
    const docker = check({ 'environments/a.yaml': yaml('owner: alice', 'stages:', '  - name: b', '    base: default', '    instructions: |', '      RUN <<EOF', '      echo hi', '      EOF') },
      { config: config({ builder: 'docker' }) });
    expect(errors(docker), JSON.stringify(docker.all)).to.deep.equal([]);
  });
});

describe('stages: --from', () => {
  const fromIn = (final: string) => twoStage(['RUN touch /out'], [final]);

  it('an earlier stage or an image by digest is accepted, in COPY and RUN --mount', () => {
    for (const final of ['COPY --from=build /out /out', `COPY --from=quay.io/org/tools:1@${DIGEST} /bin/x /bin/x`, `COPY --from=busybox@${DIGEST} /bin/sh /bin/sh`,
      'RUN --mount=type=bind,from=build,target=/b cp /b/out /out', 'COPY --chown=1:1 --from=build /out /out']) {
      const r = fromIn(final);
      expect(errors(r), `${final}: ${JSON.stringify(r.all)}`).to.deep.equal([]);
    }
  });

  it('refuses hostile and mistaken --from values at the value, each with its reason', () => {
    const cases: [string, string, string][] = [
      ['COPY --from=docker.io/evil/x /x /x', 'from-unpinned', 'pinned by digest'],
      ['COPY --from=busybox:1.36 /bin/sh /bin/sh', 'from-unpinned', 'declare a stage with base {image: "busybox:1.36"}'],
      ['COPY --from=$X /x /x', 'from-variable', 'decided at build time'],
      ['COPY --from=${STAGE:-build} /x /x', 'from-variable', 'decided at build time'],
      ['COPY --from=final /x /x', 'from-unknown', 'no earlier stage is named "final" (earlier stages: build)'],
      ['COPY --from=buidl /x /x', 'from-unknown', 'the builder would pull an image by that name'],
      ['COPY --from=0 /x /x', 'from-index', 'name the stage instead of its index'],
      ['COPY --from= /x /x', 'from-unknown', 'no earlier stage is named ""'],
      ['RUN --mount=type=cache,from=evil/x,target=/c true', 'from-unpinned', 'RUN --mount from=evil/x'],
      [`COPY --from=busybox@sha256:${'A'.repeat(64)} /x /x`, 'from-unpinned', 'pinned by digest'],
    ];
    for (const [final, rule, words] of cases) {
      const r = fromIn(final);
      const found = byRule(r, rule);
      expect(found.map((p) => [p.line, p.severity]), `${final}: ${JSON.stringify(r.all)}`).to.deep.equal([[9, 'error']]);
      expect(found[0]!.message).to.contain(words);
    }
    const r = fromIn('COPY --from=docker.io/evil/x /x /x');
    expect(at(r, 'from-unpinned')).to.deep.equal([[9, 15, 'error']]);
  });

  it('a stage copies only from earlier stages; the col is the value on a continued line', () => {
    const r = twoStage(['COPY --from=later /x /x', 'COPY \\', '  --from=build /y /y'], ['COPY --from=later /x /x'],
      ['  - name: later', '    base: default', '    instructions: RUN true']);
    // `later` from the first stage, then `build` from itself on a continuation line (the value's own column); the final block may name both.
    expect(at(r, 'from-later-stage')).to.deep.equal([[7, 19, 'error'], [9, 16, 'error']]);
    expect(byRule(r, 'from-later-stage')[0]!.message).to.contain('stage "later" is this stage or a later one; copy only from earlier stages (there are no earlier stages)');
    expect(r.all.filter((p) => p.line === 11 && p.severity === 'error')).to.deep.equal([]);
  });

  it('an environment without stages: a --from naming no pinned image is an error (it was silently accepted)', () => {
    const r = check({ 'environments/a.yaml': yaml('owner: alice', 'instructions: |', '  RUN true', '  COPY --from=builder /x /x') });
    expect(at(r, 'from-unknown')).to.deep.equal([[4, 15, 'error']]);
    expect(byRule(r, 'from-unknown')[0]!.message).to.contain('(there are no earlier stages)');
  });
});

describe('stages: layers', () => {
  it('only the final stage counts toward the limit', () => {
    const many = Array.from({ length: 200 }, (_, i) => `RUN echo ${i}`);
    const r = check({ 'environments/a.yaml': yaml('owner: alice', 'base: { image: "debian:12" }', 'stages:', '  - name: b', '    base: default', '    instructions: |',
      ...many.map((l) => `      ${l}`), 'instructions: |', '  COPY --from=b /x /x', '  RUN true') }, { imageLayers: new Map([['debian:12', 1]]) });
    expect(r.all.filter((p) => p.rule.startsWith('layers')), JSON.stringify(r.all.filter((p) => p.rule.startsWith('layer')))).to.deep.equal([]);
    expect(r.environments[0]!.layers.own).to.equal(2);
    expect(r.environments[0]!.layers.total).to.equal(3);
  });
});
