import { pushLedger } from '../git/remote.js';
import { printable } from '../model/text.js';
import { openRepository } from '../repository/index.js';
import { publishActive, publishFailed } from '../sync/publish.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { publishLines } from './report.js';

export const publish: Command = {
  name: 'publish',
  summary: 'publish active revisions to the hosted product (publish: in envctl.yaml)',
  usage: `envctl publish [names…] [--push REMOTE]

With publish: in envctl.yaml: each environment linked to a product
environment whose active revision envctl has not yet made active there gets
a product revision on the built image, by digest, set active; every attempt
is recorded in the ledger. sync does this after it records; this command
retries what failed (a CI job runs it on every push). The API key is read
from the variable publish.tokenEnv names (default DOMINO_API_KEY).
  --push REMOTE   push the state branch to REMOTE afterwards
Exit 0 when everything due was published, 1 when a publish failed.`,
  options: { ...COMMON, push: { type: 'string' } },
  async run(args, io) {
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    if (!repo.config.publish) throw new UsageError('nothing to publish to: envctl.yaml has no publish: { url, tokenEnv }');
    const report = await publishActive(root, repo.config, { env: io.env, ...(args.positionals.length ? { only: args.positionals } : {}) });
    for (const line of publishLines(report)) io.err(`envctl publish: ${line}`);
    if (report.environments.length === 0 && report.notes.length === 0) io.out('nothing to publish: the product has every active revision');
    if (typeof args.values.push === 'string' && report.ledgerCommit) {
      await pushLedger(root, repo.config.stateBranch, args.values.push);
      io.err(`pushed ${printable(repo.config.stateBranch)} to ${printable(args.values.push)}`);
    }
    return publishFailed(report) ? 1 : 0;
  },
};
