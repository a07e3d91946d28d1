/**
 * The plain-block fast path (check/dockerfile.ts blockStarts) against the
 * full dockerfile-ast parse: the same instructions at the same lines and
 * columns, the same ends, the same sentinel verdict, and for COPY and ADD the
 * same flags and arguments, on every block in test/corpus and on random
 * blocks built from the pieces that make readers disagree.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { DockerfileParser } from 'dockerfile-ast';
import { checkAgreement } from '../src/check/agreement.js';
import { blockStarts, parseBlock, parseDockerfile, type ParsedBlock } from '../src/check/dockerfile.js';

const PREAMBLE = 'FROM scratch\n';
const SENTINEL = 'LABEL envctl.end-of-instructions=1';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'corpus');

/** What the checks take from a parse: starts, the sentinel, and each COPY/ADD as dockerfile-ast reads it. */
function summary(block: ParsedBlock) {
  return {
    starts: block.starts,
    sentinelClean: block.sentinelClean,
    copies: block.starts.filter((s) => s.keyword === 'COPY' || s.keyword === 'ADD').map((s) => {
      const ins = block.instructionAt(s.line);
      const flags = ins && 'getFlags' in ins ? (ins as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags() : [];
      return { keyword: ins?.getKeyword(), args: ins?.getArguments().map((a) => a.getValue()), flags: flags.map((f) => [f.getName(), f.getValue()]) };
    }),
  };
}

/** The block as instructions.ts read it before the fast path: straight from one dockerfile-ast parse. */
function asBefore(body: string) {
  const sentinelLine = body.split('\n').length;
  const all = parseDockerfile(PREAMBLE + body + SENTINEL).getInstructions();
  return all.filter((i) => i.getRange().start.line > 0 && i.getRange().start.line < sentinelLine).map((i) => ({
    line: i.getRange().start.line - 1, col: i.getRange().start.character, kwLine: i.getInstructionRange().start.line - 1, kwCol: i.getInstructionRange().start.character,
  }));
}

function same(text: string): boolean {
  const trimmed = text.replace(/\s+$/, '');
  const body = trimmed === '' ? '' : `${trimmed}\n`;
  const full = parseBlock(body, PREAMBLE, SENTINEL, false);
  expect(full.starts.map((s) => ({ line: s.line, col: s.col })), body).to.deep.equal(asBefore(body).map((s) => ({ line: s.kwLine, col: s.kwCol })));
  expect(asBefore(body).every((s) => s.line === s.kwLine && s.col === s.kwCol), body).to.equal(true);
  const fast = blockStarts(body);
  if (fast === undefined) return false;
  const block = parseBlock(body, PREAMBLE, SENTINEL);
  expect(block.plain).to.equal(true);
  expect(summary(block), JSON.stringify(body)).to.deep.equal(summary(full));
  // Every builder reads a plain block as its starts say: the readings' agreement, computed, is the shortcut's.
  const sentinelLine = body.split('\n').length - 1;
  const locate = (line: number, col: number) => ({ file: 'f', line, col });
  for (const builder of ['auto', 'buildah', 'docker'] as const) {
    expect(checkAgreement(body + SENTINEL, sentinelLine, block.starts, builder, locate, true), `${builder} ${JSON.stringify(body)}`)
      .to.deep.equal(checkAgreement(body + SENTINEL, sentinelLine, full.starts, builder, locate));
  }
  return true;
}

function corpusBlocks(): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    let text: string;
    try {
      text = readFileSync(join(root, name, 'environment.yaml'), 'utf8');
    } catch {
      continue;
    }
    const spec = load(text) as { instructions?: string; stages?: { instructions?: string }[] };
    if (spec.instructions) out.push(spec.instructions);
    for (const s of spec.stages ?? []) if (s.instructions) out.push(s.instructions);
  }
  return out;
}

/** A small seeded generator, so a failure names a block that fails again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = [
  'RUN apt-get update', 'RUN echo a \\', '  && echo b \\', ' && echo c', 'COPY a.txt /a/', 'COPY --from=build /x /y', 'ADD --chown=1:1 s.tgz /opt/',
  'run lower', 'ENV A=1 \\', '    B=2', '# a comment', '# a comment \\', '', '   ', 'RUN x \\\\', 'RUN y \\ ', 'RUN z\\', 'CMD ["a", "b"]',
  'RUN ["sh", "-c", "echo \\', 'x"]', 'RUN cat <<EOF', 'hello', 'EOF', 'ONBUILD RUN x', 'FROM other', 'FOO bar', 'RUN\ttab', 'RUN a\r',
  '  RUN indented', 'RUN', 'COPY', 'RUN echo "quoted \\', 'still"', 'RUN \\', 'COPY x \\', '  y /z/', 'LABEL a=b', '\\', 'RUN a \\\\\\',
  'RUN echo \u00a0nbsp', '\u00a0RUN x', 'WORKDIR /w', 'RUN echo `x`', "RUN echo 'a \\", "b'", 'HEALTHCHECK CMD true', 'RUN --mount=type=cache,target=/c x',
];

describe('plain-block fast path (check/dockerfile.ts)', () => {
  it('reads every corpus block as the full dockerfile-ast parse does', () => {
    const blocks = corpusBlocks();
    expect(blocks.length).to.be.greaterThan(10);
    const fast = blocks.filter(same).length;
    expect(fast, 'most corpus blocks are plain').to.be.greaterThan(blocks.length / 2);
  });

  it('reads random blocks as the full parse does, or leaves them to it', () => {
    const next = random(14);
    let fast = 0;
    for (let n = 0; n < 3000; n++) {
      const lines = Array.from({ length: 1 + Math.floor(next() * 8) }, () => PIECES[Math.floor(next() * PIECES.length)]!);
      if (same(lines.join('\n'))) fast++;
    }
    expect(fast, 'the fast path is taken').to.be.greaterThan(300);
  });

  it('reads comment lines inside a continuation (as real RUN chains carry them) on the fast path, as the full parse does', () => {
    for (const body of ['RUN a \\\n# c\n b\n', 'RUN a \\\n    # c \\\n && b\nCOPY x /y\n', 'RUN a \\\n# c\n# d\nRUN b\n', 'RUN a \\\n  && b \\\n  # c\n  && d\nENV X=1\n']) {
      expect(same(body), JSON.stringify(body)).to.equal(true);
    }
  });

  it('leaves heredocs, tabs and continuations into blank lines to the full parse', () => {
    for (const body of ['RUN cat <<EOF\nx\nEOF\n', 'RUN\ta\n', 'RUN a \\\n\nRUN b\n', 'RUN a \\\n# c\n\n b\n', 'RUN a \\\\\n', 'RUN a \\ \n b\n', 'RUN a \\\n']) {
      expect(blockStarts(body), JSON.stringify(body)).to.equal(undefined);
    }
    expect(blockStarts('RUN a \\\n && b\nCOPY x /y\n')).to.deep.equal([
      { keyword: 'RUN', word: 'RUN', line: 0, col: 0, endLine: 1 },
      { keyword: 'COPY', word: 'COPY', line: 2, col: 0, endLine: 2 },
    ]);
  });

  it('keeps recent parses: a repeated text reads as a fresh parse, and the cache stays bounded', () => {
    const read = (text: string) => parseDockerfile(text).getInstructions().map((i) => [i.getKeyword(), i.getRange(), i.getArguments().map((a) => a.getValue())]);
    const fresh = (text: string) => DockerfileParser.parse(text).getInstructions().map((i) => [i.getKeyword(), i.getRange(), i.getArguments().map((a) => a.getValue())]);
    const text = `${PREAMBLE}COPY --from=build --chown=1:1 /a /b\nRUN echo x`;
    const first = parseDockerfile(text);
    expect(parseDockerfile(text)).to.equal(first); // the same parse, served again
    // A reader that shifts the arguments it is given (as dockerfile-ast's flag handling does) changes nothing for the next.
    (first.getInstructions()[1] as unknown as { getRawArguments(): unknown[] }).getRawArguments().shift();
    expect(read(text)).to.deep.equal(fresh(text));
    for (let i = 0; i < 600; i++) expect(read(`${PREAMBLE}RUN echo ${i}`)).to.deep.equal(fresh(`${PREAMBLE}RUN echo ${i}`));
    expect(parseDockerfile(text), 'dropped after 600 newer texts').to.not.equal(first);
    expect(read(text)).to.deep.equal(fresh(text));
    const long = `${PREAMBLE}RUN ${'x'.repeat(5000)}`;
    expect(parseDockerfile(long), 'a long text is not kept').to.not.equal(parseDockerfile(long));
  });
});
