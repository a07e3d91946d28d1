import { shortKey } from '../render/index.js';
import { openRepository } from '../repository/index.js';
import { revisionKeys } from '../repository/history.js';
import { revisionsOf } from '../store/revision-index.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';

export const revisions: Command = {
  name: 'revisions',
  summary: "list an environment's revisions from git history",
  usage: `envctl revisions <name> [--json]

Every commit on the branch's first-parent history (envctl.yaml: branch) that
changed the environment's files, oldest first: revision, commit, date,
author, content key and summary. A revision whose content key equals an
earlier one's (a git revert, an envctl rollback) says which.`,
  options: { ...COMMON, json: { type: 'boolean' } },
  async run(args, io) {
    const [name, ...extra] = args.positionals;
    if (name === undefined || extra.length > 0) throw new UsageError('name one environment');
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const list = await revisionsOf(root, repo.config, name);
    if (list.length === 0) {
      io.err(`envctl revisions: "${name}" has no revisions on ${repo.config.branch}`);
      return 1;
    }
    const keys = await revisionKeys(root, repo.config, list);
    const firstWithKey = new Map<string, number>();
    const rows = list.map((r, i) => {
      const key = keys[i] ?? null;
      const sameAs = key === null ? undefined : firstWithKey.get(key);
      if (key !== null && sameAs === undefined) firstWithKey.set(key, r.number);
      return { ...r, date: new Date(r.time * 1000).toISOString(), contentKey: key, sameKeyAs: sameAs ?? null };
    });
    if (args.values.json) {
      io.out(JSON.stringify(rows, null, 2));
      return 0;
    }
    const table = rows.map((r) => [
      String(r.number), r.commit.slice(0, 7), r.date.slice(0, 10), r.author,
      r.contentKey === null ? 'invalid' : shortKey(r.contentKey),
      `${r.subject}${r.sameKeyAs !== null ? `  (same build inputs as ${r.sameKeyAs})` : ''}${r.environment !== name ? `  [as ${r.environment}]` : ''}`,
    ]);
    const head = ['REV', 'COMMIT', 'DATE', 'AUTHOR', 'KEY', 'SUMMARY'];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
    io.out([line(head), ...table.map(line)].join('\n'));
    return 0;
  },
};
