import { appendFile, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../files/write.js';
import { reviewMarkdown } from '../plan/markdown.js';
import { workflowRunUrl } from '../plan/run-link.js';
import type { Review } from '../plan/review.js';
import { parseReviewBuilds, type ReviewBuild } from '../plan/review-builds.js';
import { openRepository } from '../repository/index.js';
import { planRepository } from '../repository/plan.js';
import { reviewRepository } from '../repository/review.js';
import { shortKey } from '../render/index.js';
import { COMMON, repoDir, UsageError, type Command, type Io } from './command.js';
import { plural } from '../model/words.js';
import { printable } from '../model/text.js';

export const plan: Command = {
  name: 'plan',
  summary: 'the builds the ledger lacks, or what merging this change into --base would do',
  usage: `envctl plan [--branch BRANCH] [--json | --matrix]
envctl plan --base TARGET [--json] [--markdown FILE] [--offline]

Compares the head of the branch (envctl.yaml: branch, or --branch) with the
ledger and lists the builds needed, a base before what is built on it: new
revisions, environments whose base environment's active image changed, and
builds a killed sync left unfinished. A revision whose content key was built
before is reused (its image tagged), not built.
  --json       the plan as data
  --matrix     groups for a CI matrix: {"include":[{"group":…,"environments":[…]}]}

With --base, reviews the working tree (a pull request's checkout) as a
change to TARGET (a branch, remote branch or commit): per changed
environment the revision it becomes, spec and Dockerfile diffs, layer count
against the limit, problems, whether its build reuses an identical earlier
image, and the environments built on it that will rebuild.
  --markdown FILE  also write the review as Markdown (the pull-request
                   comment, for envctl comment FILE); under GitHub Actions it
                   is added to the job summary ($GITHUB_STEP_SUMMARY) too,
                   and names the pull request's head commit (from
                   $GITHUB_EVENT_PATH, else HEAD) and links the workflow run
  --review-builds FILE
                   what envctl build --results FILE found (built or not, the
                   log's tail, size, packages), shown per environment
  --offline        do not ask registries for layer counts or base digests
                   (also without --base: base images keyed by tag;
                   ENVCTL_OFFLINE=1 does the same)`,
  options: {
    ...COMMON, branch: { type: 'string' }, json: { type: 'boolean' }, matrix: { type: 'boolean' },
    base: { type: 'string' }, markdown: { type: 'string' }, offline: { type: 'boolean' }, 'review-builds': { type: 'string' },
  },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('plan takes no arguments');
    const root = repoDir(args, io);
    if (typeof args.values.base === 'string') {
      if (args.values.matrix || args.values.branch !== undefined) throw new UsageError('--base reviews a change; --matrix and --branch plan a branch');
      return review(root, args.values.base, args.values, io);
    }
    if (args.values.markdown !== undefined || args.values['review-builds'] !== undefined) throw new UsageError('--markdown and --review-builds go with --base');
    const repo = await openRepository(root, io.env);
    const offline = args.values.offline === true || io.env.ENVCTL_OFFLINE === '1';
    const result = await planRepository(root, repo.config, typeof args.values.branch === 'string' ? args.values.branch : undefined, { offline });
    // A registry that could not be asked is said, so its images' unknown keys do not read as missing images.
    for (const [image, why] of result.unknownImages) io.err(`envctl plan: warning: no digest for ${printable(image)}: ${printable(why)}; content keys of what is built on it are unknown`);
    if (args.values.matrix) {
      io.out(JSON.stringify({ include: result.groups.map((environments, i) => ({ group: i + 1, environments: environments.join(',') })) }));
      return 0;
    }
    if (args.values.json) {
      io.out(JSON.stringify({ head: result.head ?? null, builds: result.builds, groups: result.groups }, null, 2));
      return 0;
    }
    if (result.builds.length === 0) {
      io.out('nothing to build: the ledger has every revision at the head');
      return 0;
    }
    // One block on stdout: a line per build, a blank line, the summary on a line of its own.
    const lines = result.builds.map((b) => {
      const what = b.action === 'reuse' ? `reuse revision ${b.reuse!.revision}'s image (same content key)` : 'build';
      return printable(`${b.environment}@${b.revision}  ${what}  [${b.reason}]  key ${b.contentKey ? shortKey(b.contentKey) : b.after.length ? 'after its base' : 'unknown'}${b.after.length ? `  after ${b.after.join(', ')}` : ''}`);
    });
    const builds = result.builds.filter((b) => b.action === 'build').length;
    io.out([...lines, '', `${builds} to build, ${result.builds.length - builds} to reuse, in ${plural(result.groups.length, 'group')}`].join('\n'));
    return 0;
  },
};

async function review(root: string, target: string, values: Record<string, unknown>, io: Io): Promise<number> {
  const head = await eventHead(io.env.GITHUB_EVENT_PATH);
  const result = await reviewRepository(root, { target, offline: values.offline === true, ...(head ? { head } : {}) });
  if (typeof values['review-builds'] === 'string') result.builds = await readReviewBuilds(resolve(io.cwd, values['review-builds']));
  const run = workflowRunUrl(io.env);
  const markdown = reviewMarkdown(result, run ? { run } : {});
  if (typeof values.markdown === 'string') await writeFileAtomic(values.markdown.startsWith('/') ? values.markdown : `${io.cwd}/${values.markdown}`, markdown);
  if (io.env.GITHUB_STEP_SUMMARY) await appendFile(io.env.GITHUB_STEP_SUMMARY, markdown);
  if (values.json) io.out(JSON.stringify(result, null, 2));
  else io.out(reviewText(result));
  return 0;
}

/** A review builds file, or a usage error naming it (a path given wrong, or not a file envctl build wrote). */
async function readReviewBuilds(path: string): Promise<ReviewBuild[]> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`--review-builds: cannot read ${path}: ${err.code ?? err.message}`);
  });
  const builds = parseReviewBuilds(text);
  if (!builds) throw new UsageError(`--review-builds: ${path} is not a file envctl build --results wrote`);
  return builds;
}

/**
 * A pull_request event's head commit: the checkout there is GitHub's merge
 * commit, but the pull request's head is what `comment` compares with.
 */
async function eventHead(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    const event = JSON.parse(await readFile(path, 'utf8')) as { pull_request?: { head?: { sha?: unknown } } };
    const sha = event.pull_request?.head?.sha;
    return typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined; // no event file, or not JSON: HEAD stands in
  }
}

function reviewText(r: Review): string {
  if (r.environments.length === 0) return `no environment changes against ${printable(r.target)}`;
  return r.environments.map((e) => {
    const rev = e.revision === null ? 'removed' : `→ revision ${e.revision}`;
    const build = !e.build ? 'nothing to build' : e.build.action === 'reuse' ? `reuses revision ${e.build.reusedRevision}'s image` : 'builds';
    const layers = e.layers.total !== null ? `, ${e.layers.total}/${e.layers.limit} layers`
      : e.layers.atLeast !== undefined ? `, at least ${e.layers.atLeast}/${e.layers.limit} layers` : '';
    const rebuilds = e.rebuilds.length ? `, rebuilds ${e.rebuilds.join(', ')}` : '';
    const problems = e.problems.length ? `, ${plural(e.problems.length, 'problem')}` : '';
    return printable(`${e.environment} ${rev}: ${build}${layers}${rebuilds}${problems}`);
  }).join('\n');
}
