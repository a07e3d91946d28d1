import { duplicateEnvironment } from '../repository/duplicate.js';
import { openRepository } from '../repository/index.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { printable } from '../model/text.js';

export const duplicate: Command = {
  name: 'duplicate',
  summary: 'copy an environment to a new name (a new environment, revision 1 when committed)',
  usage: `envctl duplicate <from> <to> [--owner OWNER]

Copies environments/<from>.yaml (or its folder, with every file in it) to
<to> in the same form. The copy keeps the YAML's comments and layout, takes
OWNER as its owner (default: the source's), and leaves out archived and
renamedFrom: it is a new environment whose revisions start with the commit
that adds it. Nothing is committed.
  --owner OWNER   a GitHub login or @org/team
Exit 0, or 2 when <from> is unknown, or <to> exists or is not a valid name.`,
  options: { ...COMMON, owner: { type: 'string' } },
  async run(args, io) {
    if (args.positionals.length !== 2) throw new UsageError('name the environment to copy and the new name');
    const [from, to] = args.positionals as [string, string];
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const owner = typeof args.values.owner === 'string' ? args.values.owner : undefined;
    const done = await duplicateEnvironment(repo, from, to, owner !== undefined ? { owner } : {});
    // The owner is the source's, as its YAML says it: a value, like the names.
    const what = done.files.length > 1 ? `${printable(done.path)} (${done.files.length} files)` : printable(done.path);
    const details = [
      done.owner !== undefined ? `owner ${printable(done.owner)}` : 'no owner',
      ...(done.removed.length ? [`left out: ${printable(done.removed.join(', '))}`] : []),
    ];
    io.out(`wrote ${what}: a copy of ${printable(from)}; ${details.join('; ')}`);
    if (done.previousRevisions !== undefined) {
      io.out(`note: "${printable(to)}" existed before (revisions 1-${done.previousRevisions}); committing it continues that numbering at ${done.previousRevisions + 1}`);
    }
    const path = printable(done.path.replace(/\/$/, ''));
    io.out(`next: edit its title and description, then envctl validate ${printable(to)} && git add ${path} && git commit -m "Add environment ${printable(to)}, a copy of ${printable(from)}"`);
    return 0;
  },
};
