/**
 * Escaping for Dockerfile syntax (never HTML). Every user value that reaches
 * a Dockerfile goes through one of these; none can end the line, break out
 * of its quotes, or be expanded as a variable.
 */

/** A double-quoted word for ENV and LABEL: `\`, `"` and `$` escaped, one line. */
export function dockerQuote(value: string): string {
  return `"${oneLine(value).replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** Text after `#`: a newline would end the comment and start an instruction. */
export function dockerComment(value: string): string {
  return oneLine(value);
}

/** Names the schema already restricts (image references, users); refuse anything else outright. */
export function dockerWord(value: string, what: string): string {
  if (!/^[A-Za-z0-9_.:/@+-]+$/.test(value)) throw new Error(`refusing to write ${what} ${JSON.stringify(value)} into a Dockerfile`);
  return value;
}

/** Control characters (line breaks included) become spaces; runs of them one space. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g;
export function oneLine(value: string): string {
  return value.replace(CONTROL, ' ');
}
