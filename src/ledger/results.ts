/**
 * Build results carried between CI jobs: each matrix job builds its group
 * and writes a results file (`sync --results FILE`); one final job records
 * them all in the ledger in one commit (`envctl record`). Pure.
 *
 *   { "format": "envctl-results/1", "head": "<commit>",
 *     "builds": [ { "environment": "…", "record": BuildRecord }, … ] }
 */
import type { BuildRecord } from './model.js';

export const RESULTS_FORMAT = 'envctl-results/1';

export interface BuildResult {
  environment: string;
  record: BuildRecord;
}

export interface Results {
  format: typeof RESULTS_FORMAT;
  /** The branch head the builds were planned from. */
  head: string | null;
  builds: BuildResult[];
}

export class ResultsFormatError extends Error {}

export function formatResults(head: string | null, builds: BuildResult[]): string {
  return `${JSON.stringify({ format: RESULTS_FORMAT, head, builds } satisfies Results, null, 2)}\n`;
}

export function parseResults(text: string, path: string): Results {
  let value: Partial<Results>;
  try {
    value = JSON.parse(text) as Partial<Results>;
  } catch (err) {
    throw new ResultsFormatError(`${path}: not JSON (${(err as Error).message})`);
  }
  if (value.format !== RESULTS_FORMAT) throw new ResultsFormatError(`${path}: format ${JSON.stringify(value.format)} is not ${RESULTS_FORMAT}`);
  if (!Array.isArray(value.builds)) throw new ResultsFormatError(`${path}: no builds list`);
  for (const [i, b] of value.builds.entries()) {
    const r = b?.record as Partial<BuildRecord> | undefined;
    if (typeof b?.environment !== 'string' || typeof r?.id !== 'string' || typeof r.revision !== 'number' || typeof r.status !== 'string') {
      throw new ResultsFormatError(`${path}: builds[${i}] is not an environment with a build record`);
    }
  }
  return { format: RESULTS_FORMAT, head: value.head ?? null, builds: value.builds };
}

/** Several results files → records by environment, for one ledger commit. */
export function recordsByEnvironment(all: Results[]): Map<string, BuildRecord[]> {
  const out = new Map<string, BuildRecord[]>();
  for (const r of all) for (const b of r.builds) out.set(b.environment, [...(out.get(b.environment) ?? []), b.record]);
  return out;
}

export function summaryOf(records: BuildRecord[], head: string | null): string {
  const n = (s: BuildRecord['status']) => records.filter((r) => r.status === s).length;
  const cancelled = n('cancelled');
  return `envctl sync: ${n('succeeded')} built or reused, ${n('failed')} failed${cancelled ? `, ${cancelled} cancelled` : ''} (${head?.slice(0, 12) ?? 'no head'})`;
}
