/**
 * YAML text → plain value plus a map from JSON pointer to source position.
 *
 * js-yaml's event parser gives source offsets for every node; one pass over
 * the events records where each key and value starts, finds duplicate keys
 * (all of them, not just the first) and measures how large the document
 * would be with aliases expanded, so an alias bomb is refused before any
 * later stage walks it.
 *
 * Most files are clean, so that pass runs only when needed: when the file
 * has aliases, when constructing the value fails (a duplicate key), or when
 * a later stage first asks where a node is (to report a problem).
 */
import {
  constructFromEvents,
  EVENT_ID,
  getScalarValue,
  parseEvents,
  SCALAR_STYLE,
  type Event,
  type ScalarEvent,
} from 'js-yaml';
import { problem, type Problem } from '../model/problem.js';
import { LineIndex } from './lines.js';

/** Where a node sits in the source: offsets into the text. */
export interface NodePosition {
  /** Offset of the mapping key that leads to this node, when it has one. */
  key?: number;
  /** Offset of the node's own content. */
  value: number;
  /**
   * Literal block scalars (`|`) keep their lines, so lines inside them map
   * exactly: `value` is then the start of the first content line and this
   * is the block's indentation.
   */
  literalIndent?: number;
}

/** Pointer → position; a Map, or an index built on first use. */
export interface PositionLookup {
  get(pointer: string): NodePosition | undefined;
}

export interface ParsedYaml {
  value: unknown;
  positions: PositionLookup;
  lines: LineIndex;
  problems: Problem[];
}

/** Nodes in the document with aliases expanded; real files hold a few hundred. */
export const MAX_EXPANDED_NODES = 100_000;
const MAX_DEPTH = 64;

interface Frame {
  kind: 'map' | 'seq' | 'skip';
  pointer: string;
  index: number;
  /** For maps: the next scalar is a key. */
  expectKey: boolean;
  key?: string;
  keyOffset?: number;
  seen: Map<string, number>;
  size: number;
  anchor?: string;
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function parseYaml(text: string, file: string): ParsedYaml {
  const lines = new LineIndex(text);
  const empty = new Map<string, NodePosition>();
  const failed = (problems: Problem[], positions: PositionLookup = empty): ParsedYaml => ({ value: undefined, positions, lines, problems });

  let events: Event[];
  try {
    events = parseEvents(text, { filename: file, maxDepth: MAX_DEPTH });
  } catch (err) {
    return failed([located(err, file)]);
  }
  let documents = 0;
  let aliases = false;
  for (const e of events) {
    if (e.type === EVENT_ID.DOCUMENT) documents++;
    else if (e.type === EVENT_ID.ALIAS) aliases = true;
  }
  if (documents > 1) {
    return failed([problem(lines.locate(file, lastDocumentOffset(text)), 'error', 'yaml-multiple-documents', 'an environment file holds one YAML document; found more than one')]);
  }

  let walked: Walk | undefined;
  const walk = () => (walked ??= walkEvents(text, events, file, lines));
  if (aliases && walk().problems.length > 0) return failed(walk().problems, walk().positions);

  try {
    const value = constructFromEvents(events, { source: text, filename: file })[0];
    // Keep the text, not the events: positions are rarely asked for, and re-parsing then is cheap.
    let index: Map<string, NodePosition> | undefined;
    const lazy: PositionLookup = { get: (pointer) => (index ??= walked?.positions ?? walkEvents(text, parseEvents(text, { filename: file, maxDepth: MAX_DEPTH }), file, lines).positions).get(pointer) };
    return { value, positions: lazy, lines, problems: [] };
  } catch (err) {
    const problems = walk().problems;
    if (problems.length === 0) return failed([located(err, file)], walk().positions);
    try {
      // json: true lets duplicate keys through (the last wins); they are reported.
      return { value: constructFromEvents(events, { source: text, filename: file, json: true })[0], positions: walk().positions, lines, problems };
    } catch (again) {
      return failed([...problems, located(again, file)], walk().positions);
    }
  }
}

function located(err: unknown, file: string): Problem {
  const e = err as { reason?: string; mark?: { line: number; column: number } };
  return problem({ file, line: (e.mark?.line ?? 0) + 1, col: (e.mark?.column ?? 0) + 1 }, 'error', 'yaml-syntax', e.reason ?? String(err));
}

interface Walk {
  positions: Map<string, NodePosition>;
  problems: Problem[];
}

/** The one pass over the events: positions, duplicate keys, expanded size. */
function walkEvents(text: string, events: Event[], file: string, lines: LineIndex): Walk {
  const problems: Problem[] = [];
  const positions = new Map<string, NodePosition>();
  const at = (offset: number) => lines.locate(file, offset);
  const anchors = new Map<string, number>();
  const stack: Frame[] = [];
  let rootSize = 0;
  let tooLarge = false;

  const place = (): { pointer: string; skip: boolean } => {
    const top = stack[stack.length - 1];
    if (!top) return { pointer: '', skip: false };
    if (top.kind === 'skip') return { pointer: '', skip: true };
    if (top.kind === 'seq') {
      const pointer = `${top.pointer}/${top.index++}`;
      return { pointer, skip: false };
    }
    // Mapping: a value follows its key.
    if (top.expectKey) return { pointer: '', skip: true };
    top.expectKey = true;
    return { pointer: `${top.pointer}/${escapePointer(top.key ?? '')}`, skip: false };
  };

  const record = (pointer: string, offset: number, literalIndent?: number) => {
    const top = stack[stack.length - 1];
    const pos: NodePosition = { value: offset };
    if (top && top.kind === 'map' && top.keyOffset !== undefined) pos.key = top.keyOffset;
    if (literalIndent !== undefined) pos.literalIndent = literalIndent;
    positions.set(pointer, pos);
  };

  const addSize = (n: number) => {
    const top = stack[stack.length - 1];
    if (top) top.size += n;
    else rootSize += n;
  };

  const anchorName = (ev: { anchorStart: number; anchorEnd: number }) =>
    ev.anchorStart >= 0 ? text.slice(ev.anchorStart, ev.anchorEnd) : undefined;

  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        break;
      case EVENT_ID.SCALAR: {
        const top = stack[stack.length - 1];
        if (top && top.kind === 'map' && top.expectKey) {
          takeKey(top, ev);
          break;
        }
        const { pointer, skip } = place();
        const quoted = ev.style === SCALAR_STYLE.SINGLE_QUOTED || ev.style === SCALAR_STYLE.DOUBLE_QUOTED;
        // Point at the opening quote, where an editor shows the value starting.
        if (!skip) record(pointer, quoted ? ev.valueStart - 1 : ev.valueStart, ev.style === SCALAR_STYLE.LITERAL_BLOCK ? Math.max(0, ev.indent) : undefined);
        const name = anchorName(ev);
        if (name) anchors.set(name, 1);
        addSize(1);
        break;
      }
      case EVENT_ID.ALIAS: {
        const top = stack[stack.length - 1];
        const size = anchors.get(text.slice(ev.anchorStart, ev.anchorEnd)) ?? 1;
        if (top && top.kind === 'map' && top.expectKey) {
          problems.push(problem(at(ev.anchorStart), 'error', 'yaml-complex-key', 'an alias cannot be used as a mapping key here'));
          top.expectKey = false;
          top.key = '';
          top.keyOffset = ev.anchorStart;
          break;
        }
        const { pointer, skip } = place();
        if (!skip) record(pointer, ev.anchorStart);
        addSize(size);
        if (totalSize(stack, rootSize) > MAX_EXPANDED_NODES && !tooLarge) {
          tooLarge = true;
          problems.push(problem(at(ev.anchorStart), 'error', 'yaml-alias-bomb',
            `aliases expand this document past ${MAX_EXPANDED_NODES} nodes; write the values out or remove the aliases`));
        }
        break;
      }
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const top = stack[stack.length - 1];
        const kind = ev.type === EVENT_ID.MAPPING ? 'map' : 'seq';
        if (top && top.kind === 'map' && top.expectKey) {
          problems.push(problem(at(ev.start), 'error', 'yaml-complex-key', 'mapping keys must be plain strings'));
          top.expectKey = false;
          top.key = '';
          top.keyOffset = ev.start;
          stack.push(frame('skip', '', undefined));
          break;
        }
        const { pointer, skip } = place();
        if (!skip) record(pointer, ev.start);
        stack.push(frame(skip ? 'skip' : kind, pointer, anchorName(ev)));
        break;
      }
      case EVENT_ID.POP: {
        const done = stack.pop();
        if (!done) break; // end of document
        const size = done.size + 1;
        if (done.anchor) anchors.set(done.anchor, size);
        addSize(size);
        break;
      }
    }
  }

  return { positions, problems };


  function takeKey(top: Frame, ev: ScalarEvent) {
    const key = getScalarValue(text, ev);
    const start = ev.style === SCALAR_STYLE.SINGLE_QUOTED || ev.style === SCALAR_STYLE.DOUBLE_QUOTED ? ev.valueStart - 1 : ev.valueStart;
    const first = top.seen.get(key);
    if (first !== undefined) {
      const prev = at(first);
      problems.push(problem(at(start), 'error', 'yaml-duplicate-key',
        `duplicate key "${key}" (first at line ${prev.line}); the later value would silently win`));
    } else {
      top.seen.set(key, start);
    }
    top.key = key;
    top.keyOffset = start;
    top.expectKey = false;
  }
}

function frame(kind: Frame['kind'], pointer: string, anchor: string | undefined): Frame {
  const f: Frame = { kind, pointer, index: 0, expectKey: kind === 'map', seen: new Map(), size: 0 };
  if (anchor) f.anchor = anchor;
  return f;
}

function totalSize(stack: Frame[], root: number): number {
  let n = root;
  for (const f of stack) n += f.size;
  return n;
}

/** Documents after the first start at a `---` line; point at the last one. */
function lastDocumentOffset(text: string): number {
  let offset = 0;
  for (const m of text.matchAll(/^---/gm)) offset = m.index ?? 0;
  return offset;
}
