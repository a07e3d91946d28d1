import { createTwoFilesPatch } from 'diff';
import { readWorkTree } from '../files/worktree.js';
import { environmentAt, renderSnapshot, type EnvironmentAt } from '../repository/history.js';
import { openRepository } from '../repository/index.js';
import { revisionsOf } from '../store/revision-index.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { parseRevision, pickRevision } from './pick.js';

export const diff: Command = {
  name: 'diff',
  summary: 'unified diff of spec and Dockerfile between two revisions',
  usage: `envctl diff <name> <revA> [<revB>]

Unified diff of the environment's YAML and rendered Dockerfile from revision
A to revision B (numbers or "latest"); without B, to the working tree.
Exit 0 either way; the diff is empty when nothing differs.`,
  options: { ...COMMON },
  async run(args, io) {
    const [name, a, b, ...extra] = args.positionals;
    if (name === undefined || a === undefined || extra.length > 0) throw new UsageError('give an environment and one or two revisions');
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const list = await revisionsOf(root, repo.config, name);
    const ra = pickRevision(list, name, parseRevision(a, 'revision A', { latest: true }));
    const from = await environmentAt(root, repo.config, ra.environment, ra.entry);
    let to: EnvironmentAt;
    let toLabel: string;
    if (b === undefined || b === 'worktree') {
      to = renderSnapshot(await readWorkTree(root, repo.config.environmentsDir), name, repo.config);
      toLabel = 'working tree';
    } else {
      const rb = pickRevision(list, name, parseRevision(b, 'revision B', { latest: true }));
      to = await environmentAt(root, repo.config, rb.environment, rb.entry);
      toLabel = `revision ${rb.number}`;
    }
    const fromLabel = `revision ${ra.number}`;
    const patch = (what: string, x: string, y: string) =>
      x === y ? '' : createTwoFilesPatch(`${name}@${fromLabel} ${what}`, `${name}@${toLabel} ${what}`, x, y, undefined, undefined, { context: 3 });
    const out = [
      patch('spec', from.spec, to.spec),
      patch('Dockerfile', from.rendered?.dockerfile ?? '', to.rendered?.dockerfile ?? ''),
    ].filter((p) => p !== '');
    if (out.length) io.out(out.join('\n').replace(/\n$/, ''));
    return 0;
  },
};
