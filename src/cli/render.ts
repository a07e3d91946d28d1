import { resolve } from 'node:path';
import { withBases } from '../check/raw.js';
import { openRepository, validateRepository } from '../repository/index.js';
import { renderAll, writeRendered } from '../repository/render.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { reportProblems, summary } from './report.js';
import { selectEnvironments } from './select.js';
import { plural } from '../model/words.js';

export const render: Command = {
  name: 'render',
  summary: 'emit the Dockerfile, run spec and content key of environments',
  usage: `envctl render [names…] [--out DIR] [--run-spec] [--key] [--json]

With one name and no --out, prints its Dockerfile (--run-spec: its run spec;
--key: its content key). With --out, writes DIR/<name>/{Dockerfile,
run-spec.json,content-key,context/} for each named environment, or all.
Environments with errors (their own or their bases') are not rendered: exit 1.`,
  options: { ...COMMON, out: { type: 'string', short: 'o' }, 'run-spec': { type: 'boolean' }, key: { type: 'boolean' }, json: { type: 'boolean' }, offline: { type: 'boolean' } },
  async run(args, io) {
    const root = repoDir(args, io);
    const out = typeof args.values.out === 'string' ? resolve(io.cwd, args.values.out) : undefined;
    if (!out && !args.values.json && args.positionals.length !== 1) throw new UsageError('name one environment, or give --out DIR (or --json) to render several');
    const repo = await openRepository(root, io.env);
    const sources = await repo.sources();
    const names = args.positionals.length ? selectEnvironments(args.positionals, sources.loaded, root, io.cwd) : new Set(sources.loaded.map((e) => e.name));
    const result = await validateRepository(repo, { offline: args.values.offline === true || io.env.ENVCTL_OFFLINE === '1' });

    const byName = new Map(result.environments.map((e) => [e.name, e]));
    const involved = withBases(names, sources.loaded);
    const files = new Set(sources.loaded.filter((e) => involved.has(e.name)).map((e) => e.file));
    const blocking = result.problems.filter((p) => p.severity === 'error' && (files.has(p.file) || !sources.loaded.some((e) => e.file === p.file)));
    if (blocking.length > 0 || [...involved].some((n) => !byName.has(n))) {
      reportProblems(blocking, io);
      io.err(`not rendered: ${summary(blocking, [plural(involved.size, 'environment')])}`);
      return 1;
    }

    const rendered = renderAll(result.environments, repo.config, names);
    if (args.values.json) {
      io.out(JSON.stringify(rendered, null, 2));
    } else if (out) {
      for (const r of rendered) {
        const dir = await writeRendered(out, r, byName.get(r.name)!);
        io.out(`${r.name}\t${r.contentKey}\t${dir}`);
      }
    } else {
      const r = rendered[0]!;
      io.out(args.values['run-spec'] ? JSON.stringify(r.runSpec, null, 2) : args.values.key ? r.contentKey : r.dockerfile.replace(/\n$/, ''));
    }
    return 0;
  },
};
