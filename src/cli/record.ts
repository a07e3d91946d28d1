import { refusedLine, safePath } from '../ledger/results.js';
import { plural } from '../model/words.js';
import { openRepository } from '../repository/index.js';
import { recordResults, type RecordStep } from '../sync/record.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';

export const record: Command = {
  name: 'record',
  summary: 'record results files from sync --results in the ledger, in one commit',
  usage: `envctl record FILE|DIR... [--push REMOTE] [--github]

The final job of a CI matrix: each matrix job ran envctl sync --only GROUP
--results FILE; this records every result in the ledger in one commit on the
state branch. A folder stands for the .json files in it. Every entry is
checked (an environment of this repository at its commit, well-formed
fields); a bad entry or an unreadable file is named and left out, the rest
recorded. Results the ledger already holds as they are are not recorded
again (a re-run of the record job makes no second commit). Exit 1 when a
build failed or anything was left out.
  --push REMOTE  push the state branch to REMOTE afterwards (another sync's
                 records are merged in if it pushed first); a push the
                 remote refuses (a ruleset, branch protection) is still
                 reported on GitHub as "ledger not updated", the remote's
                 words are shown and the exit is 1; run the same record
                 again once the push is allowed
  --github       per environment a commit status envctl/<name> on the synced
                 commit (GITHUB_SHA) and, for each image, a deployment whose
                 URL is the image by digest (GITHUB_TOKEN, GITHUB_REPOSITORY,
                 GITHUB_API_URL)`,
  options: { ...COMMON, push: { type: 'string' }, github: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length === 0) throw new UsageError('name one or more results files');
    const repo = await openRepository(repoDir(args, io), io.env);
    const result = await recordResults(repo, {
      files: args.positionals, cwd: io.cwd, progress: (step) => io.err(stepText(step)),
      ...(typeof args.values.push === 'string' ? { push: args.values.push } : {}),
      ...(args.values.github ? { github: { env: io.env, log: (m: string) => io.err(m) } } : {}),
    });
    // Each refused entry by name (quoted: a name may hold a line break or a terminal escape), the rest recorded.
    for (const u of result.unreadable) io.err(`envctl record: ${u.message}; nothing in it is recorded`);
    for (const r of result.refused) io.err(`envctl record: ${refusedLine(r)}`);
    if (result.builds === 0) io.out('nothing to record: no builds in the results');
    if (result.pushError) {
      // The results files are the only copy the remote can get them from: they stay, and CI keeps them as an artifact.
      io.err(`envctl record: ${repo.config.stateBranch} on ${args.values.push} does not have these results; they stay in ${args.positionals.map(safePath).join(' ')}: run this record again once the push is allowed`);
      throw result.pushError;
    }
    return result.failed > 0 || result.refused.length > 0 || result.unreadable.length > 0 ? 1 : 0;
  },
};

function stepText(s: RecordStep): string {
  if (s.step === 'recorded') return `recorded ${plural(s.builds, 'build')} (${s.failed} failed) in ${s.branch} ${s.commit.slice(0, 7)}${s.already > 0 ? `; ${s.already} already recorded` : ''}`;
  if (s.step === 'unchanged') return `nothing new to record (${plural(s.already, 'build')} already recorded in ${s.branch})`;
  if (s.step === 'pushed') return `pushed ${s.branch} to ${s.remote}`;
  if (s.step === 'push-failed') return `${s.branch} not pushed to ${s.remote}: ${s.refused ? 'the remote refused it' : 'the push failed'}; reporting anyway`;
  if (s.step === 'report-failed') return `GitHub: not reported: ${s.message}`;
  return `GitHub: ${plural(s.statuses, 'commit status', 'commit statuses')}, ${plural(s.deployments, 'deployment')}`;
}

