/** One spec file (an environment's, a project's) → its text, parsed YAML with positions, and the problems found on the way. */
import { problem, type Problem } from '../model/problem.js';
import type { SourceFile } from '../model/tree.js';
import { LineIndex } from './lines.js';
import { decodeSpec } from './text.js';
import { parseYaml, type PositionLookup } from './yaml.js';

export interface ParsedSpecFile {
  text: string;
  /** Parsed YAML; undefined when the file could not be parsed. */
  data: unknown;
  positions: PositionLookup;
  lines: LineIndex;
}

/** `empty`: the rule and message for a file with nothing in it. */
export function parseSpecFile(file: SourceFile, empty: { rule: string; message: string }): ParsedSpecFile & { problems: Problem[] } {
  const decoded = decodeSpec(file.bytes, file.path);
  if (decoded.text === undefined) return { text: '', data: undefined, positions: new Map(), lines: new LineIndex(''), problems: decoded.problems };
  const parsed = parseYaml(decoded.text, file.path);
  const problems = [...parsed.problems];
  if (parsed.problems.length === 0 && (parsed.value === null || parsed.value === undefined)) {
    problems.push(problem({ file: file.path, line: 1, col: 1 }, 'error', empty.rule, empty.message));
  }
  // A duplicate key is reported but the value is still usable; any other YAML error leaves no value.
  const data = parsed.problems.some((p) => p.severity === 'error' && p.rule !== 'yaml-duplicate-key') ? undefined : parsed.value;
  return { text: decoded.text, data, positions: parsed.positions, lines: parsed.lines, problems };
}
