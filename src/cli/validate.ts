import { relative, resolve, sep } from 'node:path';
import { KIND_WORD, type LoadedConsumer } from '../load/consumers.js';
import { rawEnvironmentChoice, withBases } from '../check/raw.js';
import { openRepository, validateRepository, type Repository } from '../repository/index.js';
import { productProblems } from '../repository/product.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { reportProblems, summary } from './report.js';
import { errorCount, hasErrors, type Problem } from '../model/problem.js';
import { selectEnvironments } from './select.js';
import { plural } from '../model/words.js';

export const validate: Command = {
  name: 'validate',
  summary: 'check environments: schema, bases, instructions, layer limit, policy; and the projects using them',
  usage: `envctl validate [paths…] [--json] [--offline] [--against <ref>] [--against-product]

Checks every environment and every project, model and data set (or those
named, by name or path) and reports every problem as
file:line:col: error|warning: message [rule].
  --json          print problems as JSON
  --offline       do not ask registries for base image layer counts
  --against REF   branch or commit to compare with for archived bases and
                  environments and deleted environments (default HEAD)
  --against-product  with publish: in envctl.yaml, an error for each
                  environment whose active revision in the product is not
                  the one envctl published (drift), or cannot be read
Exit 0 when clean (warnings allowed), 1 on errors, 2 on usage errors.`,
  options: { ...COMMON, json: { type: 'boolean' }, offline: { type: 'boolean' }, against: { type: 'string' }, 'against-product': { type: 'boolean' } },
  async run(args, io) {
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const sources = await repo.sources();
    // Paths of projects, models and data sets select those; everything else names environments.
    const consumerArgs = args.positionals.map((a) => [a, consumerAt(a, sources.consumers, root, io.cwd)] as const);
    const envArgs = consumerArgs.filter(([, c]) => c === undefined).map(([a]) => a);
    const chosen = new Set(consumerArgs.flatMap(([, c]) => (c ? [c] : [])));
    const only = args.positionals.length ? selectEnvironments(envArgs, sources.loaded, root, io.cwd) : undefined;
    const result = await validateRepository(repo, {
      offline: args.values.offline === true || io.env.ENVCTL_OFFLINE === '1',
      ...(typeof args.values.against === 'string' ? { against: args.values.against } : {}),
    });
    // Named environments bring their bases along; problems outside any environment (envctl.yaml) always show.
    const involved = only ? withBases(only, sources.loaded) : undefined;
    const envFiles = new Set([...sources.loaded.flatMap((e) => [e.file, ...e.context.map((f) => f.path)]), ...sources.consumers.map((c) => c.file)]);
    // A consumer's problems show with it, or with the environment it uses.
    const shown = only ? sources.consumers.filter((c) => chosen.has(c) || involved!.has(rawEnvironmentChoice(c.data)?.name ?? '')) : sources.consumers;
    const files = involved ? new Set([...sources.loaded.filter((e) => involved.has(e.name)).flatMap((e) => [e.file, ...e.context.map((f) => f.path)]), ...shown.map((c) => c.file)]) : undefined;
    const checked = files ? result.problems.filter((p) => files.has(p.file) || !envFiles.has(p.file)) : result.problems;
    const named = only ? sources.loaded.filter((e) => only.has(e.name)) : sources.loaded;
    const problems = args.values['against-product'] === true ? [...checked, ...await againstProduct(repo, io.env, named)] : checked;
    const count = only ? only.size : sources.loaded.length;
    const consumers = only ? [...chosen] : sources.consumers;
    if (args.values.json) {
      io.out(JSON.stringify({ environments: count, ...(consumers.length ? { consumers: consumers.length } : {}), errors: errorCount(problems), problems }, null, 2));
    } else {
      reportProblems(problems, io);
      // Environments are counted unless only consumers were checked.
      const counted = [...(count > 0 || consumers.length === 0 ? [plural(count, 'environment')] : []), ...(consumers.length ? [consumerCount(consumers)] : [])];
      io.err(summary(problems, counted));
    }
    return hasErrors(problems) ? 1 : 0;
  },
};

/** Drift problems; `--against-product` without `publish:` in envctl.yaml is a usage error. */
async function againstProduct(repo: Repository, env: NodeJS.ProcessEnv, environments: { name: string; file: string }[]): Promise<Problem[]> {
  if (!repo.config.publish) throw new UsageError('--against-product needs publish: { url, tokenEnv } in envctl.yaml');
  return productProblems(repo.root, repo.config, env, environments);
}

/** The consumer a path names: its spec file, its folder or a file in it. */
function consumerAt(arg: string, consumers: LoadedConsumer[], root: string, cwd: string): LoadedConsumer | undefined {
  const rel = relative(root, resolve(cwd, arg)).split(sep).join('/').replace(/\/$/, '');
  return consumers.find((c) => c.file === rel || (c.folder !== undefined && (rel === c.folder || rel.startsWith(`${c.folder}/`))));
}

/** `2 projects, 1 model`. */
function consumerCount(consumers: LoadedConsumer[]): string {
  return (['project', 'model', 'dataset'] as const)
    .map((k) => [k, consumers.filter((c) => c.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => plural(n, KIND_WORD[k]))
    .join(', ');
}
