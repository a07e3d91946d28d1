import { KIND_WORD } from '../load/consumers.js';
import { openRepository } from '../repository/index.js';
import { environmentUsage, type EnvironmentUser } from '../repository/usage.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { printable } from '../model/text.js';

export const usage: Command = {
  name: 'usage',
  summary: 'the projects, models and data sets using an environment, and on which revision',
  usage: `envctl usage <environment> [--json]

Lists the projects (projects/), models (models/) and data sets (datasets/)
that run in the environment, with their owners (whom to ask before changing
or archiving it) and the revision each gets: a pinned number, or "active"
resolved through the ledger on the state branch ("active (3)", or
"active (not built yet)").
  --json   print it as data
Exit 0, or 2 when the environment is in neither the work tree nor history.`,
  options: { ...COMMON, json: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('name one environment');
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const result = await environmentUsage(repo, args.positionals[0]!);
    if (args.values.json) {
      io.out(JSON.stringify(result, null, 2));
      return 0;
    }
    const notes = [!result.exists ? 'deleted from the work tree' : '', result.archived ? 'archived' : ''].filter((n) => n !== '');
    const note = notes.length ? ` (${notes.join(', ')})` : '';
    if (result.users.length === 0) {
      io.out(`no project, model or data set uses environment "${printable(result.environment)}"${note}`);
      return 0;
    }
    // Names, owners and files come from the consumers' YAML and paths: one cell, one line.
    const table = result.users.map((u) => [KIND_WORD[u.kind], u.name, revisionText(u), u.owner ?? '-', u.file].map(printable));
    const head = ['KIND', 'NAME', 'REVISION', 'OWNER', 'FILE'];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    if (note) io.err(`environment "${printable(result.environment)}"${note}`);
    io.out([head, ...table].map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n'));
    return 0;
  },
};

function revisionText(u: EnvironmentUser): string {
  if (u.revision !== 'active') return String(u.revision);
  return u.resolved === null ? 'active (not built yet)' : `active (${u.resolved})`;
}
