/** `name@rev` and revision numbers on the command line. */
import type { Revision } from '../revisions/number.js';
import { UsageError } from './command.js';

export function parseNameAtRevision(arg: string | undefined): { name: string; rev: string } {
  const m = arg === undefined ? null : /^([a-z0-9]+(?:-[a-z0-9]+)*)@(\d+|latest)$/.exec(arg);
  if (!m) throw new UsageError(`expected <name>@<revision>, e.g. python-datascience@3; got ${arg === undefined ? 'nothing' : `"${arg}"`}`);
  return { name: m[1]!, rev: m[2]! };
}

/** A revision by number (or `latest`) from an environment's list; a usage error names the range. */
export function pickRevision(list: Revision[], name: string, rev: string): Revision {
  if (list.length === 0) throw new UsageError(`"${name}" has no revisions`);
  const found = rev === 'latest' ? list[list.length - 1] : list.find((r) => String(r.number) === rev);
  if (!found) throw new UsageError(`"${name}" has revisions ${list[0]!.number}–${list[list.length - 1]!.number}; there is no revision ${rev}`);
  return found;
}
