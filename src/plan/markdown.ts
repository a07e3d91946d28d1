/**
 * A review as GitHub-flavoured Markdown: the pull-request comment and the
 * job summary. Long diffs are collapsed in <details>. Every value from a
 * spec, a branch or a message goes through one escaper for where it sits:
 * `fenced` (diffs), `codeSpan` (names, branches, positions) or
 * `markdownText` (running text, headings, table cells). None can add HTML,
 * a link, a mention, a line or a table cell to the comment.
 */
import { errorCount, type Problem } from '../model/problem.js';
import type { EnvironmentReview, Review } from './review.js';
import { noun, plural } from '../model/words.js';

/** Diffs longer than this many lines are collapsed. */
const COLLAPSE_AFTER = 25;

export function reviewMarkdown(review: Review, opts: { projects?: Map<string, string[]> } = {}): string {
  const out: string[] = [];
  const n = review.environments.length;
  out.push(`### envctl plan: ${n === 0 ? 'no environment changes' : `${plural(n, 'environment')} ${noun(n, 'changes', 'change')}`}`);
  out.push('', `Merging ${codeSpan(review.change)} into ${codeSpan(review.target)}.`);
  if (review.errors > 0) out.push('', `**${plural(review.errors, 'error')}**: the validate check fails until ${noun(review.errors, 'it is', 'they are')} fixed.`);
  if (n > 0) {
    out.push('', '| environment | revision | build | layers | rebuilds | problems |', '| --- | --- | --- | --- | --- | --- |');
    for (const e of review.environments) {
      out.push(`| ${markdownText(e.environment)} | ${revisionCell(e)} | ${buildCell(e)} | ${layersCell(e)} | ${e.rebuilds.map(markdownText).join(', ') || '–'} | ${problemsCell(e.problems)} |`);
    }
  }
  for (const e of review.environments) out.push('', ...environmentSection(e, opts.projects?.get(e.environment)));
  if (review.otherProblems.length > 0) out.push('', '#### Other problems', '', ...problemList(review.otherProblems));
  return `${out.join('\n')}\n`;
}

function environmentSection(e: EnvironmentReview, projects: string[] | undefined): string[] {
  const out = [`#### ${markdownText(e.environment)}${e.revision !== null ? ` → revision ${e.revision}` : ' (removed)'}`, ''];
  if (e.build?.action === 'reuse') out.push(`- Build: none; reuses revision ${e.build.reusedRevision}'s image (identical build inputs)`);
  else if (e.build) out.push(`- Build: new image${e.build.contentKey ? ` (content key ${codeSpan(e.build.contentKey.slice(0, 12))})` : ', after its base'}`);
  else if (e.change !== 'removed') out.push('- Build: none needed');
  const known = e.layers.total ?? e.layers.atLeast;
  if (known !== undefined) out.push(`- Layers: ${e.layers.total === null ? 'at least ' : ''}${known} of ${e.layers.limit}${known > e.layers.limit ? ' (over the limit)' : ''}`);
  if (e.rebuilds.length > 0) out.push(`- Rebuilds after it: ${e.rebuilds.map(codeSpan).join(', ')}`);
  if (projects) out.push(`- Projects using it: ${projects.length ? projects.map(codeSpan).join(', ') : 'none'}`);
  if (e.problems.length > 0) out.push('', ...problemList(e.problems));
  if (!e.rendered) out.push('', '_The Dockerfile is rendered once the errors above are fixed._');
  for (const [title, diff] of [['Spec diff', e.specDiff], ['Dockerfile diff', e.dockerfileDiff]] as const) {
    if (diff) out.push('', ...collapsible(title, diff));
  }
  return out;
}

function collapsible(title: string, diff: string): string[] {
  const lines = diff.replace(/\n$/, '').split('\n');
  const block = fenced(lines.join('\n'), 'diff');
  if (lines.length <= COLLAPSE_AFTER) return [`**${title}**`, '', block];
  return ['<details>', `<summary>${title} (${lines.length} lines)</summary>`, '', block, '', '</details>'];
}

function problemList(problems: Problem[]): string[] {
  return problems.map((p) => `- ${p.severity === 'error' ? '❌' : '⚠️'} ${codeSpan(`${p.file}:${p.line}:${p.col}`)} ${markdownText(p.message)} ${codeSpan(`[${p.rule}]`)}`);
}

const revisionCell = (e: EnvironmentReview) =>
  e.revision === null ? 'removed' : e.previousRevision === null ? `new: ${e.revision}` : `${e.previousRevision} → ${e.revision}`;

const buildCell = (e: EnvironmentReview) =>
  !e.build ? '–' : e.build.action === 'reuse' ? `reuse r${e.build.reusedRevision}` : 'build';

/** `≥ 131/127`: a lower bound, the base image's layers unknown. */
function layersCell(e: EnvironmentReview): string {
  const known = e.layers.total ?? e.layers.atLeast;
  if (known === undefined) return '?';
  return `${e.layers.total === null ? '≥ ' : ''}${known}/${e.layers.limit}${known > e.layers.limit ? ' ❌' : ''}`;
}

function problemsCell(problems: Problem[]): string {
  const errors = errorCount(problems);
  const warnings = problems.length - errors;
  return [errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ') || '–';
}

/**
 * A fenced code block whose fence is longer than any backtick run in the
 * text: a closing fence must be at least as long as the opening one (GFM
 * 4.5), so no line inside, whichever line ending starts it (CommonMark
 * counts a lone CR as one), can close the block. Inside a block nothing is
 * Markdown, HTML, an autolink or a mention.
 */
export function fenced(text: string, lang = ''): string {
  const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1));
  return `${fence}${lang}\n${text.replace(/\0/g, '\ufffd')}\n${fence}`;
}

/**
 * An inline code span for any value. Its fence is longer than any backtick
 * run inside (GFM 6.1: the span ends at a run of the same length); a value
 * that starts or ends with a backtick or space is padded with one space on
 * each side, which the renderer strips again. Line endings and other
 * controls are shown escaped: a line ending inside a span would let the next
 * line start a block (a table row, an HTML block) before the span closes.
 * Not for table cells: GFM splits a row at a pipe even inside a span.
 */
export function codeSpan(value: string): string {
  const s = visibleControls(value);
  const fence = '`'.repeat(longestRun(s, '`') + 1);
  if (s === '') return '` `'; // an empty span cannot be written: one space shows there is a value
  // A span of spaces only is kept whole by the renderer: no padding to strip.
  const pad = /[^ ]/.test(s) && /^[` ]|[` ]$/.test(s) ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}

/**
 * Plain inline text, table cells and headings included. Controls are shown
 * escaped (one line, always). `&`, `<`, `>`, `|` and `\` become numeric
 * references: no raw HTML or autolink in angle brackets, no cell split (a row
 * is split before references are decoded), and no backslash next to
 * anything we escape. The other marks that mean something mid-line are
 * backslash-escaped, which CommonMark makes literal: `` ` `` (code), `*` `_`
 * (emphasis), `~` (strikethrough), `[` `]` `(` `)` `!` (links, images,
 * footnotes), `#` (a heading's closing run) and `$` (GitHub's math). Text
 * never starts a line (controls are escaped), so line-start marks need
 * nothing. Mentions, issue references and bare-URL autolinks are found in the
 * rendered text (GitHub's filters; GFM's extended autolinks), where escapes
 * are already gone, so a zero-width space breaks their patterns instead:
 * after `@`, after `#` and `GH-` before a digit, between `:` and `//`, and in
 * `www.`.
 */
export function markdownText(value: string): string {
  // One pass, so the references made here are not escaped again.
  return breakLinks(visibleControls(value))
    .replace(/[!#$&()*<>[\\\]_`|~]/g, (c) => (REFERENCED.includes(c) ? `&#${c.charCodeAt(0)};` : `\\${c}`));
}

const REFERENCED = '&<>|\\';
const ZWSP = '\u200b';

function breakLinks(s: string): string {
  return s
    .replace(/@/g, `@${ZWSP}`)
    .replace(/(#|\bGH-)(?=\d)/gi, `$1${ZWSP}`)
    .replace(/:(?=\/\/)/g, `:${ZWSP}`)
    .replace(/\b(www)\./gi, `$1${ZWSP}.`);
}

/**
 * C0 and C1 controls, DEL, the Unicode line and paragraph separators and the
 * bidirectional overrides shown as `\n`, `\r`, `\t` or `\uXXXX`: none can end
 * a line or reorder what a reviewer reads.
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
export function visibleControls(s: string): string {
  return s.replace(CONTROLS, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function longestRun(s: string, mark: string): number {
  let longest = 0;
  let run = 0;
  for (const c of s) {
    run = c === mark ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}
