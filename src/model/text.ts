/**
 * Text for the terminal and for GitHub Actions logs, from values envctl does
 * not control (commit subjects and authors, file names, YAML keys and
 * values, messages from registries, builders and GitHub).
 *
 * Two dangers. A terminal obeys control characters: ESC starts a sequence
 * that can retitle the window, move the cursor or rewrite what was printed;
 * `\r` returns to the start of the line to overwrite it; bidi overrides make
 * text read in another order than it is ("trojan source"). And the Actions
 * runner reads every line of a step's stdout and stderr as a possible
 * workflow command. actions/runner, src/Runner.Common/ActionCommand.cs:
 * TryParseV2 trims the line's leading whitespace (.NET's TrimStart, any
 * Unicode white space) and takes a line starting with `::` as
 * `::name props::data`; the older TryParse finds `##[name props]data`
 * anywhere in the line. ActionCommandManager.TryProcessCommand tries both
 * on every line, `stop-commands` included, and ProcessInvoker reads lines
 * with StreamReader.ReadLine, which ends a line at `\r` as well as `\n`.
 * Azure Pipelines' agent reads `##vso[` the same way, anywhere in a line.
 *
 * The escapes are JSON's (`\n`, `\r`, `\t`, `\u001b`, `\u202e`), so the
 * text output shows a value as `--json` does, and text that is JSON stays
 * valid JSON with the same values after `outputText`: the escapes only ever
 * land inside JSON strings. A backslash is not escaped: the text is for
 * reading, `--json` (and files written with --out) carry exact values.
 */

/**
 * C0 controls, DEL, C1 controls, line and paragraph separators, the bidi
 * embeddings, overrides and isolates (U+202A–202E, U+2066–2069), and lone
 * surrogates. Tab and newline are in the set; `outputText` keeps them.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** The same without tab and newline. */
const UNPRINTABLE_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  return NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * One value on one line: every character of UNPRINTABLE (newline and tab
 * included) shown as its JSON escape, so a value cannot start a line, move
 * the cursor or reorder what follows it.
 */
export function printable(value: unknown): string {
  return String(value).replace(UNPRINTABLE, escapeChar);
}

/**
 * `::` first on a line (after white space, as the runner trims it) and
 * `##[` or `##vso[` anywhere: the runner's and Azure's command markers.
 */
const LEADING_COMMAND = /^(\s*):(?=:)/;
const OLD_COMMAND = /(##(?:vso)?)\[/g;

/**
 * A whole output line, made unreadable as a workflow command: the first
 * colon of a leading `::` becomes `\u003a`, the `[` of `##[` (and of
 * `##vso[`) becomes `\u005b`. Visible, stable (guarding twice changes
 * nothing) and, inside a JSON string, the same characters. Assumes the
 * line has no line breaks of its own (see outputText).
 */
export function guardLine(line: string): string {
  return line.replace(LEADING_COMMAND, '$1\\u003a').replace(OLD_COMMAND, '$1\\u005b');
}

/**
 * Text of several lines as it may reach stdout or stderr: control
 * characters other than the newline between lines and the tab (Dockerfiles,
 * render's tab-separated listing) escaped, then each line guarded. Every
 * line Io.out and Io.err print passes through here.
 */
export function outputText(text: string): string {
  return text.replace(UNPRINTABLE_IN_TEXT, escapeChar).split('\n').map(guardLine).join('\n');
}
