/**
 * Editing a YAML mapping as text at its parsed positions (top-level keys
 * removed, one scalar set), so comments, order and layout stay as the
 * source had them. The result is parsed again and compared with what was
 * meant; anything else is refused rather than written.
 */
import { isDeepStrictEqual } from 'node:util';
import { EnvctlError } from '../model/errors.js';
import { LineIndex } from './lines.js';
import { escapePointer, parseYaml, type PositionLookup } from './yaml.js';

/** A parsed YAML file: its text, value and positions. */
export interface EditableYaml {
  text: string;
  data: unknown;
  positions: PositionLookup;
  file: string;
}

/**
 * The edit cannot be made in place; `reason` says why. A flow mapping is the
 * caller's to rewrite (input, code `yaml-flow-mapping`); an edit that would
 * not read back is this editor's shortcoming (internal, `yaml-edit-mismatch`).
 */
export class YamlEditRefused extends EnvctlError {
  constructor(message: string, readonly reason: 'flow-mapping' | 'would-not-read-back', file: string) {
    super(reason === 'flow-mapping' ? 'input' : 'internal', reason === 'flow-mapping' ? 'yaml-flow-mapping' : 'yaml-edit-mismatch', message, { data: { path: file } });
  }
}

/** The source's YAML with `remove` left out and the owner replaced (or added). */
export function editSpec(source: EditableYaml, remove: readonly string[], owner?: string): string {
  const { text, positions } = source;
  const data = source.data as Record<string, unknown>;
  const root = positions.get('');
  if (root && text[root.value] === '{') throw new YamlEditRefused(`${source.file} is one flow mapping ({…}); duplicate edits block-style YAML only`, 'flow-mapping', source.file);
  const lines = new LineIndex(text);
  const lineStart = (offset: number) => offset - lines.locate('', offset).col + 1;
  const keys = Object.keys(data).map((k) => ({ key: k, at: keyOffset(positions, k) })).sort((a, b) => a.at - b.at);
  const edits: { start: number; end: number; text: string }[] = [];

  for (const k of keys) {
    if (!remove.includes(k.key)) continue;
    edits.push({ start: lineStart(k.at), end: entryEnd(text, k.at, keys.find((n) => n.at > k.at)?.at), text: '' });
  }

  if (owner !== undefined && owner !== data.owner) {
    const line = `owner: ${JSON.stringify(owner)}`;
    const at = keys.find((k) => k.key === 'owner');
    const value = positions.get('/owner')?.value;
    const next = at && keys.find((n) => n.at > at.at)?.at;
    // One line (no deeper-indented continuation): replace the value alone, keeping a comment after it.
    const oneLine = at !== undefined && value !== undefined && entryEnd(text, at.at, next) <= lineEndAfter(text, at.at);
    const end = oneLine ? scalarEnd(text, value!) : undefined;
    if (at && value !== undefined && end !== undefined) {
      edits.push({ start: value, end, text: JSON.stringify(owner) });
    } else if (at) {
      // A value over several lines: the whole entry becomes one line.
      const indent = ' '.repeat(at.at - lineStart(at.at));
      edits.push({ start: lineStart(at.at), end: entryEnd(text, at.at, next), text: `${indent}${line}\n` });
    } else {
      const first = keys[0];
      const start = first ? lineStart(first.at) : text.length;
      edits.push({ start, end: start, text: `${first ? ' '.repeat(first.at - start) : ''}${line}\n` });
    }
  }

  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);

  // Never write something other than what was meant.
  const expected: Record<string, unknown> = { ...data };
  for (const k of remove) delete expected[k];
  if (owner !== undefined) expected.owner = owner;
  const again = parseYaml(out, source.file);
  if (again.problems.length > 0 || !isDeepStrictEqual(again.value, expected)) {
    throw new YamlEditRefused(`could not edit ${source.file} in place (the result would not read back as intended); copy it by hand`, 'would-not-read-back', source.file);
  }
  return out;
}

/** Offset just past the end of the line holding `offset` (after its newline). */
function lineEndAfter(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl + 1;
}

function keyOffset(positions: PositionLookup, key: string): number {
  const pos = positions.get(`/${escapePointer(key)}`);
  return pos?.key ?? pos?.value ?? 0;
}

/**
 * Where a top-level entry starting at `keyAt` ends: after its key's line and
 * every following line indented deeper than the key (its value), up to the
 * next top-level key. Blank and comment lines after the value stay: they
 * belong to what follows.
 */
function entryEnd(text: string, keyAt: number, nextKeyAt: number | undefined): number {
  const lineStartOf = (o: number) => text.lastIndexOf('\n', o - 1) + 1;
  const indent = keyAt - lineStartOf(keyAt);
  const limit = nextKeyAt === undefined ? text.length : lineStartOf(nextKeyAt);
  let end = text.indexOf('\n', keyAt);
  end = end === -1 || end >= limit ? limit : end + 1;
  for (let pos = end; pos < limit; ) {
    const nl = text.indexOf('\n', pos);
    const lineEnd = nl === -1 || nl >= limit ? limit : nl + 1;
    const line = text.slice(pos, lineEnd);
    const lead = line.length - line.trimStart().length;
    if (line.trim() !== '' && lead > indent) end = lineEnd;
    pos = lineEnd;
  }
  return end;
}

/** End of a scalar that starts at `start` and ends on its line (quoted or plain); undefined for anything else. */
function scalarEnd(text: string, start: number): number | undefined {
  const nl = text.indexOf('\n', start);
  const eol = nl === -1 ? text.length : nl;
  const q = text[start];
  if (q === '"' || q === "'") {
    for (let i = start + 1; i < eol; i++) {
      if (q === '"' && text[i] === '\\') i++;
      else if (q === "'" && text[i] === "'" && text[i + 1] === "'") i++;
      else if (text[i] === q) return i + 1;
    }
    return undefined;
  }
  if (q === '|' || q === '>' || q === '[' || q === '{') return undefined;
  const line = text.slice(start, eol);
  const comment = line.search(/\s#/);
  return start + (comment === -1 ? line : line.slice(0, comment)).trimEnd().length;
}
