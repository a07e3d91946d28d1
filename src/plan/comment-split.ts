/**
 * A plan's Markdown as the comment bodies GitHub accepts. GitHub refuses a
 * body over 65,536 characters; a character is at least one UTF-8 byte, so
 * bodies are measured in bytes and kept under the limit less a margin. A
 * plan that fits is one comment. One that does not is cut at the blocks
 * markdown.ts marks (each closes what it opens) into several comments, each
 * carrying a hidden `<!-- envctl-plan i/n -->` so a later run finds them all;
 * a block too long for a comment of its own loses its diffs to their
 * summaries, and past that is cut at a line with its open fence and
 * <details> closed first. Every note about what was left out stands outside
 * any <details> or fence and points to where the whole plan is.
 *
 * The text may come from a fork's run, so nothing here trusts its markers:
 * whatever it holds, every body is under the limit.
 */
import { BLOCK_MARKER, bytes, DIFF_END_MARKER, DIFF_START, planMeta } from './markdown.js';

/** GitHub's limit for an issue comment body. */
export const COMMENT_LIMIT = 65_536;
/** Kept free under the limit: GitHub counts after its own normalisation, which may add (CRLF line ends). */
export const COMMENT_MARGIN = 2_048;
/** Past this many comments, every block's diffs give way to their summaries first. */
const FEW_COMMENTS = 5;

/** Every plan comment's first line (the one marker of envctl's single comment before plans were split). */
export const PLAN_MARKER = '<!-- envctl:plan -->';
/** A part's place: `<!-- envctl-plan 2/3 -->`. */
export const PART_MARKER = /<!-- envctl-plan (\d{1,4})\/(\d{1,4}) -->/;
export const partMarker = (i: number, n: number): string => `<!-- envctl-plan ${i}/${n} -->`;

export interface SplitOptions {
  /** Bytes a body may have; default COMMENT_LIMIT less COMMENT_MARGIN. */
  limit?: number;
}

export function commentBodies(markdown: string, opts: SplitOptions = {}): string[] {
  const limit = opts.limit ?? COMMENT_LIMIT - COMMENT_MARGIN;
  const text = markdown.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  const where = wholePlan(planMeta(text).run);
  const single = `${header(1, 1)}${text}\n`;
  if (bytes(single) <= limit) return [single];

  const blocks = text.split(`\n\n${BLOCK_MARKER}\n\n`);
  // What every part adds around its blocks, counted at its longest (a three-digit part count).
  const reserve = bytes(header(999, 999)) + bytes(continued(999, 999)) + bytes(footer(999, 999, where)) + 8;
  const budget = limit - reserve;
  if (budget < 1024) throw new RangeError(`a comment limit of ${limit} bytes leaves no room for a plan`);

  const fitted = blocks.map((b) => fit(b, budget, where));
  let parts = pack(fitted, budget);
  if (parts.length > FEW_COMMENTS) parts = pack(fitted.map((b) => fit(withoutDiffs(b, where), budget, where)), budget);
  const n = parts.length;
  return parts.map((blocksOf, i) => `${header(i + 1, n)}${i > 0 ? continued(i + 1, n) : ''}${blocksOf.join('\n\n')}\n\n${footer(i + 1, n, where)}\n`);
}

function header(i: number, n: number): string {
  return `${PLAN_MARKER}\n${partMarker(i, n)}\n`;
}

function continued(i: number, n: number): string {
  return `### envctl plan, continued (${i} of ${n})\n\n`;
}

function footer(i: number, n: number, where: string): string {
  return `---\n_This plan is in ${n} comments (this is ${i} of ${n}); the whole plan is in ${where}._`;
}

/** Links only to the run the plan's meta line names, checked there against a strict pattern. */
function wholePlan(run: string | undefined): string {
  return run ? `the [job summary](${run}) and the [\`envctl-plan\` artifact](${run}#artifacts)` : "the workflow run's job summary and its `envctl-plan` artifact";
}

/** Blocks in order, as many to a part as fit. */
function pack(blocks: string[], budget: number): string[][] {
  const parts: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const b of blocks) {
    const add = bytes(b) + (current.length ? 2 : 0);
    if (current.length && size + add > budget) {
      parts.push(current);
      current = [];
      size = 0;
    }
    current.push(b);
    size += current.length === 1 ? bytes(b) : add;
  }
  if (current.length) parts.push(current);
  return parts;
}

/** A block that fits as it is; else without its diffs; else cut. */
function fit(block: string, budget: number, where: string): string {
  if (bytes(block) <= budget) return block;
  const summarised = withoutDiffs(block, where);
  return bytes(summarised) <= budget ? summarised : cut(summarised, budget, where);
}

/** Each marked diff replaced by its summary line (what it was and how long). */
export function withoutDiffs(block: string, where: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of block.split('\n')) {
    const start = DIFF_START.exec(line);
    if (!skipping && start) {
      out.push(`_${start[1]} (${start[2]} lines) left out for length: see ${where}._`);
      skipping = true;
    } else if (skipping) {
      if (line === DIFF_END_MARKER) skipping = false;
    } else out.push(line);
  }
  // An end marker never came (not our text): the lines after the start are gone, which only shortens it.
  return out.join('\n');
}

/** An HTML block's tag counts only at a line's start (CommonMark 4.6, type 6): `<details>` in a code span opens nothing. */
const OPEN_DETAILS = /^ {0,3}<details(?=[\s>]|$)/i;
const CLOSE_DETAILS = /^ {0,3}<\/details(?=[\s>]|$)/i;
const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/**
 * The block's first lines that fit with the closing of whatever they leave
 * open: the fence first (inside it nothing is HTML), then each <details>,
 * then the note, outside both (by default one pointing to `where`).
 */
export function cut(block: string, budget: number, where: string, note = `_Cut here for length: the rest is in ${where}._`): string {
  const kept: string[] = [];
  let fence: string | null = null;
  let depth = 0;
  let size = 0;
  const closing = () => (fence ? bytes(fence) + 1 : 0) + depth * bytes('\n\n</details>') + bytes(`\n\n${note}`);
  for (const line of block.split('\n')) {
    const next = scan(line, fence, depth);
    const room = budget - size - 1 - Math.max(closing(), closingOf(next.fence, next.depth, note));
    if (bytes(line) > room) {
      // One line longer than what is left: as much of it as fits, inside what is open now.
      const part = sliceBytes(line, budget - size - 1 - closing());
      // Only inside a fence, and only if the piece does not itself end the fence.
      if (part.length > 0 && fence && scan(part, fence, depth).fence === fence) kept.push(part);
      break;
    }
    kept.push(line);
    size += bytes(line) + 1;
    fence = next.fence;
    depth = next.depth;
  }
  if (fence) kept.push(fence);
  for (let i = 0; i < depth; i++) kept.push('', '</details>');
  kept.push('', note);
  return kept.join('\n');
}

function closingOf(fence: string | null, depth: number, note: string): number {
  return (fence ? bytes(fence) + 1 : 0) + depth * bytes('\n\n</details>') + bytes(`\n\n${note}`);
}

/** The fence and <details> depth after a line: fences per GFM (closed by the same mark, at least as long, nothing after); tags counted outside fences. */
function scan(line: string, fence: string | null, depth: number): { fence: string | null; depth: number } {
  const f = FENCE.exec(line);
  if (fence) {
    const closes = f && f[1]![0] === fence[0] && f[1]!.length >= fence.length && f[2]!.trim() === '';
    return { fence: closes ? null : fence, depth };
  }
  if (f && !(f[1]![0] === '`' && f[2]!.includes('`'))) return { fence: f[1]!, depth };
  if (OPEN_DETAILS.test(line)) return { fence: null, depth: depth + 1 };
  if (CLOSE_DETAILS.test(line)) return { fence: null, depth: Math.max(0, depth - 1) };
  return { fence: null, depth };
}

/** The longest start of `s` of at most `n` UTF-8 bytes, never half a character. */
function sliceBytes(s: string, n: number): string {
  if (n <= 0) return '';
  let used = 0;
  let end = 0;
  for (const ch of s) {
    const b = bytes(ch);
    if (used + b > n) break;
    used += b;
    end += ch.length;
  }
  return s.slice(0, end);
}
