import { resolve } from 'node:path';
import { writeFileAtomic } from '../files/write.js';
import { printable } from '../model/text.js';
import { plural } from '../model/words.js';
import { openRepository } from '../repository/index.js';
import { reviewBuild } from '../sync/review-build.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { progressFor } from './progress.js';

export const build: Command = {
  name: 'build',
  summary: "build the plan's images here without pushing or recording: a pull request's review build",
  usage: `envctl build [--base TARGET] [--only NAMES] [--results FILE] [--json]

Builds what envctl plan lists for this checkout (in a pull request, its
merge commit: the changed environments and those built on them), bases
first, as sync would, but pushes nothing and writes no ledger: a read-only
token is enough, and a fork's pull request is built too. An environment
built on one built here builds FROM that local image. Each image is written
to an OCI image layout under .envctl/review/<name>; the registry's layer
cache is read, never written. Exit 1 when a build fails, so the pull
request's check is red before anything reaches main. Needs buildah (builder:
buildah, or auto finding it): docker buildx keeps its images to itself. An
environment that needs a build secret is not built (a pull request is given
none) and says so, without failing.
  --base TARGET   build only what the change to TARGET touches: the
                  environments it changes and those that rebuild on them
                  (not what TARGET itself still lacks)
  --only NAMES    build only the plan groups holding these environments
  --results FILE  write what each build found (status, log tail, size) for
                  envctl plan --review-builds FILE, which puts it in the plan comment
  --json          print the same on stdout (progress goes to stderr)`,
  options: { ...COMMON, base: { type: 'string' }, only: { type: 'string' }, results: { type: 'string' }, json: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('build takes no arguments');
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const only = typeof args.values.only === 'string' ? args.values.only.split(',').map((n) => n.trim()).filter(Boolean) : undefined;
    const results = typeof args.values.results === 'string' ? resolve(io.cwd, args.values.results) : undefined;
    const json = args.values.json === true;
    const progress = progressFor(json ? { ...io, out: io.err, terminal: undefined } : io);
    const base = typeof args.values.base === 'string' ? args.values.base : undefined;
    const result = await reviewBuild(root, repo.config, { progress: progress.event, ...(only ? { only } : {}), ...(base !== undefined ? { base } : {}) }).finally(progress.end);
    const { failed, ...file } = result;
    const text = `${JSON.stringify(file, null, 2)}\n`;
    if (json) io.out(text.trimEnd());
    if (results) await writeFileAtomic(results, text);
    if (result.builds.length === 0) io.err('nothing to build: the ledger has every revision at this checkout');
    else io.err(`built ${plural(result.builds.length, 'environment')} in review (${failed} failed)${results ? `; wrote ${printable(results)}` : ''}`);
    return failed > 0 ? 1 : 0;
  },
};
