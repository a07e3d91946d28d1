/** A located finding from load or check. Lines and columns are 1-based. */
import { printable } from './text.js';

export type Severity = 'error' | 'warning';

export interface Location {
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  line: number;
  col: number;
}

export interface Problem extends Location {
  severity: Severity;
  message: string;
  /** Stable rule id, e.g. `schema`, `base-unknown`, `layer-limit`. */
  rule: string;
}

export function problem(at: Location, severity: Severity, rule: string, message: string): Problem {
  return { file: at.file, line: at.line, col: at.col, severity, rule, message };
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

export function errorCount(problems: readonly Problem[]): number {
  return problems.filter((p) => p.severity === 'error').length;
}

/** Sort by file, line, column, then rule, so output is stable across runs. */
export function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.col - b.col ||
      (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0),
  );
}

/**
 * `file:line:col: severity: message [rule]`, one line whatever the file
 * name and message hold: they may quote YAML keys and values, which can
 * carry line breaks and control characters.
 */
export function formatProblem(p: Problem): string {
  return `${printable(p.file)}:${p.line}:${p.col}: ${p.severity}: ${printable(p.message)} [${printable(p.rule)}]`;
}
