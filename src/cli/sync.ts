import { openRepository } from '../repository/index.js';
import { pushLedger } from '../git/remote.js';
import { sync as runSync } from '../repository/sync.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';

export const sync: Command = {
  name: 'sync',
  summary: 'carry out the plan: build, push and record in the ledger',
  usage: `envctl sync [--jobs N]

Builds what envctl plan lists, bases first, with buildah; pushes to the
registry (the embedded one is started on 127.0.0.1 when needed); reuses the
image of an identical earlier build instead of rebuilding; records every
result in one commit on the state branch. Prints one line per step; full
build logs are kept under .envctl/logs/. Exit 1 when a build failed (the
previous active revision stays active; other environments still build).
  --jobs N        build up to N independent groups at once (default 1)
  --push REMOTE   push the state branch to REMOTE afterwards; if another sync
                  pushed first, its records are merged in and the push retried`,
  options: { ...COMMON, jobs: { type: 'string', short: 'j' }, push: { type: 'string' } },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('sync takes no arguments');
    const root = repoDir(args, io);
    const repo = await openRepository(root);
    const jobs = args.values.jobs === undefined ? 1 : Number(args.values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError('--jobs takes a whole number of 1 or more');
    const result = await runSync(root, repo.config, { jobs, progress: (e) => io.out(`[${e.environment}@${e.revision}] ${e.message}`) });
    if (result.records.length === 0) io.out('nothing to build: the ledger has every revision at the head');
    else io.err(`recorded ${result.records.length} build${result.records.length === 1 ? '' : 's'} (${result.failed} failed) in ${repo.config.stateBranch} ${result.ledgerCommit?.slice(0, 7)}`);
    if (typeof args.values.push === 'string' && result.records.length > 0) {
      await pushLedger(root, repo.config.stateBranch, args.values.push);
      io.err(`pushed ${repo.config.stateBranch} to ${args.values.push}`);
    }
    return result.failed > 0 ? 1 : 0;
  },
};
