import { openRepository } from '../repository/index.js';
import { isEnvctlError } from '../model/errors.js';
import { rollback as rollbackTo } from '../repository/rollback.js';
import { revisionsFor } from '../repository/history.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { parseRevision, pickRevision } from './pick.js';
import { printable } from '../model/text.js';

export const rollback: Command = {
  name: 'rollback',
  summary: "commit an environment's files as they were at a revision",
  usage: `envctl rollback <name> --to <revision>

Writes a commit on the current branch that restores the environment's files
as they were at that revision, with a summary naming it. Use it when
git revert of the offending commit does not apply cleanly. Refuses on a work
tree with uncommitted changes. Its build inputs equal the revision's, so the
image already built is reused.`,
  options: { ...COMMON, to: { type: 'string' } },
  async run(args, io) {
    const [name, ...extra] = args.positionals;
    if (name === undefined || extra.length > 0) throw new UsageError('name one environment');
    if (args.values.to === undefined) throw new UsageError('--to <revision> is required');
    const to = parseRevision(args.values.to as string, '--to', { latest: true });
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const target = pickRevision(await revisionsFor(repo, name), name, to);
    try {
      const result = await rollbackTo(root, repo.config, name, target, io.env);
      if (!result.commit) {
        io.err(`${printable(name)} is already as at revision ${target.number}; nothing to commit`);
        return 0;
      }
      io.out(`${result.commit.slice(0, 7)} Roll back ${printable(name)} to revision ${target.number} (${printable(result.changed.join(', '))})`);
      return 0;
    } catch (err) {
      // A refused rollback (dirty work tree, no author, untracked files in the way) exits 1, not 2: the command line was right.
      if (isEnvctlError(err) && err.code === 'rollback-refused') {
        io.err(`envctl rollback: ${printable(err.message)}`);
        return 1;
      }
      throw err;
    }
  },
};
