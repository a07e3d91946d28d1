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
import { NAME_PATTERN } from '../load/spec-file.js';
import { EnvctlError } from '../model/errors.js';
import { isRevisionTag } from '../render/index.js';
import { FAILURE_KINDS, upgradeRecord, type BuildRecord, type BuildSbom, type BuildStatus, type Failure, type FailureKind } from './model.js';

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
    super('input', code, `${safePath(path)}: ${message}`, { data: { path } });
  }
}

export function formatResults(head: string | null, builds: BuildResult[]): string {
  return `${JSON.stringify({ format: RESULTS_FORMAT, head, builds } satisfies Results, null, 2)}\n`;
}

/** Results files larger than this are refused unread: a matrix job's file holds one record per environment it built. */
export const RESULTS_MAX_BYTES = 64 * 1024 * 1024;

/** A build entry of a results file that was not recorded, and why. */
export interface RefusedBuild {
  /** The file, and the entry's place in its builds list. */
  path: string;
  index: number;
  /** The environment named, when it was a string (quote it with JSON.stringify to show it). */
  environment?: string;
  problem: string;
}

export interface ReadResults extends Results {
  path: string;
  /** Each kept build's place in the file's builds list. */
  indexes: number[];
  /** Entries left out, each with its reason; the other builds are recorded. */
  refused: RefusedBuild[];
}

/** A log path as sync writes it (relative, under .envctl/logs, one plain file name): the only local logs a record may name, and the only ones the site copies. */
export const LOG_PATH = /^\.envctl\/logs\/[A-Za-z0-9][A-Za-z0-9._-]*\.log$/;

/**
 * A results file → its builds, each entry checked on its own (`checkBuild`):
 * a bad entry is refused by name and the rest are kept. What makes the
 * whole file unreadable (not JSON, an unknown format, no builds list, a head
 * that is not a commit id) throws ResultsFormatError.
 */
export function parseResults(text: string, path: string): ReadResults {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ResultsFormatError('results-not-json', path, `not JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ResultsFormatError('results-malformed', path, 'not a JSON object');
  const v = value as { format?: unknown; head?: unknown; builds?: unknown };
  if (!RESULTS_FORMATS_READ.includes(v.format as string)) throw new ResultsFormatError('results-format-unknown', path, `format ${quoted(v.format)} is not ${RESULTS_FORMAT}`);
  if (!Array.isArray(v.builds)) throw new ResultsFormatError('results-malformed', path, 'no builds list');
  if (v.head !== undefined && v.head !== null && !(typeof v.head === 'string' && COMMIT.test(v.head))) {
    throw new ResultsFormatError('results-malformed', path, `head ${quoted(v.head)} is not a commit id`);
  }
  const builds: BuildResult[] = [];
  const indexes: number[] = [];
  const refused: RefusedBuild[] = [];
  for (const [index, entry] of (v.builds as unknown[]).entries()) {
    const checked = checkBuild(entry, v.format === RESULTS_FORMAT);
    if (typeof checked === 'string') {
      const name = (entry as { environment?: unknown } | null)?.environment;
      refused.push({ path, index, ...(typeof name === 'string' ? { environment: name } : {}), problem: checked });
    } else {
      builds.push(checked);
      indexes.push(index);
    }
  }
  return { format: RESULTS_FORMAT, head: (v.head as string | null | undefined) ?? null, builds, path, indexes, refused };
}

/**
 * Entries naming an environment more than once, across all files, are all
 * refused: a sync builds an environment once, so two records for it (two
 * jobs, or a doctored file) cannot both be right, and neither is chosen.
 */
export function refuseDuplicates(all: ReadResults[]): void {
  const count = new Map<string, number>();
  for (const r of all) for (const b of r.builds) count.set(b.environment, (count.get(b.environment) ?? 0) + 1);
  for (const r of all) {
    refuseWhere(r, (b) => {
      const n = count.get(b.environment)!;
      return n === 1 ? undefined : `the results name this environment ${n} times; none of them is recorded`;
    });
  }
}

/** Leaves out the builds `problem` finds fault with, as refused entries of their file. */
export function refuseWhere(r: ReadResults, problem: (b: BuildResult) => string | undefined): void {
  const builds: BuildResult[] = [];
  const indexes: number[] = [];
  for (const [i, b] of r.builds.entries()) {
    const why = problem(b);
    if (why === undefined) {
      builds.push(b);
      indexes.push(r.indexes[i]!);
    } else r.refused.push({ path: r.path, index: r.indexes[i]!, environment: b.environment, problem: why });
  }
  r.builds = builds;
  r.indexes = indexes;
}

/** A path as given, or quoted when it holds anything but printable ASCII (a file name can hold a line break). */
export function safePath(path: string): string {
  return /^[\x20-\x7e]*$/.test(path) && !path.includes('"') ? path : quoted(path);
}

/** One refused entry as a line for people: the file, the entry and the name quoted, so no control character reaches a terminal. */
export function refusedLine(r: RefusedBuild): string {
  return `${safePath(r.path)}: builds[${r.index}]${r.environment !== undefined ? ` (environment ${quoted(r.environment)})` : ''}: ${r.problem}; not recorded`;
}

const COMMIT = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const RECORD_ID = /^[A-Za-z0-9][A-Za-z0-9:._+-]{0,199}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const CODE = /^[a-z0-9][a-z0-9-]{0,99}$/;
/** `<registry>/<repository>:<tag>`: a host (with port), lowercase path components as the distribution spec has them, a tag. */
const IMAGE = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const FINISHED: readonly BuildStatus[] = ['succeeded', 'failed', 'cancelled'];
const REASON_MAX = 2000;
const LOG_TAIL_MAX = 16 * 1024;
// Control characters, and the bidirectional overrides that reorder what a reader sees.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const quoted = (value: unknown): string => JSON.stringify(value) ?? String(value);
const isCount = (n: unknown, min: number): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= min;
const oneLine = (text: string, max: number) => text.replace(CONTROL, ' ').slice(0, max);

/**
 * One entry → a clean build result (only the fields a record has, each
 * well-formed), or why it is refused. Free text is not refused but made
 * safe: a reason becomes one line without control characters, a log tail
 * keeps its lines and tabs only, both capped, since a failing build's
 * message may well hold a line break and must still be recorded.
 */
export function checkBuild(entry: unknown, current: boolean): BuildResult | string {
  if (typeof entry !== 'object' || entry === null) return 'not an environment with a build record';
  const { environment, record } = entry as { environment?: unknown; record?: unknown };
  if (typeof environment !== 'string') return 'no environment name';
  if (environment.length > 100 || !NAME_PATTERN.test(environment)) return 'not an environment name (lowercase letters, digits and single dashes)';
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'no build record';
  const r = (current ? record : upgradeRecord(record as BuildRecord)) as unknown as Record<string, unknown>;
  const problem = recordProblem(r, environment);
  if (problem) return problem;
  return { environment, record: cleanRecord(r) };
}

function recordProblem(r: Record<string, unknown>, environment: string): string | undefined {
  if (typeof r.id !== 'string' || !RECORD_ID.test(r.id)) return 'the record has no valid id';
  if (!isCount(r.revision, 1)) return `revision ${quoted(r.revision)} is not a revision number`;
  if (typeof r.commit !== 'string' || !COMMIT.test(r.commit)) return `commit ${quoted(r.commit)} is not a commit id`;
  if (typeof r.contentKey !== 'string' || (r.contentKey !== '' && !DIGEST.test(r.contentKey))) return `content key ${quoted(r.contentKey)} is not sha256:<64 hex digits>`;
  if (!FINISHED.includes(r.status as BuildStatus)) return `status ${quoted(r.status)} is not one of ${FINISHED.join(', ')}`;
  if (typeof r.startedAt !== 'string' || !TIME.test(r.startedAt) || Number.isNaN(Date.parse(r.startedAt))) return `startedAt ${quoted(r.startedAt)} is not a UTC time`;
  if (r.endedAt !== undefined && (typeof r.endedAt !== 'string' || !TIME.test(r.endedAt) || Number.isNaN(Date.parse(r.endedAt)))) return `endedAt ${quoted(r.endedAt)} is not a UTC time`;
  for (const field of ['digest', 'baseDigest'] as const) {
    if (r[field] !== undefined && (typeof r[field] !== 'string' || !DIGEST.test(r[field] as string))) return `${field} ${quoted(r[field])} is not sha256:<64 hex digits>`;
  }
  if (r.status === 'succeeded' && r.digest === undefined) return 'a succeeded build without an image digest';
  if (r.image !== undefined) {
    if (typeof r.image !== 'string' || !IMAGE.test(r.image)) return `image ${quoted(r.image)} is not an image reference`;
    // Sync tags each build <registry>/<prefix><environment>:<revision>[-<platform>]: an entry naming another image is not this environment's.
    const colon = r.image.lastIndexOf(':');
    if (!r.image.slice(0, colon).endsWith(environment) || !isRevisionTag(r.image.slice(colon + 1), r.revision as number)) return `image ${quoted(r.image)} is not this environment's at revision ${r.revision}`;
  }
  if (r.status !== 'succeeded') {
    const f = r.failure as { kind?: unknown; code?: unknown; host?: unknown } | undefined;
    if (typeof f !== 'object' || f === null || !FAILURE_KINDS.includes(f.kind as FailureKind)) return 'a build that did not succeed without a failure kind';
    if (f.code !== undefined && (typeof f.code !== 'string' || !CODE.test(f.code))) return `failure code ${quoted(f.code)} is not a code`;
    if (f.host !== undefined && typeof f.host !== 'string') return 'failure host is not text';
  }
  if (r.reusedFrom !== undefined && !isCount(r.reusedFrom, 1)) return `reusedFrom ${quoted(r.reusedFrom)} is not a revision number`;
  if (r.size !== undefined && !isCount(r.size, 0)) return `size ${quoted(r.size)} is not a byte count`;
  if (r.sbom !== undefined) {
    const problem = sbomProblem(r.sbom);
    if (problem) return problem;
  }
  for (const field of ['builder', 'log', 'reason', 'logTail'] as const) {
    if (r[field] !== undefined && typeof r[field] !== 'string') return `${field} is not text`;
  }
  if (r.log !== undefined && !LOG_PATH.test(r.log as string) && !/^https?:\/\/[^\s\u0000-\u001f\u007f]{1,2000}$/.test(r.log as string)) return `log ${quoted(r.log)} is neither a log under .envctl/logs nor a URL`;
  return undefined;
}

/** An ecosystem's name in an SBOM's counts: lowercase, as envctl names them (deb, pypi), so a newer envctl's ecosystem still passes. */
const ECOSYSTEM = /^[a-z][a-z0-9-]{0,31}$/;

function sbomProblem(sbom: unknown): string | undefined {
  if (typeof sbom !== 'object' || sbom === null || Array.isArray(sbom)) return 'sbom is not an object';
  const { digest, packages } = sbom as { digest?: unknown; packages?: unknown };
  if (typeof digest !== 'string' || !DIGEST.test(digest)) return `sbom digest ${quoted(digest)} is not sha256:<64 hex digits>`;
  if (typeof packages !== 'object' || packages === null || Array.isArray(packages)) return 'sbom packages is not an object of counts';
  const entries = Object.entries(packages);
  if (entries.length > 32) return 'sbom packages names more than 32 ecosystems';
  for (const [ecosystem, n] of entries) {
    if (!ECOSYSTEM.test(ecosystem)) return `sbom packages names ${quoted(ecosystem)}, which is not an ecosystem`;
    if (!isCount(n, 0)) return `sbom packages of ${ecosystem}: ${quoted(n)} is not a count`;
  }
  return undefined;
}

/** The record's own fields only (anything else in the entry is dropped), free text made safe. */
function cleanRecord(r: Record<string, unknown>): BuildRecord {
  const out: BuildRecord = {
    id: r.id as string, revision: r.revision as number, commit: r.commit as string, contentKey: r.contentKey as string,
    status: r.status as BuildStatus, startedAt: r.startedAt as string,
  };
  const copy = <K extends keyof BuildRecord>(key: K, value: BuildRecord[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  copy('image', r.image as string | undefined);
  copy('digest', r.digest as string | undefined);
  copy('baseDigest', r.baseDigest as string | undefined);
  copy('endedAt', r.endedAt as string | undefined);
  copy('builder', r.builder === undefined ? undefined : oneLine(r.builder as string, 200));
  copy('log', r.log as string | undefined);
  copy('reason', r.reason === undefined ? undefined : oneLine(r.reason as string, REASON_MAX));
  copy('logTail', r.logTail === undefined ? undefined : (r.logTail as string).replace(CONTROL_BUT_LINES, '').slice(-LOG_TAIL_MAX));
  copy('reusedFrom', r.reusedFrom as number | undefined);
  copy('size', r.size as number | undefined);
  if (r.sbom !== undefined) {
    const { digest, packages } = r.sbom as BuildSbom;
    out.sbom = { digest, packages: Object.fromEntries(Object.entries(packages)) };
  }
  if (r.failure !== undefined && r.status !== 'succeeded') {
    const f = r.failure as Failure;
    out.failure = { kind: f.kind, ...(f.code !== undefined ? { code: f.code } : {}), ...(f.host !== undefined ? { host: oneLine(f.host, 200) } : {}) };
  }
  return out;
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
