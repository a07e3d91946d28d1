/** Problems out: `file:line:col: severity: message [rule]`, GitHub annotations, or JSON. */
import * as core from '@actions/core';
import { formatProblem, type Problem } from '../model/problem.js';
import type { Io } from './command.js';
import { plural } from '../model/words.js';

export function reportProblems(problems: Problem[], io: Io): void {
  for (const p of problems) io.out(formatProblem(p));
  if (io.env.GITHUB_ACTIONS === 'true') {
    for (const p of problems) {
      const props = { file: p.file, startLine: p.line, startColumn: p.col, title: p.rule };
      if (p.severity === 'error') core.error(p.message, props);
      else core.warning(p.message, props);
    }
  }
}

export function summary(problems: Problem[], environments: number): string {
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(environments, 'environment')}`;
}
