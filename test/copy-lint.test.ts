import { expect } from 'chai';
import { goPattern, hasWildcard } from '../src/check/go-glob.js';
import { pipSignature } from '../src/check/lint.js';
import { byRule, check, config, yaml, type Run } from './helpers.js';

const env = (...lines: string[]) => yaml('owner: alice', ...lines);
const rules = (r: Run, rule: string) => byRule(r, rule).map((p) => [p.line, p.col, p.severity]);
const folder = (instructions: string[], files: Record<string, string> = {}, builder?: 'auto' | 'buildah' | 'docker') => {
  const tree: Record<string, string> = { 'environments/a/environment.yaml': env('instructions: |', ...instructions.map((l) => `  ${l}`)) };
  for (const [name, body] of Object.entries(files)) tree[`environments/a/${name}`] = body;
  return check(tree, builder ? { config: config({ builder }) } : {});
};

describe('COPY/ADD sources: Go filepath.Match against the build context', () => {
  it('Go syntax: * and ? stop at "/", classes with ^ and ranges, \\ escapes, ** is two stars, malformed is undefined', () => {
    const m = (p: string, s: string) => goPattern(p)!.test(s);
    expect(m('*.txt', '.hidden.txt')).to.equal(true); // unlike a shell
    expect(m('*.txt', 'a/b.txt')).to.equal(false);
    expect(m('a?c', 'abc')).to.equal(true);
    expect(m('a?c', 'a/c')).to.equal(false);
    expect(m('[a-c]x', 'bx')).to.equal(true);
    expect(m('[^a-c]x', 'dx')).to.equal(true);
    expect(m('[^a-c]x', 'bx')).to.equal(false);
    expect(m('a\\*b', 'a*b')).to.equal(true);
    expect(m('a\\*b', 'axb')).to.equal(false);
    expect(m('**/x', 'd/x')).to.equal(true);
    expect(m('**/x', 'x')).to.equal(false);
    expect(m('**/x', 'd/e/x')).to.equal(false);
    for (const bad of ['[', '[]', 'a[b', 'a\\', '[z-a]']) expect(goPattern(bad), bad).to.equal(undefined);
    expect(hasWildcard('a\\*b')).to.equal(false);
    expect(hasWildcard('conda-lock.yml*')).to.equal(true);
  });

  it('an optional file next to one that always exists: no problem on either builder', () => {
    for (const builder of ['auto', 'buildah', 'docker'] as const) {
      const r = folder(['COPY conda-lock.yml* placeholder.txt /tmp/'], { 'placeholder.txt': '' }, builder);
      expect(r.all, builder).to.deep.equal([]);
    }
  });

  it('every wildcard matching nothing: an error when the builder may be buildah, a warning for docker, naming what each builder does', () => {
    const files = { 'x.txt': '' };
    expect(rules(folder(['COPY *.whl /tmp/'], files, 'buildah'), 'copy-glob-empty')).to.deep.equal([[3, 3, 'error']]);
    expect(rules(folder(['COPY *.whl /tmp/'], files, 'auto'), 'copy-glob-empty')).to.deep.equal([[3, 3, 'error']]);
    const docker = folder(['COPY *.whl dist/*.tar.gz /tmp/'], files, 'docker');
    expect(rules(docker, 'copy-glob-empty')).to.deep.equal([[3, 3, 'warning']]);
    const message = byRule(docker, 'copy-glob-empty')[0]!.message;
    expect(message).to.contain('"*.whl", "dist/*.tar.gz"');
    expect(message).to.contain('buildah fails');
    expect(message).to.contain('BuildKit) copies nothing');
    expect(message).to.contain('it holds: x.txt');
  });

  it('a wildcard matching a folder, a file in a folder, and a plain folder source all match', () => {
    const r = folder(['COPY scr*ts /opt/', 'COPY */run.sh /opt/', 'COPY scripts /opt/', 'COPY scripts/ /opt/', 'COPY ["s?ripts/run.sh", "/opt/"]'], { 'scripts/run.sh': '' }, 'buildah');
    expect(r.all.filter((p) => p.rule.startsWith('copy-'))).to.deep.equal([]);
  });

  it('a missing source without a wildcard stays copy-missing; an escaped wildcard is no wildcard', () => {
    const r = folder(['COPY missing.txt *.txt /tmp/'], { 'x.txt': '' }, 'docker');
    expect(rules(r, 'copy-missing')).to.deep.equal([[3, 3, 'error']]);
    expect(rules(r, 'copy-glob-empty')).to.deep.equal([]);
    // The builders' lexer eats a bare or double-quoted backslash; in single quotes it stays and is Go's escape.
    const escaped = folder(["COPY 'a\\*.txt' /tmp/"], { 'ab.txt': '' }, 'docker');
    expect(byRule(escaped, 'copy-missing')).to.have.length(1);
  });

  it('--from sources, ARG-dependent sources and ADD URLs are not context files', () => {
    const r = folder(['COPY --from=busybox /bin/*.none /x/', 'ARG V=1', 'COPY pkg-${V}*.whl /tmp/', 'ADD https://example.com/*.tgz /tmp/'], {}, 'buildah');
    expect(r.all.filter((p) => p.rule.startsWith('copy-'))).to.deep.equal([]);
  });

  it('a malformed pattern is copy-bad-pattern', () => {
    expect(rules(folder(['COPY "[a" /tmp/'], { 'x.txt': '' }), 'copy-bad-pattern')).to.deep.equal([[3, 3, 'error']]);
  });
});

describe('lint hints: silenced where they stand, pip options, empty continuations', () => {
  const flat = (...instructions: string[]) => check({ 'environments/a.yaml': env('instructions: |', ...instructions.map((l) => `  ${l}`)) });

  it('# envctl-ignore above or on the instruction, and # hadolint ignore=DL3059, silence the consecutive-RUN hint', () => {
    expect(byRule(flat('RUN apt-get update', 'RUN apt-get install -y git'), 'lint-consecutive-run')).to.have.length(1);
    expect(flat('# envctl-ignore: lint-consecutive-run', 'RUN apt-get update', 'RUN apt-get install -y git').all).to.deep.equal([]);
    expect(flat('RUN apt-get update', '# some words', '# hadolint ignore=DL3008,DL3059', 'RUN apt-get install -y git').all).to.deep.equal([]);
    expect(flat('RUN apt-get update # envctl-ignore: lint-pip-install-split, lint-consecutive-run', 'RUN apt-get install -y git').all).to.deep.equal([]);
    // Another hadolint id, or a comment cut off by a blank line, silences nothing.
    expect(byRule(flat('# hadolint ignore=DL3008', 'RUN apt-get update', 'RUN apt-get install -y git'), 'lint-consecutive-run')).to.have.length(1);
    expect(byRule(flat('# envctl-ignore: lint-consecutive-run', '', 'RUN apt-get update', 'RUN apt-get install -y git'), 'lint-consecutive-run')).to.have.length(1);
  });

  it('errors cannot be silenced', () => {
    const r = flat('# envctl-ignore: instructions-from, instructions-unknown', 'FROM debian', '# envctl-ignore: instructions-unknown', 'RUNN x');
    expect(byRule(r, 'instructions-from')).to.have.length(1);
    expect(byRule(r, 'instructions-unknown')).to.have.length(1);
  });

  it('the pip hint: silenced by envctl-ignore, not given across different indexes or options', () => {
    expect(byRule(flat('RUN pip install numpy', 'RUN pip install pandas'), 'lint-pip-install-split')).to.have.length(1);
    expect(byRule(flat('RUN pip install numpy', '# envctl-ignore: lint-pip-install-split', 'RUN pip install pandas'), 'lint-pip-install-split')).to.have.length(0);
    for (const opt of ['--index-url https://a.example/simple', '-i https://a.example/simple', '--extra-index-url=https://b.example/simple', '--pre', '-c constraints.txt']) {
      expect(byRule(flat('RUN pip install numpy', `RUN pip install ${opt} torch`), 'lint-pip-install-split'), opt).to.have.length(0);
    }
    // The same options on both: they can be one pip install.
    const same = flat('RUN pip install -i https://a.example/simple numpy', 'RUN python3 -m pip install --index-url=https://a.example/simple pandas');
    expect(byRule(same, 'lint-pip-install-split')).to.have.length(1);
    // Grouped by options: the two plain ones are still one hint, at the second of them.
    const mixed = flat('RUN pip install numpy', 'RUN pip install --pre torch', 'RUN pip install pandas');
    expect(byRule(mixed, 'lint-pip-install-split').map((p) => p.line)).to.deep.equal([5]);
    expect(pipSignature('pip install -iX a && pip install b')).to.equal('--index-url=X');
  });

  it('a blank line inside a continued instruction gets BuildKit\'s warning at that line; a comment line does not', () => {
    const r = flat('RUN apt-get update \\', '', '    && apt-get install -y git', 'ENV A=1');
    const found = byRule(r, 'instructions-empty-continuation');
    expect(found.map((p) => [p.line, p.severity])).to.deep.equal([[4, 'warning']]);
    expect(found[0]!.message).to.match(/^Empty continuation line found in: RUN apt-get update\s+&& apt-get install -y git; empty continuation lines will become errors in a future release/);
    expect(flat('RUN apt-get update \\', '  # a comment', '    && apt-get install -y git').all).to.deep.equal([]);
    expect(flat('RUN apt-get update', '', 'ENV A=1').all).to.deep.equal([]);
    // It is no lint hint: a comment does not silence it.
    expect(byRule(flat('# envctl-ignore: instructions-empty-continuation', 'RUN a \\', '', '  b'), 'instructions-empty-continuation')).to.have.length(1);
  });
});
