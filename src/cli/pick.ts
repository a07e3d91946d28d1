/** Revisions on the command line: `name@rev`, revision arguments and `--revision`, parsed one way. */
import type { Revision } from '../revisions/number.js';
import { UsageError, type Parsed } from './command.js';

export type RevisionArg = number | 'latest';

/**
 * A revision as given on the command line: a number from 1, or `latest`
 * where the command takes it. `what` names the argument in the message.
 */
export function parseRevision(text: string | undefined, what: string, opts: { latest?: boolean } = {}): RevisionArg {
  if (text !== undefined && /^[1-9][0-9]*$/.test(text)) return Number(text);
  if (text === 'latest' && opts.latest) return 'latest';
  throw new UsageError(`${what} takes a revision number${opts.latest ? ' or "latest"' : ''}; got ${text === undefined ? 'nothing' : `"${text}"`}`);
}

/** `--revision N` when given (a number: run-spec, run). */
export function revisionOption(args: Parsed): number | undefined {
  const v = args.values.revision;
  if (v === undefined) return undefined;
  return parseRevision(typeof v === 'string' ? v : undefined, '--revision') as number;
}

export function parseNameAtRevision(arg: string | undefined): { name: string; rev: RevisionArg } {
  const m = arg === undefined ? null : /^([a-z0-9]+(?:-[a-z0-9]+)*)@(\d+|latest)$/.exec(arg);
  if (!m) throw new UsageError(`expected <name>@<revision>, e.g. python-datascience@3; got ${arg === undefined ? 'nothing' : `"${arg}"`}`);
  return { name: m[1]!, rev: parseRevision(m[2], `${m[1]}@`, { latest: true }) };
}

/** A revision by number (or `latest`) from an environment's list; a usage error names the range. */
export function pickRevision(list: Revision[], name: string, rev: RevisionArg): Revision {
  if (list.length === 0) throw new UsageError(`"${name}" has no revisions`);
  const found = rev === 'latest' ? list[list.length - 1] : list.find((r) => r.number === rev);
  if (!found) throw new UsageError(`"${name}" has revisions ${list[0]!.number}–${list[list.length - 1]!.number}; there is no revision ${rev}`);
  return found;
}
