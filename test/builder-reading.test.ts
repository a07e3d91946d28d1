/**
 * The checker sees the instructions the builder will see (issue 13): the
 * classic reading (buildah 1.28, no heredocs), the BuildKit reading (docker
 * buildx), and dockerfile-ast must agree, or the line is an error; every
 * line any of them takes as an instruction is checked as one.
 */
import { expect } from 'chai';
import type { Config } from '../src/model/config.js';
import { heredocOpeners, lexWords, read } from '../src/check/reading.js';
import { renderBuildPart } from '../src/render/dockerfile.js';
import { byRule, check, config, yaml, type Run } from './helpers.js';

type Builder = Config['builder'];
const BUILDERS: Builder[] = ['auto', 'buildah', 'docker'];
/** A single-file environment whose instructions block is `lines` (block line 1 is YAML line 3, column 3). */
const block = (...lines: string[]) => ({ 'environments/a.yaml': yaml('owner: alice', 'instructions: |', ...lines.map((l) => `  ${l}`)) });
const run = (files: Record<string, string>, builder: Builder) => check(files, { config: config({ builder, policy: { administratorFields: ['a'] } }) });
const at = (r: Run, rule: string) => byRule(r, rule).map((p) => [p.line, p.col]);
const errors = (r: Run) => r.all.filter((p) => p.severity === 'error');
const clean = (r: Run) => expect(errors(r), JSON.stringify(errors(r))).to.deep.equal([]);
const keywords = (r: Run) => r.environments[0]!.instructions.map((i) => `${i.blockLine}:${i.keyword}`);

describe('builder reading: the issue (a heredoc opener hides FROM … AS final)', () => {
  it('RUN echo \\<<#END then FROM evil AS final: FROM is refused at its line for every builder', () => {
    for (const builder of BUILDERS) {
      const r = run(block('RUN echo \\<<#END', 'FROM evil AS final', 'RUN echo pwned'), builder);
      expect(at(r, 'instructions-from'), builder).to.deep.equal([[4, 3]]);
      expect(keywords(r), builder).to.include.members(['2:FROM', '3:RUN']);
      expect(r.environments[0]!.layers.own, builder).to.be.at.least(2);
    }
  });

  it('buildah and auto refuse the heredoc syntax at the <<; docker names the lines dockerfile-ast swallows', () => {
    const files = block('RUN echo \\<<#END', 'FROM evil AS final');
    for (const builder of ['auto', 'buildah'] as const) {
      const r = run(files, builder);
      expect(at(r, 'instructions-heredoc-unsupported'), builder).to.deep.equal([[3, 13]]);
      const msg = byRule(r, 'instructions-heredoc-unsupported')[0]!.message;
      expect(msg).to.contain('does not support').and.contain('builder: docker').and.contain("environment's folder");
    }
    const docker = run(files, 'docker');
    expect(at(docker, 'instructions-heredoc-unsupported')).to.deep.equal([]);
    expect(at(docker, 'instructions-reading')).to.deep.equal([[4, 3]]);
    expect(byRule(docker, 'instructions-reading')[0]!.message).to.match(/docker buildx \(BuildKit\) reads "FROM" here as an instruction, envctl's Dockerfile parser does not/);
  });

  it('the variants of heredoc syntax are refused for buildah and auto, located at their <<', () => {
    const cases: [string[], [number, number]][] = [
      [['RUN cat <<EOF', 'FROM evil AS final', 'EOF'], [3, 11]],
      [['RUN <<-EOT', '\tFROM scratch', '\tEOT'], [3, 7]],
      [['COPY <<EOF /x', 'FROM evil', 'EOF'], [3, 8]],
      [['RUN cat <<"EOF" > /x', 'FROM evil', 'EOF'], [3, 11]],
      [["RUN cat <<'EOF' > /x", 'FROM evil', 'EOF'], [3, 11]],
      [['RUN cat 2<<EOF', 'FROM evil', 'EOF'], [3, 12]],
      [['RUN cat << EOF', 'FROM evil', 'EOF'], [3, 11]],
      [['RUN apt-get update && \\', '    cat <<EOF > /etc/x', 'FROM evil', 'EOF'], [4, 11]],
      [['RUN --mount=type=cache,target=/c <<EOF', 'FROM evil', 'EOF'], [3, 36]],
      [['ONBUILD RUN <<EOF', 'FROM evil', 'EOF'], [3, 15]],
      [['ADD <<E"O"F /x', 'FROM evil', 'EOF'], [3, 7]],
      [['run cat <<EOF', 'from evil', 'EOF'], [3, 11]],
      [['RUN cat <<EOF && echo \\', '  done', 'FROM evil', 'EOF'], [3, 11]],
    ];
    for (const [lines, where] of cases) {
      for (const builder of ['auto', 'buildah'] as const) {
        const r = run(block(...lines), builder);
        expect(at(r, 'instructions-heredoc-unsupported'), `${builder}: ${lines.join(' / ')}`).to.deep.equal([where]);
        // buildah reads the body as instructions: FROM is refused there too, the rest of the body is not reported line by line.
        expect(at(r, 'instructions-from'), lines.join(' / ')).to.have.length(1);
        expect(at(r, 'instructions-unknown'), lines.join(' / ')).to.deep.equal([]);
      }
    }
  });

  it('docker reads heredocs as BuildKit does: the body is no instruction, the line after the terminator is', () => {
    const ok = [
      ['RUN cat <<EOF > /etc/motd', 'FROM evil AS final', 'EOF', 'RUN echo after'],
      ['RUN <<-EOT', '\tFROM scratch', '\tEOT'],
      ['COPY <<EOF /x', 'FROM evil', 'EOF'],
      ['RUN cat <<"EOF" > /x', 'FROM $x', 'EOF'],
      ['RUN apt-get update && \\', '    cat <<EOF > /etc/x', 'FROM evil', 'EOF'],
      ['RUN cat <<A <<B', 'FROM a', 'A', 'FROM b', 'B', 'RUN true'],
    ];
    for (const lines of ok) clean(run(block(...lines), 'docker'));
    const after = run(block('RUN cat <<EOF', 'body', 'EOF', 'FROM evil AS final'), 'docker');
    expect(at(after, 'instructions-from')).to.deep.equal([[6, 3]]);
    const two = run(block('RUN cat <<A <<B', 'x', 'A', 'y', 'B', 'FROM evil'), 'docker');
    expect(at(two, 'instructions-from')).to.deep.equal([[8, 3]]);
  });

  it('docker: a heredoc BuildKit reads and dockerfile-ast does not (or the reverse) is an error at each line they disagree on', () => {
    // BuildKit allows spaces after <<; dockerfile-ast does not.
    const spaced = run(block('RUN cat << EOF', 'FROM evil', 'EOF'), 'docker');
    expect(at(spaced, 'instructions-reading')).to.deep.equal([[4, 3], [5, 3]]);
    expect(at(spaced, 'instructions-from')).to.deep.equal([[4, 3]]);
    // An unclosed quote stops BuildKit's heredoc search altogether.
    const quote = run(block("RUN cat <<EOF; echo 'x", 'FROM evil', 'EOF'), 'docker');
    expect(at(quote, 'instructions-from')).to.deep.equal([[4, 3]]);
    expect(at(quote, 'instructions-reading')).to.deep.include([4, 3]);
    // JSON form has no heredocs in any reading.
    const json = run(block('RUN ["cat", "<<EOF"]', 'FROM evil', 'EOF'), 'docker');
    expect(at(json, 'instructions-from')).to.deep.equal([[4, 3]]);
  });
});

describe('builder reading: the classic reading, independent of dockerfile-ast', () => {
  it('a trailing \\\\ continues for buildah, not for BuildKit: FROM after it is refused where docker may build', () => {
    const files = block('RUN echo a\\\\', 'FROM evil AS final');
    clean(run(files, 'buildah')); // buildah joins the two lines: one RUN, no FROM
    for (const builder of ['auto', 'docker'] as const) {
      const r = run(files, builder);
      expect(at(r, 'instructions-from'), builder).to.deep.equal([[4, 3]]);
      expect(at(r, 'instructions-reading'), builder).to.deep.equal([[4, 3]]);
    }
  });

  it('continuations skip comment and blank lines as the builders do, for every builder', () => {
    for (const builder of BUILDERS) {
      const r = run(block('RUN apt-get update \\', '  # a comment \\', '', '  && apt-get install -y git', 'RUN true'), builder);
      expect(errors(r), builder).to.deep.equal([]);
      expect(keywords(r)).to.deep.equal(['1:RUN', '5:RUN']);
    }
  });

  it('a line the builders start after Unicode white space is an instruction', () => {
    for (const builder of BUILDERS) {
      const r = run(block('RUN true', '\u00a0FROM evil AS final'), builder);
      expect(at(r, 'instructions-from'), builder).to.deep.equal([[4, 4]]); // FROM itself, after the no-break space
      const layers = run(block('RUN true', '\u00a0RUN echo x'), builder).environments[0]!;
      expect(layers.instructions.map((i) => i.keyword), builder).to.deep.equal(['RUN', 'RUN']);
      expect(layers.layers.own, builder).to.equal(2);
    }
  });

  it('a lone \\ starts a logical line on the next one', () => {
    for (const builder of BUILDERS) {
      const r = run(block('RUN true', '\\', '  FROM evil'), builder);
      expect(at(r, 'instructions-from'), builder).to.deep.equal([[5, 5]]);
    }
  });

  it('instructions written as a quoted YAML string are read the same way', () => {
    const files = { 'environments/a.yaml': yaml('owner: alice', 'instructions: "RUN echo \\\\<<#END\\nFROM evil AS final\\n"') };
    for (const builder of BUILDERS) expect(byRule(run(files, builder), 'instructions-from'), builder).to.have.length(1);
  });

  it('a line break the builders do not split at (\\r inside a line) still cannot smuggle an instruction past the checks', () => {
    const files = { 'environments/a.yaml': yaml('owner: alice', 'instructions: "RUN echo a\\rFROM evil\\n"') };
    for (const builder of BUILDERS) expect(errors(run(files, builder)).length, builder).to.be.greaterThan(0);
  });
});

describe('builder reading: nothing envctl renders after the block can be swallowed', () => {
  const ending: [string, string[], Builder[]][] = [
    ['an unclosed heredoc', ['RUN cat <<EOF', 'echo never closed'], BUILDERS],
    ['a terminator with a trailing space (BuildKit ends only at the exact word)', ['RUN cat <<EOF', 'x', 'EOF ', 'RUN true'], ['docker']],
    ['a trailing \\\\ (classic continues)', ['RUN echo a\\\\'], ['auto', 'buildah']],
    ['a trailing \\ before a comment and blank lines', ['RUN echo a \\', '# c', ''], BUILDERS],
    ['a second heredoc never closed', ['RUN cat <<A <<B', 'A', 'b'], BUILDERS],
    ['a heredoc opened after a continuation', ['RUN cat \\', '  <<EOF'], BUILDERS],
  ];
  for (const [what, lines, builders] of ending) {
    it(`${what}: instructions-unterminated and render refuses`, () => {
      for (const builder of builders) {
        const r = run({ 'environments/a.yaml': yaml('owner: alice', 'username: ubuntu', 'instructions: |', ...lines.map((l) => `  ${l}`)) }, builder);
        expect(byRule(r, 'instructions-unterminated'), builder).to.have.length(1);
        const env = r.environments[0]!;
        expect(env.instructionsEndCleanly, builder).to.equal(false);
        expect(() => renderBuildPart({ env, from: 'debian:12' }), builder).to.throw(/do not end cleanly/);
      }
    });
  }

  it('a closed heredoc ends cleanly for docker and renders with USER and labels after it', () => {
    const r = run({ 'environments/a.yaml': yaml('owner: alice', 'username: ubuntu', 'instructions: |', '  RUN <<EOF', '  echo hi', '  EOF') }, 'docker');
    clean(r);
    expect(r.environments[0]!.instructionsEndCleanly).to.equal(true);
    expect(renderBuildPart({ env: r.environments[0]!, from: 'debian:12' })).to.match(/EOF\n\nUSER ubuntu\n$/);
  });
});

describe('builder reading: real-world blocks without heredocs get no new error', () => {
  // The shape of jupyter/docker-stacks base-notebook and rocker r-ver.
  const jupyter = [
    'USER root',
    'RUN apt-get update --yes && \\',
    '    apt-get install --yes --no-install-recommends \\',
    '    bzip2 \\',
    '    ca-certificates \\',
    '    locales \\',
    '    wget && \\',
    '    apt-get clean && rm -rf /var/lib/apt/lists/* && \\',
    '    echo "en_US.UTF-8 UTF-8" > /etc/locale.gen && \\',
    '    locale-gen',
    'ENV SHELL=/bin/bash \\',
    '    NB_USER="jovyan" \\',
    '    NB_UID="1000"',
    '# Copy a script that we will use to correct permissions after running certain commands',
    'COPY fix-permissions /usr/local/bin/fix-permissions',
    'RUN chmod a+rx /usr/local/bin/fix-permissions',
    '# hadolint ignore=SC2016',
    "RUN sed -i 's/^#force_color_prompt=yes/force_color_prompt=yes/' /etc/skel/.bashrc && \\",
    '   # More information in: https://github.com/jupyter/docker-stacks/pull/2047',
    "   echo 'eval \"$(conda shell.bash hook)\"' >> /etc/skel/.bashrc",
    'WORKDIR /tmp',
    'RUN set -x && \\',
    '    arch=$(uname -m) && \\',
    '    if [ "${arch}" = "x86_64" ]; then \\',
    '        # Should be simpler, see <https://github.com/mamba-org/mamba/issues/1437>',
    '        arch="64"; \\',
    '    fi && \\',
    '    echo $((1<<3)) "<<EOF" \'<<X\' && \\',
    '    mamba list python | grep -E "^python " | tr -s " " | cut -d " " -f 2 | \\',
    '        sed "s/^/python /" >> "${CONDA_DIR}/conda-meta/pinned"',
    'HEALTHCHECK --interval=3s --timeout=1s --start-period=3s --retries=3 \\',
    '    CMD /etc/jupyter/docker_healthcheck.py || exit 1',
    'USER ${NB_UID}',
  ];
  const rocker = [
    'ENV R_VERSION="4.4.1"',
    'ENV R_HOME="/usr/local/lib/R"',
    'COPY scripts/install_R_source.sh /rocker_scripts/install_R_source.sh',
    'RUN /rocker_scripts/install_R_source.sh',
    'ENV CRAN="https://p3m.dev/cran/__linux__/jammy/latest"',
    'COPY scripts/bin/ /rocker_scripts/bin/',
    'CMD ["R"]',
  ];
  const folder = (lines: string[]) => ({
    'environments/a/environment.yaml': yaml('owner: alice', 'instructions: |', ...lines.map((l) => `  ${l}`)),
    'environments/a/fix-permissions': '#!/bin/sh\n',
    'environments/a/scripts/install_R_source.sh': '#!/bin/sh\n',
    'environments/a/scripts/bin/x': '',
  });

  it('jupyter docker-stacks and rocker shapes are clean for every builder, with the same instructions as before', () => {
    for (const builder of BUILDERS) {
      const j = run(folder(jupyter), builder);
      clean(j);
      expect(keywords(j)).to.deep.equal(['1:USER', '2:RUN', '11:ENV', '15:COPY', '16:RUN', '18:RUN', '21:WORKDIR', '22:RUN', '31:HEALTHCHECK', '33:USER']);
      clean(run(folder(rocker), builder));
    }
  });

  it('rocker r-ver\'s heredoc RUN is clean for docker, refused for buildah and auto', () => {
    const lines = [...rocker.slice(0, 4), 'RUN <<EOF', 'if grep -q "1000" /etc/passwd; then', '    userdel --remove "$(id -un 1000)";', 'fi', 'EOF', 'CMD ["R"]'];
    clean(run(folder(lines), 'docker'));
    for (const builder of ['auto', 'buildah'] as const) {
      const r = run(folder(lines), builder);
      expect(errors(r).map((p) => p.rule), builder).to.deep.equal(['instructions-heredoc-unsupported']);
    }
  });
});

describe('builder reading: the readings themselves', () => {
  it('classic and BuildKit logical lines', () => {
    const text = 'RUN a \\\n# c\n\n  b\nRUN x\\\\\nLABEL y\nRUN cat <<EOF\nFROM z\nEOF\nENV k=v\n';
    const summary = (name: 'classic' | 'buildkit') => read(text, name).lines.map((l) => `${l.line}:${l.keyword}:${l.text}`);
    expect(summary('classic')).to.deep.equal(['0:RUN:RUN a   b', '4:RUN:RUN x\\LABEL y', '6:RUN:RUN cat <<EOF', '7:FROM:FROM z', '8:EOF:EOF', '9:ENV:ENV k=v']);
    expect(summary('buildkit')).to.deep.equal(['0:RUN:RUN a   b', '4:RUN:RUN x\\\\', '5:LABEL:LABEL y', '6:RUN:RUN cat <<EOF', '9:ENV:ENV k=v']);
  });

  it('heredoc openers as BuildKit lexes them', () => {
    expect(heredocOpeners('RUN cat <<EOF <<-"A B" 3<<\'q\' \\<<NO "<<NO" <<<NO').map((h) => [h.name, h.chomp])).to.deep.equal([['EOF', false], ['A B', true], ['q', false]]);
    expect(lexWords('a "b c" \'d\' e\\ f', true)!.map((w) => w.text)).to.deep.equal(['a', '"b c"', "'d'", 'e\\ f']);
    expect(lexWords('a "unclosed', true)).to.equal(undefined);
  });
});
