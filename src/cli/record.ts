import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { recordBuilds } from '../git/ledger.js';
import { pushLedger } from '../git/remote.js';
import { githubClient, reportBuilds, runUrl } from '../github/index.js';
import { parseResults, recordsByEnvironment, summaryOf, type Results } from '../ledger/results.js';
import { openRepository } from '../repository/index.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';

export const record: Command = {
  name: 'record',
  summary: 'record results files from sync --results in the ledger, in one commit',
  usage: `envctl record FILE|DIR... [--push REMOTE] [--github]

The final job of a CI matrix: each matrix job ran envctl sync --only GROUP
--results FILE; this records every result in the ledger in one commit on the
state branch. A folder stands for the .json files in it. Exit 1 when a build
failed.
  --push REMOTE  push the state branch to REMOTE afterwards (another sync's
                 records are merged in if it pushed first)
  --github       per environment a commit status envctl/<name> on the synced
                 commit (GITHUB_SHA) and, for each image, a deployment whose
                 URL is the image by digest (GITHUB_TOKEN, GITHUB_REPOSITORY,
                 GITHUB_API_URL)`,
  options: { ...COMMON, push: { type: 'string' }, github: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length === 0) throw new UsageError('name one or more results files');
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const all: Results[] = [];
    for (const file of await resultsFiles(io.cwd, args.positionals)) {
      all.push(parseResults(await readFile(resolve(io.cwd, file), 'utf8'), file));
    }
    const builds = all.flatMap((r) => r.builds);
    const head = all.find((r) => r.head)?.head ?? null;
    const failed = builds.filter((b) => b.record.status === 'failed').length;
    if (builds.length === 0) {
      io.out('nothing to record: no builds in the results');
      return 0;
    }
    const commit = await recordBuilds(root, repo.config.stateBranch, recordsByEnvironment(all), { summary: summaryOf(builds.map((b) => b.record), head) });
    io.err(`recorded ${builds.length} build${builds.length === 1 ? '' : 's'} (${failed} failed) in ${repo.config.stateBranch} ${commit.slice(0, 7)}`);
    if (typeof args.values.push === 'string') {
      await pushLedger(root, repo.config.stateBranch, args.values.push);
      io.err(`pushed ${repo.config.stateBranch} to ${args.values.push}`);
    }
    if (args.values.github) {
      const sha = io.env.GITHUB_SHA ?? head;
      if (!sha) throw new UsageError('--github needs the synced commit: set GITHUB_SHA');
      const logUrl = runUrl(io.env);
      const done = await reportBuilds(githubClient({ env: io.env, log: (m) => io.err(m) }), sha, builds, logUrl ? { logUrl } : {});
      io.err(`GitHub: ${done.statuses} commit status${done.statuses === 1 ? '' : 'es'}, ${done.deployments} deployment${done.deployments === 1 ? '' : 's'}`);
    }
    return failed > 0 ? 1 : 0;
  },
};

/** Files as given; a folder stands for its .json files (a CI job's downloaded artifacts). */
async function resultsFiles(cwd: string, given: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const name of given) {
    const info = await stat(resolve(cwd, name)).catch(() => undefined);
    if (!info) throw new UsageError(`no results file or folder ${name}`);
    if (!info.isDirectory()) out.push(name);
    else out.push(...(await readdir(resolve(cwd, name))).filter((f) => f.endsWith('.json')).sort().map((f) => join(name, f)));
  }
  return out;
}
