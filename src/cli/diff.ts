import { environmentDiff, packageDiff, type PackageDiff } from '../repository/diff.js';
import { revisionsFor } from '../repository/history.js';
import { openRepository } from '../repository/index.js';
import { printable } from '../model/text.js';
import { formatBytes } from '../site/format.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { parseRevision, pickRevision } from './pick.js';

export const diff: Command = {
  name: 'diff',
  summary: 'unified diff of spec, Dockerfile and build context between two revisions; --packages: of their images',
  usage: `envctl diff <name> <revA> [<revB>]
envctl diff <name> <revA> <revB> --packages [--json]

Unified diffs of the environment's YAML, rendered Dockerfile and build-context
files (a folder environment's other files) from revision A to revision B
(numbers or "latest"); without B, to the working tree, where files git
ignores are left out as a build leaves them out. FROM names each side's base
as the ledger knows it (see envctl revisions). Exit 0 either way; the output
is empty when nothing differs.
  --packages  compare the two revisions' built images instead: packages
              added, removed and changed per ecosystem (deb, apk, pypi,
              conda, cran) with their versions, and the image size's change
              (both revisions must have been built; see envctl packages)
  --json      with --packages: print it as data`,
  options: { ...COMMON, packages: { type: 'boolean' }, json: { type: 'boolean' } },
  async run(args, io) {
    const [name, a, b, ...extra] = args.positionals;
    if (name === undefined || a === undefined || extra.length > 0) throw new UsageError('give an environment and one or two revisions');
    const packages = args.values.packages === true;
    if (args.values.json && !packages) throw new UsageError('--json goes with --packages; the other diffs are text');
    if (packages && (b === undefined || b === 'worktree')) throw new UsageError('--packages compares two built revisions: give both');
    const revA = parseRevision(a, 'revision A', { latest: true });
    const revB = b === undefined || b === 'worktree' ? 'worktree' : parseRevision(b, 'revision B', { latest: true });
    const repo = await openRepository(repoDir(args, io), io.env);
    const list = await revisionsFor(repo, name);
    const from = pickRevision(list, name, revA);
    const to = revB === 'worktree' ? revB : pickRevision(list, name, revB);
    if (packages && to !== 'worktree') {
      const result = await packageDiff(repo, name, from, to);
      io.out(args.values.json ? JSON.stringify(result, null, 2) : packageDiffText(result));
      return 0;
    }
    const patches = await environmentDiff(repo, name, from, to);
    if (patches.length) io.out(patches.join('\n').replace(/\n$/, ''));
    return 0;
  },
};

/**
 * `deb: 1 added, 1 changed` then `+ jq 1.6-2.1`, `~ git 2.39.2 → 2.39.5`,
 * `- six 1.16.0` per ecosystem; the image size last. Every name and version
 * comes from an image: printable, one line each.
 */
export function packageDiffText(d: PackageDiff): string {
  const lines = [`${printable(d.environment)}: revision ${d.from.revision} → ${d.to.revision}, ${printable(d.from.image)} → ${printable(d.to.image)}`];
  if (d.packages.length === 0) lines.push('no package differs');
  for (const e of d.packages) {
    const counts = [e.added.length ? `${e.added.length} added` : '', e.removed.length ? `${e.removed.length} removed` : '', e.changed.length ? `${e.changed.length} changed` : ''].filter(Boolean);
    lines.push(`${e.ecosystem}: ${counts.join(', ')}`);
    for (const p of e.added) lines.push(`  + ${printable(p.name)} ${printable(p.version)}`);
    for (const p of e.removed) lines.push(`  - ${printable(p.name)} ${printable(p.version)}`);
    for (const p of e.changed) lines.push(`  ~ ${printable(p.name)} ${printable(p.from)} → ${printable(p.to)}`);
  }
  const [x, y] = [d.from.size, d.to.size];
  if (x !== undefined && y !== undefined && d.sizeChange !== null) {
    const change = d.sizeChange === 0 ? 'no change' : `${d.sizeChange > 0 ? '+' : '−'}${formatBytes(Math.abs(d.sizeChange))}`;
    lines.push(`image size: ${formatBytes(x)} → ${formatBytes(y)} (${change})`);
  } else {
    lines.push('image size: not recorded for both revisions');
  }
  return lines.join('\n');
}
