/**
 * `envctl duplicate`: a new environment with another's spec and files. The
 * YAML is edited as text at the parsed positions of its top-level keys, so
 * comments, order and layout stay as the source had them; the result is
 * parsed again and compared with what was meant before anything is written.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { replaceDir, writeFileAtomic } from '../files/write.js';
import { FOLDER_SPEC, NAME_PATTERN, type LoadedEnvironment } from '../load/environments.js';
import { LineIndex } from '../load/lines.js';
import { escapePointer, parseYaml, type PositionLookup } from '../load/yaml.js';
import { UsageError } from '../model/errors.js';
import type { Repository } from './index.js';
import { updateRevisions } from './revisions.js';

/** Same as the schema's owner pattern. */
const OWNER_PATTERN = /^@?[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/** Fields a duplicate does not take over: it is a new, selectable environment with its own history. */
export const NOT_COPIED = ['archived', 'renamedFrom'] as const;

export interface DuplicateOptions {
  /** The new environment's owner; default the source's. */
  owner?: string;
}

export interface Duplicated {
  from: string;
  to: string;
  /** What was written, relative to the repository root: `<dir>/<to>.yaml`, or the folder `<dir>/<to>/`. */
  path: string;
  /** Files written, relative to the repository root. */
  files: string[];
  owner: string | undefined;
  /** Top-level fields of the source left out of the copy. */
  removed: string[];
  /** When the new name had revisions before (deleted since): its numbering continues after this one. */
  previousRevisions?: number;
}

export async function duplicateEnvironment(repo: Repository, from: string, to: string, opts: DuplicateOptions = {}): Promise<Duplicated> {
  const dir = repo.config.environmentsDir;
  if (!NAME_PATTERN.test(to)) throw new UsageError(`"${to}" is not a valid environment name: use lowercase letters, digits and single dashes`);
  const source = repo.loaded.find((e) => e.name === from);
  if (!source) throw new UsageError(`no environment "${from}" in ${dir}/`);
  if (opts.owner !== undefined && !OWNER_PATTERN.test(opts.owner)) throw new UsageError(`--owner "${opts.owner}": an owner is a GitHub login or @org/team`);
  const taken = [`${dir}/${to}.yaml`, `${dir}/${to}.yml`, `${dir}/${to}`].filter((p) => existsSync(join(repo.root, p)));
  if (repo.loaded.some((e) => e.name === to) || taken.length > 0) {
    throw new UsageError(`environment "${to}" already exists (${taken[0] ?? `${dir}/${to}`}); choose another name`);
  }
  const broken = repo.problems.find((p) => p.file === source.file && p.severity === 'error' && (p.rule.startsWith('yaml-') || p.rule === 'encoding' || p.rule === 'file-too-large'));
  if (broken || source.data === null || typeof source.data !== 'object' || Array.isArray(source.data)) {
    throw new UsageError(`${source.file} does not parse as a mapping${broken ? ` (line ${broken.line}: ${broken.message})` : ''}; fix it first`);
  }

  const data = source.data as Record<string, unknown>;
  const removed = NOT_COPIED.filter((k) => Object.hasOwn(data, k));
  const owner = opts.owner ?? (typeof data.owner === 'string' ? data.owner : undefined);
  const text = editSpec(source, removed, opts.owner);

  const files: string[] = [];
  let path: string;
  if (source.folder) {
    path = `${dir}/${to}/`;
    await replaceDir(join(repo.root, dir, to), async (tmp) => {
      await writeFile(join(tmp, FOLDER_SPEC), text);
      files.push(`${dir}/${to}/${FOLDER_SPEC}`);
      for (const f of source.context) {
        const rel = f.path.slice(source.folder!.length + 1);
        await mkdir(dirname(join(tmp, rel)), { recursive: true });
        await writeFile(join(tmp, rel), f.bytes);
        if (f.executable) await chmod(join(tmp, rel), 0o755);
        files.push(`${dir}/${to}/${rel}`);
      }
    });
  } else {
    path = `${dir}/${to}.yaml`;
    await writeFileAtomic(join(repo.root, path), text);
    files.push(path);
  }

  const out: Duplicated = { from, to, path, files, owner, removed: [...removed] };
  const before = await previousRevisions(repo, to);
  if (before) out.previousRevisions = before;
  return out;
}

/** The source's YAML with `remove` left out and the owner replaced (or added). */
export function editSpec(source: Pick<LoadedEnvironment, 'text' | 'data' | 'positions' | 'file'>, remove: readonly string[], owner?: string): string {
  const { text, positions } = source;
  const data = source.data as Record<string, unknown>;
  const root = positions.get('');
  if (root && text[root.value] === '{') throw new UsageError(`${source.file} is one flow mapping ({…}); duplicate edits block-style YAML only`);
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
    throw new Error(`could not edit ${source.file} in place (the result would not read back as intended); copy it by hand`);
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

async function previousRevisions(repo: Repository, name: string): Promise<number | undefined> {
  try {
    const log = await updateRevisions(repo.root, repo.config);
    if (log.head === undefined) return undefined;
    const own = await log.read(name);
    return own.length ? Math.max(...own.map((r) => r.number)) : undefined;
  } catch {
    return undefined; // a shallow clone or no history: nothing to say
  }
}
