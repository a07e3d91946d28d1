import { createTwoFilesPatch } from 'diff';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/write.js';
import { CONFIG_FILE } from '../config/index.js';
import { problem } from '../model/problem.js';
import { CODEOWNERS_FILE, generateCodeowners, TOOL_PATTERNS, type OwnedEnvironment } from '../ownership/codeowners.js';
import { openRepository } from '../repository/index.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { reportProblems } from './report.js';

/** Lines of the unified diff shown by --check; the rest is counted. */
const DIFF_LINES = 40;

export const codeowners: Command = {
  name: 'codeowners',
  summary: 'write .github/CODEOWNERS from environment owners and administrators',
  usage: `envctl codeowners [--check] [--json]

Writes .github/CODEOWNERS: envctl.yaml and .github/ owned by the
administrators in envctl.yaml, then one rule per environment (its file, or
its folder) owned by its owner, with the administrators added for global
environments and those policy.administratorFields names. Environments
without a usable owner are skipped and named; invalid environments are
otherwise included (ownership does not wait for validity).
  --check   write nothing; exit 1 with a diff when the file is out of date
  --json    print the rules as JSON (with --check, nothing is written)
Exit 0 when written or current, 1 when out of date (--check) or envctl.yaml
has errors, 2 on usage errors.`,
  options: { ...COMMON, check: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const sources = await repo.sources();

    // A broken envctl.yaml loads as the defaults, which name no administrators:
    // generating from that would quietly drop every administrator rule.
    const configErrors = sources.problems.filter((p) => p.file === CONFIG_FILE && p.severity === 'error');
    if (configErrors.length > 0) {
      reportProblems(configErrors, io);
      io.err(`${CONFIG_FILE} has errors; ${CODEOWNERS_FILE} is not generated from it`);
      return 1;
    }

    const environments: OwnedEnvironment[] = sources.loaded.map((e) => {
      const data = e.data !== null && typeof e.data === 'object' ? (e.data as { owner?: unknown; visibility?: unknown }) : {};
      return {
        name: e.name,
        path: e.folder ?? e.file,
        folder: e.folder !== undefined,
        owner: typeof data.owner === 'string' ? data.owner : undefined,
        visibility: typeof data.visibility === 'string' ? data.visibility : undefined,
      };
    });
    const result = generateCodeowners({
      environmentsDir: repo.config.environmentsDir,
      administrators: repo.config.administrators,
      administratorFields: repo.config.policy.administratorFields,
      environments,
      toolPatterns: TOOL_PATTERNS.filter((p) => existsSync(join(root, p))),
    });

    const target = join(root, CODEOWNERS_FILE);
    const current = await readFile(target, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    const upToDate = current === result.text;
    const check = args.values.check === true;
    const write = !check && !upToDate;
    if (write) await writeFileAtomic(target, result.text);

    for (const w of result.warnings) io.err(`warning: ${w}`);
    for (const s of result.skipped) io.err(`skipped ${s.name} (${s.path}): ${s.reason}`);
    const loadErrors = sources.problems.filter((p) => p.severity === 'error').length;
    if (result.skipped.length > 0 || loadErrors > 0) {
      const parts = [
        ...(result.skipped.length > 0 ? [`${plural(result.skipped.length, 'environment')} skipped`] : []),
        ...(loadErrors > 0 ? [`${plural(loadErrors, 'load error')} in ${repo.config.environmentsDir}/`] : []),
      ];
      io.err(`${parts.join(', ')}; run envctl validate`);
    }
    for (const other of ['CODEOWNERS', 'docs/CODEOWNERS']) {
      if (existsSync(join(root, other))) io.err(`note: ${other} also exists; GitHub reads ${CODEOWNERS_FILE} first`);
    }

    if (args.values.json) {
      io.out(JSON.stringify({
        file: CODEOWNERS_FILE,
        upToDate,
        written: write,
        administratorRules: result.administratorRules,
        rules: result.rules,
        skipped: result.skipped,
        warnings: result.warnings,
      }, null, 2));
      return check && !upToDate ? 1 : 0;
    }

    if (check) {
      if (upToDate) {
        io.out(`${CODEOWNERS_FILE} is up to date (${plural(result.rules.length, 'rule')})`);
        return 0;
      }
      reportProblems([problem({ file: CODEOWNERS_FILE, line: 1, col: 1 }, 'error', 'codeowners', 'out of date; run envctl codeowners')], io);
      io.err(diffSummary(current, result.text));
      return 1;
    }
    io.out(upToDate ? `${CODEOWNERS_FILE} is up to date` : `wrote ${CODEOWNERS_FILE} (${plural(result.rules.length, 'rule')})`);
    return 0;
  },
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The unified diff from the file on disk to the generated text, cut to DIFF_LINES. */
function diffSummary(current: string | undefined, generated: string): string {
  const patch = createTwoFilesPatch(
    current === undefined ? '/dev/null' : `a/${CODEOWNERS_FILE}`, `b/${CODEOWNERS_FILE}`,
    current ?? '', generated, undefined, undefined, { context: 1 },
  );
  const lines = patch.split('\n').filter((l) => !/^=+$/.test(l) && l !== '');
  const body = lines.filter((l) => !l.startsWith('---') && !l.startsWith('+++'));
  const added = body.filter((l) => l.startsWith('+')).length;
  const removed = body.filter((l) => l.startsWith('-')).length;
  const head = `${current === undefined ? `${CODEOWNERS_FILE} is missing` : `${CODEOWNERS_FILE} differs`}: ${plural(added, 'line')} to add, ${plural(removed, 'line')} to remove`;
  const shown = lines.slice(0, DIFF_LINES);
  if (lines.length > DIFF_LINES) shown.push(`… ${plural(lines.length - DIFF_LINES, 'more diff line')}`);
  return [head, ...shown].join('\n');
}
