import { openRepository } from '../repository/index.js';
import { planRepository } from '../repository/plan.js';
import { shortKey } from '../render/index.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';

export const plan: Command = {
  name: 'plan',
  summary: 'the builds the ledger lacks for the branch head, bases first',
  usage: `envctl plan [--branch BRANCH] [--json | --matrix]

Compares the head of the branch (envctl.yaml: branch, or --branch) with the
ledger and lists the builds needed, a base before what is built on it: new
revisions, environments whose base environment's active image changed, and
builds a killed sync left unfinished. A revision whose content key was built
before is reused (its image tagged), not built.
  --json     the plan as data
  --matrix   groups for a CI matrix: {"include":[{"group":…,"environments":[…]}]}`,
  options: { ...COMMON, branch: { type: 'string' }, json: { type: 'boolean' }, matrix: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('plan takes no arguments');
    const root = repoDir(args, io);
    const repo = await openRepository(root);
    const result = await planRepository(root, repo.config, typeof args.values.branch === 'string' ? args.values.branch : undefined);
    if (args.values.matrix) {
      io.out(JSON.stringify({ include: result.groups.map((environments, i) => ({ group: i + 1, environments })) }));
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
    for (const b of result.builds) {
      const what = b.action === 'reuse' ? `reuse revision ${b.reuse!.revision}'s image (same content key)` : 'build';
      io.out(`${b.environment}@${b.revision}  ${what}  [${b.reason}]  key ${b.contentKey ? shortKey(b.contentKey) : 'after its base'}${b.after.length ? `  after ${b.after.join(', ')}` : ''}`);
    }
    const builds = result.builds.filter((b) => b.action === 'build').length;
    io.err(`${builds} to build, ${result.builds.length - builds} to reuse, in ${result.groups.length} group${result.groups.length === 1 ? '' : 's'}`);
    return 0;
  },
};
