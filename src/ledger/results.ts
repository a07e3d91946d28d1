/**
 * Build results carried between CI jobs: each matrix job builds its group
 * and writes a results file (`sync --results FILE`); one final job records
 * them all in the ledger in one commit (`envctl record`). Pure.
 *
 *   { "format": "envctl-results/2", "head": "<commit>",
 *     "builds": [ { "environment": "…", "record": BuildRecord }, … ] }
 *
 * Format 2 carries records of ledger format 2 (with `failure`); files of
 * format 1 are still read, their records upgraded as the ledger's are.
 */
import { EnvctlError } from '../model/errors.js';
import { upgradeRecord, type BuildRecord } from './model.js';

export const RESULTS_FORMAT = 'envctl-results/2';
const RESULTS_FORMATS_READ: readonly string[] = ['envctl-results/1', RESULTS_FORMAT];

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

/**
 * A results file that cannot be read (input: a bad file was named). Codes
 * `results-not-json`, `results-format-unknown`, `results-malformed`;
 * `data.path` names the file.
 */
export class ResultsFormatError extends EnvctlError {
  constructor(code: string, path: string, message: string) {
    super('input', code, `${path}: ${message}`, { data: { path } });
  }
}

export function formatResults(head: string | null, builds: BuildResult[]): string {
  return `${JSON.stringify({ format: RESULTS_FORMAT, head, builds } satisfies Results, null, 2)}\n`;
}

export function parseResults(text: string, path: string): Results {
  let value: Partial<Results>;
  try {
    value = JSON.parse(text) as Partial<Results>;
  } catch (err) {
    throw new ResultsFormatError('results-not-json', path, `not JSON (${(err as Error).message})`);
  }
  if (!RESULTS_FORMATS_READ.includes(value.format as string)) throw new ResultsFormatError('results-format-unknown', path, `format ${JSON.stringify(value.format)} is not ${RESULTS_FORMAT}`);
  if (!Array.isArray(value.builds)) throw new ResultsFormatError('results-malformed', path, 'no builds list');
  for (const [i, b] of value.builds.entries()) {
    const r = b?.record as Partial<BuildRecord> | undefined;
    if (typeof b?.environment !== 'string' || typeof r?.id !== 'string' || typeof r.revision !== 'number' || typeof r.status !== 'string') {
      throw new ResultsFormatError('results-malformed', path, `builds[${i}] is not an environment with a build record`);
    }
  }
  const builds = value.format === RESULTS_FORMAT ? value.builds : value.builds.map((b) => ({ ...b, record: upgradeRecord(b.record) }));
  return { format: RESULTS_FORMAT, head: value.head ?? null, builds };
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
