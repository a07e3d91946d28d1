import { environmentAt, revisionsFor } from '../repository/history.js';
import { openRepository } from '../repository/index.js';
import { keyContext } from '../repository/keys.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { parseNameAtRevision, pickRevision } from './pick.js';

export const show: Command = {
  name: 'show',
  summary: 'print an environment as it was at a revision',
  usage: `envctl show <name>@<revision> [--render]

Prints the environment's YAML as of that revision (revision: a number or
"latest"); --render prints its rendered Dockerfile instead, FROM naming the
base as the revision's build stood on it (or the base's active build; a tag
before any build).`,
  options: { ...COMMON, render: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('name one <name>@<revision>');
    const { name, rev } = parseNameAtRevision(args.positionals[0]);
    const repo = await openRepository(repoDir(args, io), io.env);
    const revision = pickRevision(await revisionsFor(repo, name), name, rev);
    const at = await environmentAt(repo.root, repo.config, revision, args.values.render ? await keyContext(repo) : undefined);
    if (!args.values.render) {
      io.out(at.spec.replace(/\n$/, ''));
      return 0;
    }
    if (!at.rendered) {
      io.err(`envctl show: ${name}@${revision.number} does not pass the schema, so it has no Dockerfile`);
      return 1;
    }
    io.out(at.rendered.dockerfile.replace(/\n$/, ''));
    return 0;
  },
};
