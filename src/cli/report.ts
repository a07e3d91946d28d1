/** Problems out: `file:line:col: severity: message [rule]`, GitHub annotations, or JSON. */
import * as core from '@actions/core';
import { errorCount, formatProblem, type Problem } from '../model/problem.js';
import type { Io } from './command.js';
import { plural } from '../model/words.js';
import { guardLine, printable } from '../model/text.js';
import type { PublishReport } from '../sync/publish.js';

/**
 * Problem lines on stdout; under GitHub Actions also one annotation each,
 * written by @actions/core straight to stdout (the one output that must
 * read as a workflow command, so it does not pass the Io's guard).
 */
export function reportProblems(problems: Problem[], io: Io): void {
  for (const p of problems) io.out(formatProblem(p));
  if (io.env.GITHUB_ACTIONS === 'true') {
    for (const p of problems) {
      const { message, properties } = annotation(p);
      if (p.severity === 'error') core.error(message, properties);
      else core.warning(message, properties);
    }
  }
}

/**
 * A problem as @actions/core's annotation arguments. core (command.js
 * escapeData, escapeProperty) escapes `%`, `\r` and `\n` in the message and
 * also `:` and `,` in properties, which is what the runner's ActionCommand
 * unescapes, so no value ends the command early or starts a second one.
 * Before that every value is made printable (the annotation is one line of
 * visible text, as the problem line is) and guarded like a plain line
 * (`##[` broken), so the annotation shows what the problem line shows.
 */
export function annotation(p: Problem): { message: string; properties: core.AnnotationProperties } {
  const text = (value: string) => guardLine(printable(value));
  return { message: text(p.message), properties: { file: text(p.file), startLine: p.line, startColumn: p.col, title: text(p.rule) } };
}

/** `2 errors, 1 warning in 3 environments`; `counted` names what was checked, as counted words (`3 environments`, `2 projects, 1 model`). */
export function summary(problems: Problem[], counted: string[]): string {
  const errors = errorCount(problems);
  const warnings = problems.length - errors;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${counted.join(' and ')}`;
}

/** What publishing did, one line each (sync and record say it alike); every name and reason passes printable. */
export function publishLines(report: PublishReport | undefined): string[] {
  if (!report) return [];
  const lines = report.notes.map((n) => `note: ${printable(n)}`);
  for (const e of report.environments) {
    const at = `${printable(e.environment)}@${e.revision}`;
    if (e.outcome === 'failed') lines.push(`publishing ${at} failed: ${printable(e.reason ?? 'unknown')} (the next sync or envctl publish tries again)`);
    else lines.push(`${e.outcome === 'published' ? 'published' : 'set active again'} ${at} in the product: revision ${e.product!.number} (${printable(e.product!.revision)})`);
  }
  return lines;
}
