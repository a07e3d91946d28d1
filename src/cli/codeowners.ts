import { CONFIG_FILE } from '../config/index.js';
import { problem } from '../model/problem.js';
import { plural } from '../model/words.js';
import { codeownersOf, type CodeownersDiff } from '../repository/codeowners.js';
import { openRepository } from '../repository/index.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { reportProblems } from './report.js';
import { printable } from '../model/text.js';

/** Lines of the unified diff shown by --check; the rest is counted. */
const DIFF_LINES = 40;

export const codeowners: Command = {
  name: 'codeowners',
  summary: 'write .github/CODEOWNERS from environment and consumer owners and administrators',
  usage: `envctl codeowners [--check] [--json]

Writes .github/CODEOWNERS: everything owned by the administrators in
envctl.yaml, then one rule per environment (its file, or its folder) owned
by its owner, with the administrators added for global environments and
those policy.administratorFields names, then one per project, model and
data set for its owner; last, for the administrators again, what decides
what CI builds and runs (envctl.yaml, .github/, package.json, tsconfig.json,
src/, test/, … and the paths package.json's scripts and the workflows name
inside owners' files). Entries without a usable owner are skipped and named
(their files stay the administrators'); invalid ones are otherwise included
(ownership does not wait for validity).
  --check   write nothing; exit 1 with a diff when the file is out of date
  --json    print the rules as JSON (with --check, nothing is written)
Exit 0 when written or current, 1 when out of date (--check) or envctl.yaml
has errors, 2 on usage errors.`,
  options: { ...COMMON, check: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${printable(args.positionals[0])}"`);
    const repo = await openRepository(repoDir(args, io), io.env);
    const check = args.values.check === true;
    const result = await codeownersOf(repo, { check });
    if (!result.generated) {
      reportProblems(result.configErrors, io);
      io.err(`${CONFIG_FILE} has errors; ${result.file} is not generated from it`);
      return 1;
    }

    // Warnings and reasons quote owners from the YAML; names and paths are file names: one line each.
    for (const w of result.warnings) io.err(`warning: ${printable(w)}`);
    for (const s of result.skipped) io.err(`skipped ${printable(s.name)} (${printable(s.path)}): ${printable(s.reason)}`);
    const envSkips = result.skipped.filter((s) => s.kind === 'environment').length;
    const consumerSkips = result.skipped.length - envSkips;
    if (result.skipped.length > 0 || result.loadErrors > 0) {
      const parts = [
        ...(envSkips > 0 ? [`${plural(envSkips, 'environment')} skipped`] : []),
        ...(consumerSkips > 0 ? [`${plural(consumerSkips, 'project, model or data set', 'projects, models or data sets')} skipped`] : []),
        ...(result.loadErrors > 0 ? [`${plural(result.loadErrors, 'load error')} in ${repo.config.environmentsDir}/`] : []),
      ];
      io.err(`${parts.join(', ')}; run envctl validate`);
    }
    for (const other of result.shadowed) io.err(`note: ${printable(other)} also exists; GitHub reads ${printable(result.file)} first`);

    if (args.values.json) {
      io.out(JSON.stringify({
        file: result.file,
        upToDate: result.upToDate,
        written: result.written,
        administratorRules: result.administratorRules,
        rules: result.rules,
        skipped: result.skipped,
        warnings: result.warnings,
      }, null, 2));
      return check && !result.upToDate ? 1 : 0;
    }

    if (check) {
      if (result.upToDate) {
        io.out(`${result.file} is up to date (${plural(result.rules.length, 'rule')})`);
        return 0;
      }
      reportProblems([problem({ file: result.file, line: 1, col: 1 }, 'error', 'codeowners', 'out of date; run envctl codeowners')], io);
      io.err(diffText(result.file, result.diff!));
      return 1;
    }
    io.out(result.upToDate ? `${result.file} is up to date` : `wrote ${result.file} (${plural(result.rules.length, 'rule')})`);
    return 0;
  },
};

/** The diff's head line and its first DIFF_LINES lines. */
function diffText(file: string, diff: CodeownersDiff): string {
  const head = `${file} ${diff.missing ? 'is missing' : 'differs'}: ${plural(diff.added, 'line')} to add, ${plural(diff.removed, 'line')} to remove`;
  const shown = diff.lines.slice(0, DIFF_LINES);
  if (diff.lines.length > DIFF_LINES) shown.push(`… ${plural(diff.lines.length - DIFF_LINES, 'more diff line')}`);
  return [head, ...shown.map(printable)].join('\n');
}
