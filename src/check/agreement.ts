/**
 * The checker and the builder must see the same instructions. dockerfile-ast
 * gives the instructions the checks look into; `reading.ts` reads the same
 * text as each builder envctl may use for this repository would. Every line
 * that any of them starts an instruction at is an instruction to the checks
 * (FROM refused, unknown words, layers); a line that one takes as an
 * instruction and another does not is an error, and heredocs are refused for
 * a builder without them (buildah 1.28; `auto` may pick buildah).
 */
import type { Config } from '../model/config.js';
import { problem, type Location, type Problem } from '../model/problem.js';
import { heredocSyntax, read, type LogicalLine, type ReadingName } from './reading.js';

/** An instruction as dockerfile-ast starts it: 0-based block line and column of its keyword, last block line. */
export interface AstStart { keyword: string; word: string; line: number; col: number; endLine: number }

/** A line a builder reads as an instruction that dockerfile-ast does not start one at. */
export interface BuilderOnly { keyword: string; line: number; col: number; text: string }

export interface Agreement {
  /** The readings of the configured builder(s) all end before the sentinel line, which starts an instruction of its own. */
  endsCleanly: boolean;
  builderOnly: BuilderOnly[];
  problems: Problem[];
  /** Keywords to check per 0-based block line (FROM, unknown): every reading's, deduplicated. */
  keywords: Map<number, { keyword: string; word: string; col: number; inRefusedHeredoc: boolean }[]>;
  /** The keyword the (first) builder reading starts at each line: what it builds, and what layers count. */
  builderKeyword: Map<number, string>;
}

const WHO: Record<ReadingName | 'ast', string> = {
  classic: 'buildah',
  buildkit: 'docker buildx (BuildKit)',
  ast: "envctl's Dockerfile parser",
};

export function readingsFor(builder: Config['builder']): ReadingName[] {
  if (builder === 'buildah') return ['classic'];
  if (builder === 'docker') return ['buildkit'];
  return ['classic', 'buildkit']; // auto: buildah when installed, else docker buildx
}

/**
 * `text` is the block as rendered followed by the sentinel line at
 * `sentinelLine` (0-based); `ast` holds dockerfile-ast's instructions before it.
 */
export function checkAgreement(text: string, sentinelLine: number, ast: AstStart[], builder: Config['builder'], locate: (line: number, col: number) => Location, plain = false): Agreement {
  if (plain) return plainAgreement(ast);
  const problems: Problem[] = [];
  const names = readingsFor(builder);
  const readings = names.map((name) => read(text, name));
  const endsCleanly = readings.every((r) => {
    const last = r.lines[r.lines.length - 1];
    return last !== undefined && last.line === sentinelLine && last.keyword === 'LABEL' && last.heredocs.length === 0;
  });

  // Who starts an instruction at each line, and with which keyword.
  type Start = { source: ReadingName | 'ast'; keyword: string; word: string; col: number; endLine: number; logical?: LogicalLine };
  const starts = new Map<number, Start[]>();
  const add = (line: number, s: Start) => {
    if (line >= sentinelLine) return;
    const list = starts.get(line) ?? [];
    list.push(s);
    starts.set(line, list);
  };
  for (const a of ast) add(a.line, { source: 'ast', keyword: a.keyword, word: a.word, col: a.col, endLine: a.endLine });
  for (const r of readings) for (const l of r.lines) add(l.line, { source: r.name, keyword: l.keyword, word: l.word, col: l.col, endLine: l.endLine, logical: l });

  // Heredocs refused for a builder without them; the lines they would hold are not also reported one by one.
  const refused: [number, number][] = [];
  let buildkit: ReturnType<typeof read> | undefined;
  if (names.includes('classic')) {
    for (const [line, list] of [...starts].sort((x, y) => x[0] - y[0])) {
      const logical = list.find((s) => s.source === 'classic')?.logical;
      if (!logical || !isHeredocKeyword(logical)) continue;
      const offsets = heredocSyntax(logical.text);
      if (offsets.length === 0) continue;
      const at = logical.at(offsets[0]!);
      problems.push(problem(locate(at.line, at.col), 'error', 'instructions-heredoc-unsupported',
        `${logical.keyword} uses a heredoc (<<), which ${builder === 'auto' ? 'buildah (builder: auto picks it when installed)' : 'buildah'} does not support: ` +
        'it would read the lines after it as instructions. Put the script in a file in the environment\'s folder and COPY it ' +
        '(e.g. COPY setup.sh /tmp/ then RUN sh /tmp/setup.sh), or set `builder: docker` in envctl.yaml'));
      // The lines a heredoc-reading parser would hold: dockerfile-ast's and BuildKit's extent of this instruction.
      buildkit ??= readings.find((r) => r.name === 'buildkit') ?? read(text, 'buildkit');
      const theirs = buildkit.lines.find((l) => l.line === line)?.endLine ?? line;
      refused.push([line + 1, Math.max(theirs, ...list.map((s) => s.endLine))]);
    }
  }
  const inRefused = (line: number) => refused.some(([a, b]) => line >= a && line <= b);

  const sources: (ReadingName | 'ast')[] = ['ast', ...names];
  const keywords: Agreement['keywords'] = new Map();
  const builderOnly: BuilderOnly[] = [];
  const builderKeyword = new Map<number, string>();
  for (const [line, list] of [...starts].sort((x, y) => x[0] - y[0])) {
    const hidden = inRefused(line);
    const seen = new Set<string>();
    keywords.set(line, list.filter((s) => !seen.has(s.keyword) && seen.add(s.keyword)).map((s) => ({ keyword: s.keyword, word: s.word, col: s.col, inRefusedHeredoc: hidden })));
    const byBuilder = list.find((s) => s.source !== 'ast');
    if (byBuilder) builderKeyword.set(line, byBuilder.keyword);
    const missing = sources.filter((src) => !list.some((s) => s.source === src));
    if (!list.some((s) => s.source === 'ast')) {
      const first = list[0]!;
      builderOnly.push({ keyword: first.keyword, line, col: first.col, text: first.logical?.text ?? '' });
    }
    if (missing.length === 0 || hidden) continue;
    const readers = sources.filter((src) => !missing.includes(src));
    const first = list[0]!;
    problems.push(problem(locate(line, first.col), 'error', 'instructions-reading',
      `${readers.map((s) => WHO[s]).join(' and ')} read${readers.length === 1 ? 's' : ''} "${first.keyword}" here as an instruction, ` +
      `${missing.map((s) => WHO[s]).join(' and ')} ${missing.length === 1 ? 'does' : 'do'} not (it continues the line above or sits in a heredoc): ` +
      'write it so that every reading agrees (no heredoc, no "\\\\" at the end of a line)'));
  }
  return { endsCleanly, builderOnly, problems, keywords, builderKeyword };
}

/**
 * A plain block (check/dockerfile.ts blockStarts: printable ASCII, no "<<",
 * continuations only by a single trailing "\\", never into a blank line, a
 * comment or the sentinel) reads the same to both builders and to
 * dockerfile-ast: the same lines start the same words, nothing is a heredoc,
 * and the sentinel stands alone. What the readings would give is then the
 * starts themselves (test/block-starts.test.ts holds it equal to reading).
 */
function plainAgreement(ast: AstStart[]): Agreement {
  const keywords: Agreement['keywords'] = new Map();
  const builderKeyword = new Map<number, string>();
  for (const a of ast) {
    keywords.set(a.line, [{ keyword: a.keyword, word: a.word, col: a.col, inRefusedHeredoc: false }]);
    builderKeyword.set(a.line, a.keyword);
  }
  return { endsCleanly: true, builderOnly: [], problems: [], keywords, builderKeyword };
}

function isHeredocKeyword(l: LogicalLine): boolean {
  if (l.keyword === 'RUN' || l.keyword === 'COPY' || l.keyword === 'ADD') return true;
  return l.keyword === 'ONBUILD' && /^ONBUILD[\t\v\f\r ]+(RUN|COPY|ADD)(?:[\t\v\f\r ]|$)/i.test(l.text);
}
