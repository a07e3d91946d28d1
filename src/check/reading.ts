/**
 * The instructions block read the way the builders read it, independently of
 * dockerfile-ast, so that every line a builder takes as an instruction is an
 * instruction to the checks as well.
 *
 * Two readings:
 * - `classic`: the parser without heredocs, which buildah 1.28 uses
 *   (openshift/imagebuilder v1.2.5, dockerfile/parser/parser.go; heredocs
 *   came in imagebuilder v1.2.6, commit b0d49c4). A line ending in the escape
 *   character (`\`, spaces and tabs after it allowed) continues, even `\\`;
 *   inside a continuation, blank lines and comment lines are skipped; a
 *   logical line's first word is its instruction.
 * - `buildkit`: moby/buildkit frontend/dockerfile/parser/parser.go, which
 *   docker buildx uses: the same continuations except that `\\` at the end
 *   does not continue (`([^\\])\\[ \t]*$`, since 2020), and after a RUN, COPY
 *   or ADD (also under ONBUILD, not in JSON form) each word of the shape
 *   `<<NAME`, `<<-NAME`, `<<"NAME"`, `2<<NAME` opens a heredoc whose body runs
 *   to a line equal to NAME (leading tabs dropped for `<<-`); the body is not
 *   instructions.
 *
 * Both take only `\` as the escape character: the block sits after FROM in
 * the rendered file, where `# escape=` is no parser directive.
 */

export type ReadingName = 'classic' | 'buildkit';

export interface Heredoc {
  /** The terminator, quotes removed. */
  name: string;
  /** Where `<<` starts: 0-based line and column in the text. */
  line: number;
  col: number;
  /** 0-based lines of the body and terminator (inclusive); `end` is the text's last line when never terminated. */
  bodyStart: number;
  end: number;
  terminated: boolean;
}

export interface LogicalLine {
  /** The first word, upper-cased. */
  keyword: string;
  /** The first word as written. */
  word: string;
  /** 0-based line and column of the first word in the text. */
  line: number;
  col: number;
  /** 0-based last line it takes (continuations, heredoc bodies). */
  endLine: number;
  /** The joined text, continuations removed. */
  text: string;
  /** Maps an offset in `text` to its 0-based line and column in the text. */
  at: (offset: number) => { line: number; col: number };
  heredocs: Heredoc[];
}

export interface Reading {
  name: ReadingName;
  lines: LogicalLine[];
}

/** Go's unicode.IsSpace, which both parsers use to trim a line's start. */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
/** The parsers' split between an instruction and its arguments (`[\t\v\f\r ]+`). */
const COMMAND_SPLIT = /[\t\v\f\r ]/;
const CONTINUES: Record<ReadingName, RegExp> = {
  classic: /\\[ \t]*$/,
  buildkit: /(?:^|[^\\])\\[ \t]*$/,
};
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);

function trimStart(s: string): string {
  let i = 0;
  while (i < s.length && GO_SPACE.test(s[i]!)) i++;
  return s.slice(i);
}

function isComment(s: string): boolean {
  return trimStart(s).startsWith('#');
}

interface Piece { offset: number; line: number; col: number }

export function read(text: string, name: ReadingName): Reading {
  // Go's line scanners split on "\n" only and drop a "\r" before it.
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const out: LogicalLine[] = [];
  const cont = CONTINUES[name];
  let i = 0;
  while (i < lines.length) {
    const raw = lines[i]!;
    const first = trimStart(raw);
    const start = i++;
    if (first.startsWith('#') || first === '') continue; // a comment or blank line between instructions
    const pieces: Piece[] = [{ offset: 0, line: start, col: raw.length - first.length }];
    let joined = first;
    let open = cont.test(first);
    if (open) joined = joined.replace(cont, (m) => (m.startsWith('\\') ? '' : m[0]!));
    while (open && i < lines.length) {
      const next = lines[i]!;
      const at = i++;
      if (isComment(next) || trimStart(next) === '') continue; // skipped, and the continuation goes on
      open = cont.test(next);
      pieces.push({ offset: joined.length, line: at, col: 0 });
      joined += open ? next.replace(cont, (m) => (m.startsWith('\\') ? '' : m[0]!)) : next;
    }
    const at = (offset: number) => {
      let p = pieces[0]!;
      for (const q of pieces) if (q.offset <= offset) p = q;
      return { line: p.line, col: p.col + offset - p.offset };
    };
    // splitCommand trims the joined line before taking its first word (a lone "\\" line leaves it to the next one).
    const wordAt = joined.length - trimStart(joined).length;
    const word = joined.slice(wordAt).split(COMMAND_SPLIT, 1)[0]!;
    const head = at(wordAt);
    const logical: LogicalLine = { keyword: word.toUpperCase(), word, line: head.line, col: head.col, endLine: i - 1, text: joined, at, heredocs: [] };
    if (name === 'buildkit' && joined.includes('<<') && canContainHeredoc(joined)) { // BuildKit looks only when the line holds "<<"
      for (const opener of heredocOpeners(joined)) {
        const where = at(opener.offset);
        const doc: Heredoc = { name: opener.name, line: where.line, col: where.col, bodyStart: i, end: lines.length - 1, terminated: false };
        for (; i < lines.length; i++) {
          const candidate = opener.chomp ? lines[i]!.replace(/^\t+/, '') : lines[i]!;
          if (candidate === opener.name) {
            doc.terminated = true;
            doc.end = i++;
            break;
          }
        }
        logical.heredocs.push(doc);
      }
      logical.endLine = Math.max(logical.endLine, i - 1);
    }
    out.push(logical);
  }
  return { name, lines: out };
}

/** RUN, COPY, ADD (or ONBUILD with one of them), not in JSON form: BuildKit's canContainHeredoc. */
function canContainHeredoc(line: string): boolean {
  let rest = trimStart(line);
  let word = rest.split(COMMAND_SPLIT, 1)[0]!.toUpperCase();
  rest = rest.slice(word.length);
  if (word === 'ONBUILD') {
    rest = rest.replace(/^[\t\v\f\r ]+/, '');
    word = rest.split(COMMAND_SPLIT, 1)[0]!.toUpperCase();
    rest = rest.slice(word.length);
  }
  if (!HEREDOC_KEYWORDS.has(word)) return false;
  const args = rest.replace(/^(\s*--\S+)*/, '').trim();
  if (args.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(args);
      if (Array.isArray(parsed) && parsed.every((a) => typeof a === 'string')) return false;
    } catch {
      // not JSON: shell form
    }
  }
  return true;
}

export interface HeredocOpener { name: string; chomp: boolean; offset: number }

/** BuildKit's heredocsFromLine: words lexed with quotes and escapes kept, each matched against `^(\d*)<<(-?)\s*([^<]*)$`. */
export function heredocOpeners(line: string): HeredocOpener[] {
  const out: HeredocOpener[] = [];
  for (const w of lexWords(line, true) ?? []) {
    const m = /^(\d*)<<(-?)\s*([^<]*)$/.exec(w.text);
    if (!m || m[3] === '') continue;
    const names = lexWords(m[3]!, false);
    if (!names || names.length !== 1) continue; // BuildKit: not one word, so no heredoc
    out.push({ name: names[0]!.text, chomp: m[2] === '-', offset: w.offset });
  }
  return out;
}

/**
 * BuildKit's shell lexer as the heredoc search uses it (shell/lex.go
 * processWords): words split at Unicode spaces outside quotes; `raw` keeps
 * quotes and escapes as written; `<<` takes the spaces and tabs after it into
 * its word. An unclosed quote gives no words at all (undefined), as there.
 */
export function lexWords(text: string, raw: boolean): { text: string; offset: number }[] | undefined {
  const words: { text: string; offset: number }[] = [];
  let word = '';
  let begin = -1;
  const add = (s: string, at: number) => {
    if (begin < 0) begin = at;
    word += s;
  };
  const end = () => {
    if (begin >= 0) words.push({ text: word, offset: begin });
    word = '';
    begin = -1;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const close = quoteEnd(text, i);
      if (close < 0) return undefined;
      const inner = text.slice(i + 1, close);
      add(raw ? text.slice(i, close + 1) : c === '"' ? inner.replace(/\\(["$\\])/g, '$1') : inner, i);
      i = close;
    } else if (c === '\\') {
      if (i + 1 < text.length) add(raw ? text.slice(i, i + 2) : text[i + 1]!, i);
      else if (raw) add(c, i);
      i++;
    } else if (c === '<' && text[i + 1] === '<') {
      let j = i + 2;
      while (j < text.length && /[\t\r ]/.test(text[j]!)) j++;
      add(text.slice(i, j), i);
      i = j - 1;
    } else if (GO_SPACE.test(c)) {
      end();
    } else {
      add(c, i);
    }
  }
  end();
  return words;
}

/** Index of the quote closing the one at `open`; in double quotes a backslash escapes `"`, `$` and `\`. */
function quoteEnd(text: string, open: number): number {
  const q = text[open]!;
  for (let i = open + 1; i < text.length; i++) {
    if (q === '"' && text[i] === '\\' && i + 1 < text.length) {
      i++;
      continue;
    }
    if (text[i] === q) return i;
  }
  return -1;
}

/**
 * Heredoc syntax as any reader might take it, for builders without heredocs:
 * outside quotes, a word starting `<<` (after digits or a backslash) followed
 * by a terminator. Wider than BuildKit's rule on purpose: dockerfile-ast also
 * takes `\<<END` as a heredoc.
 */
export function heredocSyntax(line: string): number[] {
  const out: number[] = [];
  if (!line.includes('<<')) return out;
  for (const w of lexWords(line, true) ?? lexWordsLoose(line)) {
    if (/^\\?\d*<<-?\s*[^<\s]/.test(w.text)) out.push(w.offset + w.text.indexOf('<<'));
  }
  return out;
}

/** Words split at spaces only, for lines whose quotes do not close. */
function lexWordsLoose(line: string): { text: string; offset: number }[] {
  return [...line.matchAll(/\S+/g)].map((m) => ({ text: m[0], offset: m.index }));
}
