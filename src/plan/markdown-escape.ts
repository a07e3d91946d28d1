/**
 * The escapers for every Markdown context the plan comment writes a value
 * in: `fenced` (diffs), `codeSpan` (names, branches, positions, owners),
 * `markdownText` (running text, headings, table cells) and `htmlText`
 * (inside the comment's own HTML: a <summary>). None can add HTML, a link,
 * a mention, a line or a table cell.
 */

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

/**
 * Text inside HTML the comment writes (a `<summary>`), where Markdown is not
 * parsed, so backslashes would show: `& < > " '` as references, controls
 * shown escaped, mentions and links broken as in `markdownText` (GitHub's
 * filters run on the rendered text there too).
 */
export function htmlText(value: string): string {
  return breakLinks(visibleControls(value)).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
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
