/**
 * dockerfile-ast, used as a real Dockerfile parser for the instructions block.
 *
 * Its instructions tokenise their arguments on every call, and the parser
 * itself calls that three times per RUN while building one (heredoc scan,
 * JSON-form scan, flags). Instructions are immutable once parsed, so the
 * tokens are remembered on the instruction itself (a WeakMap cost more than
 * the tokenising it saved); callers get a copy because dockerfile-ast's own
 * flag handling shifts the array it is given.
 *
 * Most blocks are plain: ASCII, no heredoc, continuations only at a single
 * trailing "\". For those `blockStarts` finds where dockerfile-ast would
 * start and end each instruction with one pass over the lines, and hands
 * dockerfile-ast only the instructions a check must look into (COPY, ADD).
 * Anything else takes the full parse (test/block-starts.test.ts holds both
 * paths equal on the corpus and on random blocks).
 */
import { DockerfileParser, Instruction, type Argument, type Dockerfile } from 'dockerfile-ast';

const TOKENS = Symbol('envctl.tokens');
type WithRaw = { getRawArguments(this: Instruction): Argument[] };
type Memo = Instruction & { [TOKENS]?: Argument[] };
const proto = Instruction.prototype as unknown as WithRaw;
const tokenise = proto.getRawArguments;
if (!(tokenise as { envctlMemo?: true }).envctlMemo) {
  const memo = function (this: Instruction): Argument[] {
    const self = this as Memo;
    const args = (self[TOKENS] ??= tokenise.call(this));
    return args.slice();
  };
  (memo as { envctlMemo?: true }).envctlMemo = true;
  proto.getRawArguments = memo;
}

/**
 * Recent parses by text, least recently used dropped first. The same
 * instruction recurs across environments (a shared apt-get RUN, a COPY of
 * requirements.txt) and stages.ts parses each RUN and COPY again on its own;
 * a parse is never changed by its readers, so one serves them all. Bounded
 * in entries and text length, so it holds about a megabyte at most.
 */
const RECENT = 256;
const CACHED_TEXT = 4096;
const recent = new Map<string, Dockerfile>();

export function parseDockerfile(text: string): Dockerfile {
  const hit = recent.get(text);
  if (hit) {
    recent.delete(text);
    recent.set(text, hit);
    return hit;
  }
  const parsed = DockerfileParser.parse(text);
  if (text.length <= CACHED_TEXT) {
    if (recent.size >= RECENT) recent.delete(recent.keys().next().value!);
    recent.set(text, parsed);
  }
  return parsed;
}

/** An instruction as dockerfile-ast starts it: 0-based block line and column of its keyword, last block line. */
export interface BlockStart { keyword: string; word: string; line: number; col: number; endLine: number }

export interface ParsedBlock {
  /** The instructions before the sentinel, in order. */
  starts: BlockStart[];
  /** Read by the fast path: a plain block, which every reader reads alike (agreement.ts). */
  plain: boolean;
  /** The sentinel came out as an instruction of its own, at its line. */
  sentinelClean: boolean;
  /** dockerfile-ast's instruction starting (keyword) at 0-based block line `line`, when there is one. */
  instructionAt(line: number): Instruction | undefined;
}

/**
 * `body` is the block as rendered ("" or ending in "\n"); it is parsed after
 * `preamble` (one line) and followed by `sentinel` (one line).
 */
export function parseBlock(body: string, preamble: string, sentinel: string, fast = true): ParsedBlock {
  const simple = fast ? blockStarts(body) : undefined;
  if (simple) {
    const lines = body.split('\n');
    const byLine = new Map(simple.map((s) => [s.line, s]));
    const parsed = new Map<number, Instruction | undefined>();
    return {
      starts: simple,
      plain: true,
      sentinelClean: true,
      instructionAt(line) {
        const s = byLine.get(line);
        if (!s) return undefined;
        if (!parsed.has(line)) {
          // Alone after the preamble: a plain instruction's flags and arguments depend on its own lines only.
          // Trimmed as stages.ts parses it for its --from, so the two share one parse.
          parsed.set(line, parseDockerfile(preamble + lines.slice(s.line, s.endLine + 1).join('\n').trim()).getInstructions()[1]);
        }
        return parsed.get(line);
      },
    };
  }
  return fullParse(body, preamble, sentinel);
}

function fullParse(body: string, preamble: string, sentinel: string): ParsedBlock {
  const sentinelLine = body.split('\n').length; // parser lines: the preamble is line 0
  const all = parseDockerfile(preamble + body + sentinel).getInstructions();
  const tail = all[all.length - 1];
  const sentinelClean = tail !== undefined && tail.getRange().start.line === sentinelLine && tail.getKeyword() === 'LABEL';
  const starts: BlockStart[] = [];
  const at = new Map<number, Instruction>();
  for (const ins of all) {
    const start = ins.getRange().start;
    if (start.line === 0 || start.line >= sentinelLine) continue; // the preamble and the sentinel
    const kw = ins.getInstructionRange().start;
    starts.push({ keyword: ins.getKeyword().toUpperCase(), word: ins.getKeyword(), line: kw.line - 1, col: kw.character, endLine: ins.getRange().end.line - 1 });
    at.set(kw.line - 1, ins);
  }
  return { starts, plain: false, sentinelClean, instructionAt: (line) => at.get(line) };
}

/** Printable ASCII lines; no tab, "\r" or other space dockerfile-ast and the builders may weigh differently. */
const PLAIN = /^[\x20-\x7e\n]*$/;
const KEYWORD = /^( *)([A-Za-z]+)(?: |$)/;
/** The line ends in the escape character, maybe with spaces after it. */
const ESCAPED = /\\ *$/;
/** A continuation as every reader takes it: one "\" closing the line (BuildKit does not continue after "\\"). */
const CONTINUED = /(?:^|[^\\])\\$/;

/**
 * Where each instruction of a plain block starts and ends, as dockerfile-ast
 * reads it; undefined when the block is not plain (then only the full parse
 * says). Plain: printable ASCII, no "<<", every instruction line starting
 * with a keyword of letters, a line ending in "\" only as a single trailing
 * "\" of an instruction followed by a line that is not blank (comment lines
 * inside the instruction are skipped), and no continuation into the sentinel.
 */
export function blockStarts(body: string): BlockStart[] | undefined {
  if (!PLAIN.test(body) || body.includes('<<')) return undefined;
  const lines = body.split('\n');
  const out: BlockStart[] = [];
  let open: BlockStart | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trimStart();
    const skipped = trimmed === '' || trimmed.startsWith('#');
    const escaped = ESCAPED.test(line);
    if (skipped) {
      // A comment inside a continuation is dropped by dockerfile-ast and both builders alike, whatever it ends in
      // (real Dockerfiles comment their long RUN chains line by line); a blank line there, or a comment ending in "\" outside one, the full parse says.
      if (open && trimmed !== '') continue;
      if (open || escaped) return undefined;
      continue;
    }
    const continued = escaped && CONTINUED.test(line);
    if (escaped && !continued) return undefined;
    if (open) {
      open.endLine = i;
      if (!continued) open = undefined;
      continue;
    }
    const m = KEYWORD.exec(line);
    if (!m) return undefined;
    const keyword = m[2]!.toUpperCase(); // dockerfile-ast's getKeyword() is upper-cased too
    const s: BlockStart = { keyword, word: keyword, line: i, col: m[1]!.length, endLine: i };
    out.push(s);
    if (continued) open = s;
  }
  return open ? undefined : out;
}
