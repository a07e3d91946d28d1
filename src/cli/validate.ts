import { withBases } from '../load/environments.js';
import { openRepository, validateRepository } from '../repository/index.js';
import { COMMON, repoDir, type Command } from './command.js';
import { reportProblems, summary } from './report.js';
import { selectEnvironments } from './select.js';

export const validate: Command = {
  name: 'validate',
  summary: 'check environments: schema, bases, instructions, layer limit, policy',
  usage: `envctl validate [paths…] [--json] [--offline] [--against <ref>]

Checks every environment (or those named, by name or path) and reports every
problem as file:line:col: error|warning: message [rule].
  --json          print problems as JSON
  --offline       do not ask registries for base image layer counts
  --against REF   branch or commit to compare with for archived bases (default HEAD)
Exit 0 when clean (warnings allowed), 1 on errors, 2 on usage errors.`,
  options: { ...COMMON, json: { type: 'boolean' }, offline: { type: 'boolean' }, against: { type: 'string' } },
  async run(args, io) {
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const only = args.positionals.length ? selectEnvironments(args.positionals, repo.loaded, root, io.cwd) : undefined;
    const result = await validateRepository(repo, {
      offline: args.values.offline === true || io.env.ENVCTL_OFFLINE === '1',
      ...(typeof args.values.against === 'string' ? { against: args.values.against } : {}),
    });
    // Named environments bring their bases along; problems outside any environment (envctl.yaml) always show.
    const involved = only ? withBases(only, repo.loaded) : undefined;
    const envFiles = new Set(repo.loaded.flatMap((e) => [e.file, ...e.context.map((f) => f.path)]));
    const files = involved ? new Set(repo.loaded.filter((e) => involved.has(e.name)).flatMap((e) => [e.file, ...e.context.map((f) => f.path)])) : undefined;
    const problems = files ? result.problems.filter((p) => files.has(p.file) || !envFiles.has(p.file)) : result.problems;
    const count = only ? only.size : repo.loaded.length;
    if (args.values.json) {
      io.out(JSON.stringify({ environments: count, errors: problems.filter((p) => p.severity === 'error').length, problems }, null, 2));
    } else {
      reportProblems(problems, io);
      io.err(summary(problems, count));
    }
    return problems.some((p) => p.severity === 'error') ? 1 : 0;
  },
};
