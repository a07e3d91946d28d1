import { environmentDiff } from '../repository/diff.js';
import { revisionsFor } from '../repository/history.js';
import { openRepository } from '../repository/index.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { parseRevision, pickRevision } from './pick.js';

export const diff: Command = {
  name: 'diff',
  summary: 'unified diff of spec, Dockerfile and build context between two revisions',
  usage: `envctl diff <name> <revA> [<revB>]

Unified diffs of the environment's YAML, rendered Dockerfile and build-context
files (a folder environment's other files) from revision A to revision B
(numbers or "latest"); without B, to the working tree, where files git
ignores are left out as a build leaves them out. FROM names each side's base
as the ledger knows it (see envctl revisions). Exit 0 either way; the output
is empty when nothing differs.`,
  options: { ...COMMON },
  async run(args, io) {
    const [name, a, b, ...extra] = args.positionals;
    if (name === undefined || a === undefined || extra.length > 0) throw new UsageError('give an environment and one or two revisions');
    const revA = parseRevision(a, 'revision A', { latest: true });
    const revB = b === undefined || b === 'worktree' ? 'worktree' : parseRevision(b, 'revision B', { latest: true });
    const repo = await openRepository(repoDir(args, io), io.env);
    const list = await revisionsFor(repo, name);
    const from = pickRevision(list, name, revA);
    const to = revB === 'worktree' ? revB : pickRevision(list, name, revB);
    const patches = await environmentDiff(repo, name, from, to);
    if (patches.length) io.out(patches.join('\n').replace(/\n$/, ''));
    return 0;
  },
};
