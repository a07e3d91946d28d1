/** Problems out: `file:line:col: severity: message [rule]`, GitHub annotations, or JSON. */
import * as core from '@actions/core';
import { errorCount, formatProblem, type Problem } from '../model/problem.js';
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

/** `2 errors, 1 warning in 3 environments`; `counted` names what was checked, as counted words (`3 environments`, `2 projects, 1 model`). */
export function summary(problems: Problem[], counted: string[]): string {
  const errors = errorCount(problems);
  const warnings = problems.length - errors;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${counted.join(' and ')}`;
}
