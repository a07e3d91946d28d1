import { openRepository } from '../repository/index.js';
import { sync as runSync } from '../repository/sync.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';

export const sync: Command = {
  name: 'sync',
  summary: 'carry out the plan: build, push and record in the ledger',
  usage: `envctl sync

Builds what envctl plan lists, bases first, with buildah; pushes to the
registry (the embedded one is started on 127.0.0.1 when needed); reuses the
image of an identical earlier build instead of rebuilding; records every
result in one commit on the state branch. Prints one line per step; full
build logs are kept under .envctl/logs/. Exit 1 when a build failed (the
previous active revision stays active; other environments still build).`,
  options: { ...COMMON },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('sync takes no arguments');
    const root = repoDir(args, io);
    const repo = await openRepository(root);
    const result = await runSync(root, repo.config, (e) => io.out(`[${e.environment}@${e.revision}] ${e.message}`));
    if (result.records.length === 0) io.out('nothing to build: the ledger has every revision at the head');
    else io.err(`recorded ${result.records.length} build${result.records.length === 1 ? '' : 's'} (${result.failed} failed) in ${repo.config.stateBranch} ${result.ledgerCommit?.slice(0, 7)}`);
    return result.failed > 0 ? 1 : 0;
  },
};
