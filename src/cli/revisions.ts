import { shortKey } from '../render/index.js';
import { revisionTable } from '../repository/history.js';
import { openRepository } from '../repository/index.js';
import { keyContext } from '../repository/keys.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { printable } from '../model/text.js';

export const revisions: Command = {
  name: 'revisions',
  summary: "list an environment's revisions from git history",
  usage: `envctl revisions <name> [--json]

Every commit on the branch's first-parent history (envctl.yaml: branch) that
changed the environment's files, oldest first: revision, commit, date,
author, content key and summary. A revision whose content key equals an
earlier one's (a git revert, an envctl rollback) says which.

The key is computed with the base as the ledger knows it: the base image the
revision's build stood on, else the base environment's active (or pinned)
build; a base image by the digest its build recorded, else by its tag. A
key marked ~ (JSON: "keyResolved": false) names a base environment nothing
of which is built yet, by its tag: its build will record another key.`,
  options: { ...COMMON, json: { type: 'boolean' } },
  async run(args, io) {
    const [name, ...extra] = args.positionals;
    if (name === undefined || extra.length > 0) throw new UsageError('name one environment');
    const repo = await openRepository(repoDir(args, io), io.env);
    const rows = await revisionTable(repo, name, await keyContext(repo));
    if (rows.length === 0) {
      io.err(`envctl revisions: "${printable(name)}" has no revisions on ${printable(repo.config.branch)}`);
      return 1;
    }
    if (args.values.json) {
      io.out(JSON.stringify(rows, null, 2));
      return 0;
    }
    const table = rows.map((r) => [
      String(r.number), r.commit.slice(0, 7), r.date.slice(0, 10), r.author,
      r.contentKey === null ? 'invalid' : `${r.keyResolved ? '' : '~'}${shortKey(r.contentKey)}`,
      `${r.subject}${r.sameKeyAs !== null ? `  (same build inputs as ${r.sameKeyAs})` : ''}${r.environment !== name ? `  [as ${r.environment}]` : ''}`,
    ].map(printable)); // authors and subjects come from commits: one cell, one line
    const head = ['REV', 'COMMIT', 'DATE', 'AUTHOR', 'KEY', 'SUMMARY'];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
    io.out([line(head), ...table.map(line)].join('\n'));
    if (rows.some((r) => r.keyResolved === false)) io.err('~ key against a base environment not built yet (named by its tag): its build will record another key');
    return 0;
  },
};
