import { resolve } from 'node:path';
import { withBases } from '../check/raw.js';
import { openRepository, validateRepository } from '../repository/index.js';
import { renderableAll, writeRendered } from '../repository/render.js';
import { keyContext, renderResolved } from '../repository/keys.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { reportProblems, summary } from './report.js';
import { selectEnvironments } from './select.js';
import { plural } from '../model/words.js';
import { printable } from '../model/text.js';

export const render: Command = {
  name: 'render',
  summary: 'emit the Dockerfile, run spec and content key of environments',
  usage: `envctl render [names…] [--out DIR] [--run-spec] [--key] [--json]

With one name and no --out, prints its Dockerfile (--run-spec: its run spec;
--key: its content key). With --out, writes DIR/<name>/{Dockerfile,
run-spec.json,content-key,context/} for each named environment, or all.
Environments with errors (their own or their bases') are not rendered: exit 1.
Named, none is written while one of them has errors; with no names, every
environment without errors is written and the others are reported.
FROM names the base as sync will: a base environment by its active (or
pinned) build's digest from the ledger, a base image by the digest the
registry gives (by its tag with --offline). A key against an unresolved
base (a base environment not built yet, an image whose registry could not
be asked) is not the one a build records: --key and --out say so on
stderr, --json has "keyResolved": false.
  --offline   do not ask registries (layer counts, base image digests)`,
  options: { ...COMMON, out: { type: 'string', short: 'o' }, 'run-spec': { type: 'boolean' }, key: { type: 'boolean' }, json: { type: 'boolean' }, offline: { type: 'boolean' } },
  async run(args, io) {
    const root = repoDir(args, io);
    const out = typeof args.values.out === 'string' ? resolve(io.cwd, args.values.out) : undefined;
    if (!out && !args.values.json && args.positionals.length !== 1) throw new UsageError('name one environment, or give --out DIR (or --json) to render several');
    const repo = await openRepository(root, io.env);
    const sources = await repo.sources();
    const names = args.positionals.length ? selectEnvironments(args.positionals, sources.loaded, root, io.cwd) : new Set(sources.loaded.map((e) => e.name));
    const offline = args.values.offline === true || io.env.ENVCTL_OFFLINE === '1';
    const result = await validateRepository(repo, { offline });

    const byName = new Map(result.environments.map((e) => [e.name, e]));
    // Everything into a folder: one broken file holds back only itself and what stands on it.
    const all = out !== undefined && args.positionals.length === 0 && !args.values.json;
    const partial = all ? renderableAll(sources.loaded, result.environments, result.problems) : undefined;
    if (partial && partial.blocked.size > 0) {
      reportProblems(partial.errors, io);
      const held = [...partial.blocked].sort().map(printable);
      const shown = held.length <= 20 ? held.join(', ') : `${held.slice(0, 20).join(', ')} … (${held.length - 20} more)`;
      io.err(`not rendered: ${shown} (${plural(partial.errors.length, 'error')} in them or what they are built on)`);
      for (const n of partial.blocked) names.delete(n);
    } else if (!partial) {
      const involved = withBases(names, sources.loaded);
      const files = new Set(sources.loaded.filter((e) => involved.has(e.name)).map((e) => e.file));
      const blocking = result.problems.filter((p) => p.severity === 'error' && (files.has(p.file) || !sources.loaded.some((e) => e.file === p.file)));
      if (blocking.length > 0 || [...involved].some((n) => !byName.has(n))) {
        reportProblems(blocking, io);
        io.err(`not rendered: ${summary(blocking, [plural(involved.size, 'environment')])}`);
        return 1;
      }
    }

    // Bases as plan and sync name them: a base environment by its built image's digest, a base image by the registry's.
    const ctx = await keyContext(repo, offline ? {} : { registry: result.environments.filter((e) => names.has(e.name)) });
    const rendered = renderResolved(result.environments, repo.config, ctx, names);
    const unresolved = rendered.filter((r) => !r.keyResolved).map((r) => printable(`${r.name} (FROM ${r.from})`));
    if (args.values.json) {
      io.out(JSON.stringify(rendered, null, 2));
    } else if (out) {
      for (const r of rendered) {
        const dir = await writeRendered(out, r, byName.get(r.name)!);
        io.out(`${printable(r.name)}\t${r.contentKey}\t${printable(dir)}`);
      }
    } else {
      const r = rendered[0]!;
      io.out(args.values['run-spec'] ? JSON.stringify(r.runSpec, null, 2) : args.values.key ? r.contentKey : r.dockerfile.replace(/\n$/, ''));
    }
    if (unresolved.length > 0 && (out || args.values.key)) {
      io.err(`note: unresolved base, so the key is not the one a build records: ${unresolved.join(', ')}`);
    }
    return partial && partial.blocked.size > 0 ? 1 : 0;
  },
};
