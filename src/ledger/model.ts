/**
 * The ledger: what was built and what is active, one record per build
 * attempt, one file per environment on the state branch. Pure: parsing,
 * merging record by record, and deriving the active revision.
 *
 * File `ledger/<environment>.json` on the state branch:
 *   { "format": "envctl-ledger/2", "environment": "…", "active": 3 | null,
 *     "builds": [ BuildRecord, … ] }   (oldest first)
 *
 * Format 2 added `failure` to records that did not succeed. Files of format
 * 1 are still read: their records get `failure` derived from `reason` once,
 * as they are read (`upgradeRecord`), and are written back as format 2.
 */
import { EnvctlError } from '../model/errors.js';

export const LEDGER_FORMAT = 'envctl-ledger/2';
/**
 * Format 3 is format 2 with `published` (publications to the hosted
 * product): written only for files that have them, so an envctl that does
 * not know them refuses such a file (ledger-format-unknown) instead of
 * rewriting it without them.
 */
export const LEDGER_FORMAT_PUBLISHED = 'envctl-ledger/3';
/** The formats parseLedgerFile reads, oldest first. */
export const LEDGER_FORMATS_READ = ['envctl-ledger/1', LEDGER_FORMAT, LEDGER_FORMAT_PUBLISHED] as const;

export type BuildStatus = 'queued' | 'building' | 'succeeded' | 'failed' | 'cancelled';

/**
 * Why an attempt did not succeed, as data: the plan's retry rule and every
 * report decide on `kind`, never on `reason`'s words.
 * - `build`: the environment's own build failed (a RUN or COPY step, or the
 *   spec cannot be rendered); it fails the same way until its content
 *   changes, so it is not retried.
 * - `test`: the image built and was pushed, but one of its image tests (the
 *   spec's `tests:`, or a workspace tool's start check) failed; like
 *   `build`, it fails the same way until the content changes, so it is not
 *   retried. The digest is recorded; the revision does not become active.
 * - `registry`: a registry could not be reached, did not answer, or refused
 *   (pulling the base, pushing, tagging a reused image, looking a digest
 *   up); the next sync retries it.
 * - `skipped`: not attempted, because its base environment did not build in
 *   this sync or has no image; the next sync retries it.
 * - `cancelled`: stopped on request (superseded by a newer revision, or
 *   taken over by another sync, which builds it); status `cancelled`.
 * - `unexpected`: anything else (another tool or host, or a fault in
 *   envctl); retried, since nothing says it would fail the same way again.
 */
export type FailureKind = 'build' | 'test' | 'registry' | 'skipped' | 'cancelled' | 'unexpected';

export const FAILURE_KINDS: readonly FailureKind[] = ['build', 'test', 'registry', 'skipped', 'cancelled', 'unexpected'];

export interface Failure {
  kind: FailureKind;
  /** The error's stable code when it had one (`registry-unreachable`, `build-failed`, `base-failed`). */
  code?: string;
  /** Who failed, for `registry` (`registry 127.0.0.1:5000`) and other hosts' failures. */
  host?: string;
}

/** Failures worth another try without a change: the next sync plans them again. */
export const RETRIED_FAILURES: ReadonlySet<FailureKind> = new Set<FailureKind>(['registry', 'skipped', 'unexpected']);

/** A failed attempt the next sync tries again (see FailureKind). */
export function isRetried(record: BuildRecord): boolean {
  return record.status === 'failed' && record.failure !== undefined && RETRIED_FAILURES.has(record.failure.kind);
}

/** Words for an attempt's outcome, the same in every report: `succeeded`, `failed (registry; retried)`, `cancelled`. */
export function outcomeLabel(record: BuildRecord): string {
  if (record.status !== 'failed') return record.status;
  const kind = record.failure?.kind;
  if (kind === undefined) return 'failed';
  return `failed (${FAILURE_WORDS[kind]}${RETRIED_FAILURES.has(kind) ? '; retried' : ''})`;
}

const FAILURE_WORDS: Record<FailureKind, string> = {
  build: 'build', test: 'image test', registry: 'registry', skipped: 'skipped: its base did not build', cancelled: 'cancelled', unexpected: 'unexpected error',
};

export interface BuildRecord {
  /** Unique per attempt: revision, start time and a random part. */
  id: string;
  revision: number;
  commit: string;
  contentKey: string;
  status: BuildStatus;
  /** `<registry>/<prefix><name>:<revision>`. */
  image?: string;
  /** Manifest digest of the pushed image: what is run and what children build FROM. */
  digest?: string;
  /** Digest of the base image the build started FROM. */
  baseDigest?: string;
  startedAt: string;
  endedAt?: string;
  /** e.g. `buildah 1.28.2`, or `reused` when an identical build's image was tagged. */
  builder?: string;
  /** Where the full log is kept (a path under .envctl/logs, or a CI URL). */
  log?: string;
  /** For failures: why, in one line for people, and the end of the log. */
  reason?: string;
  /** For failed and cancelled attempts: why, as data (format 2; derived from `reason` for format 1). */
  failure?: Failure;
  logTail?: string;
  /** The revision whose image this one reuses (same content key). */
  reusedFrom?: number;
  /** Compressed bytes of the image (config and layers), as its manifest gives them. */
  size?: number;
  /** The SBOM pushed beside the image (optional: builds before it, or whose packages could not be read, have none). */
  sbom?: BuildSbom;
}

/**
 * An image's SBOM as the ledger keeps it: the digest of the OCI artifact
 * holding the CycloneDX document (its subject is the image), and how many
 * packages it lists per ecosystem (`deb`, `apk`, `pypi`, `conda`, `cran`;
 * ecosystems with none left out).
 */
export interface BuildSbom {
  digest: string;
  packages: Record<string, number>;
}

/**
 * One attempt to publish an active revision to the hosted product
 * (sync/publish.ts), oldest first in the file. A content key with a
 * `published` entry is never published again: a later revision with the
 * same content (a revert) only sets that product revision active again. A
 * `failed` attempt is retried by the next sync, as a registry failure is.
 */
export interface Publication {
  /** The envctl revision that was active, its content key and image digest. */
  revision: number;
  contentKey: string;
  digest: string;
  status: 'published' | 'failed';
  at: string;
  /** What the product revision is: the image and every setting sent, hashed (sync/publish.ts publishKey); its marker in the summary. */
  publishKey?: string;
  /** For `published`: the product's environment and revision ids, and its revision number. */
  product?: { environment: string; revision: string; number: number };
  /** For `failed`: why, in one line, and the error's code. */
  reason?: string;
  code?: string;
}

export interface EnvironmentLedger {
  format: typeof LEDGER_FORMAT;
  environment: string;
  active: number | null;
  builds: BuildRecord[];
  /** Publications to the hosted product (absent when none: files without them are unchanged). */
  published?: Publication[];
}

export type Ledger = Map<string, EnvironmentLedger>;

const RANK: Record<BuildStatus, number> = { queued: 0, building: 1, cancelled: 2, failed: 2, succeeded: 2 };

export function emptyLedger(environment: string): EnvironmentLedger {
  return { format: LEDGER_FORMAT, environment, active: null, builds: [] };
}

/** The newest revision whose build succeeded: what projects get unless they pin one. */
export function activeRevision(builds: BuildRecord[]): number | null {
  let best: number | null = null;
  for (const b of builds) if (b.status === 'succeeded' && (best === null || b.revision > best)) best = b.revision;
  return best;
}

/** The build whose image is active: the newest succeeded attempt at the active revision. */
export function activeBuild(ledger: EnvironmentLedger | undefined): BuildRecord | undefined {
  return ledger ? succeededBuild(ledger.builds, activeRevision(ledger.builds)) : undefined;
}

/** The newest succeeded attempt at a revision (a later failed rebuild of it does not replace its image). */
export function succeededBuild(builds: BuildRecord[], revision: number | null): BuildRecord | undefined {
  let best: BuildRecord | undefined;
  for (const b of builds) if (b.revision === revision && b.status === 'succeeded' && b.digest && (!best || b.startedAt >= best.startedAt)) best = b;
  return best;
}

/** The latest attempt at each revision. */
export function latestAttempts(builds: BuildRecord[]): Map<number, BuildRecord> {
  const out = new Map<number, BuildRecord>();
  for (const b of builds) {
    const prev = out.get(b.revision);
    if (!prev || b.startedAt > prev.startedAt || (b.startedAt === prev.startedAt && RANK[b.status] >= RANK[prev.status])) out.set(b.revision, b);
  }
  return out;
}

/**
 * Two versions of one environment's ledger (say, two syncs that raced) →
 * one that keeps every record of both. The same attempt in both keeps its
 * further-advanced state (a finished build over a queued one).
 */
export function mergeLedgers(a: EnvironmentLedger, b: EnvironmentLedger): EnvironmentLedger {
  const byId = new Map<string, BuildRecord>();
  for (const r of [...a.builds, ...b.builds]) {
    const prev = byId.get(r.id);
    if (!prev || RANK[r.status] > RANK[prev.status] || (RANK[r.status] === RANK[prev.status] && (r.endedAt ?? '') > (prev.endedAt ?? ''))) byId.set(r.id, r);
  }
  const builds = [...byId.values()].sort((x, y) => (x.startedAt < y.startedAt ? -1 : x.startedAt > y.startedAt ? 1 : x.id < y.id ? -1 : 1));
  const published = mergePublications(a.published ?? [], b.published ?? []);
  return { format: LEDGER_FORMAT, environment: a.environment, active: activeRevision(builds), builds, ...(published.length ? { published } : {}) };
}

const publicationId = (p: Publication) => `${p.at}\0${p.contentKey}\0${p.status}`;

/** Both lists' attempts once each (by time, content key and status), oldest first. */
export function mergePublications(a: readonly Publication[], b: readonly Publication[]): Publication[] {
  const byId = new Map<string, Publication>();
  for (const p of [...a, ...b]) if (!byId.has(publicationId(p))) byId.set(publicationId(p), p);
  return [...byId.values()].sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : publicationId(x) < publicationId(y) ? -1 : 1));
}

/** What envctl last made active in the product for this environment: its newest `published` entry. */
export function lastPublished(ledger: EnvironmentLedger | undefined): Publication | undefined {
  return [...(ledger?.published ?? [])].reverse().find((p) => p.status === 'published');
}

/** The product ids as the client accepts them (product/types.ts PRODUCT_ID): a hostile ledger file cannot put a path into a request. */
const PRODUCT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function parsePublications(value: unknown, path: string): Publication[] {
  if (value === undefined) return [];
  const bad = (what: string) => new LedgerFormatError('ledger-malformed', path, `published ${what}`);
  if (!Array.isArray(value)) throw bad('is not a list');
  return value.map((v: unknown, i) => {
    const p = v as Partial<Publication> | null;
    const at = `entry ${i + 1}`;
    if (p === null || typeof p !== 'object') throw bad(`${at} is not an object`);
    if (!Number.isInteger(p.revision) || (p.revision as number) < 1) throw bad(`${at} has no revision`);
    if (typeof p.contentKey !== 'string' || typeof p.digest !== 'string' || typeof p.at !== 'string') throw bad(`${at} lacks contentKey, digest or at`);
    if (p.status !== 'published' && p.status !== 'failed') throw bad(`${at} has status ${JSON.stringify(p.status)}`);
    const product = p.product;
    if (p.status === 'published') {
      if (!product || typeof product !== 'object' || !PRODUCT_ID.test(String(product.environment)) || !PRODUCT_ID.test(String(product.revision)) || !Number.isInteger(product.number)) {
        throw bad(`${at} is published without usable product ids`);
      }
    }
    return {
      revision: p.revision!, contentKey: p.contentKey, digest: p.digest, status: p.status, at: p.at,
      ...(p.status === 'published' ? { product: { environment: String(product!.environment), revision: String(product!.revision), number: product!.number } } : {}),
      ...(typeof p.publishKey === 'string' ? { publishKey: p.publishKey } : {}),
      ...(typeof p.reason === 'string' ? { reason: p.reason } : {}),
      ...(typeof p.code === 'string' ? { code: p.code } : {}),
    };
  });
}

/**
 * A ledger file that cannot be read (input: the file is bad). Codes
 * `ledger-not-json`, `ledger-format-unknown` (a newer envctl wrote it),
 * `ledger-malformed`; `data.path` names the file.
 */
export class LedgerFormatError extends EnvctlError {
  constructor(code: string, path: string, message: string) {
    super('input', code, `${path}: ${message}`, { data: { path } });
  }
}

export function parseLedgerFile(text: string, path: string): EnvironmentLedger {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LedgerFormatError('ledger-not-json', path, `not JSON (${(err as Error).message})`);
  }
  const v = value as { format?: unknown; environment?: unknown; builds?: unknown; published?: unknown };
  if (!(LEDGER_FORMATS_READ as readonly unknown[]).includes(v.format)) {
    throw new LedgerFormatError('ledger-format-unknown', path, `format ${JSON.stringify(v.format)} is not ${LEDGER_FORMAT}; a newer envctl wrote it`);
  }
  if (typeof v.environment !== 'string' || !Array.isArray(v.builds)) throw new LedgerFormatError('ledger-malformed', path, 'missing environment or builds');
  const builds = v.format === 'envctl-ledger/1' ? (v.builds as BuildRecord[]).map(upgradeRecord) : (v.builds as BuildRecord[]);
  const published = parsePublications(v.published, path);
  return { format: LEDGER_FORMAT, environment: v.environment, active: activeRevision(builds), builds, ...(published.length ? { published } : {}) };
}

/**
 * A record written before failures were data (ledger format 1, results
 * format 1) → the same record with `failure` derived from its `reason`, the
 * one place envctl reads those words: sync then wrote "registry <host>: …"
 * for registry trouble, "skipped: …" for a base that did not build,
 * "error: …" for anything unexpected, and the builder's own line for a
 * failing build. Records that succeeded, or already carry `failure`, are
 * returned as they are.
 */
export function upgradeRecord(record: BuildRecord): BuildRecord {
  if (record.failure !== undefined || (record.status !== 'failed' && record.status !== 'cancelled')) return record;
  if (record.status === 'cancelled') return { ...record, failure: { kind: 'cancelled' } };
  const reason = record.reason ?? '';
  const registry = /^(registry [^\s:]+(?::\d+)?)/.exec(reason);
  const failure: Failure = registry ? { kind: 'registry', host: registry[1]! }
    : reason.startsWith('skipped') ? { kind: 'skipped' }
      : reason.startsWith('error:') ? { kind: 'unexpected' }
        : { kind: 'build' };
  return { ...record, failure };
}

/** Stable, diff-friendly text: one build per line block, keys in a fixed order. */
export function formatLedgerFile(ledger: EnvironmentLedger): string {
  const { published, ...rest } = ledger;
  const format = published?.length ? LEDGER_FORMAT_PUBLISHED : LEDGER_FORMAT;
  return `${JSON.stringify({ ...rest, format, active: activeRevision(ledger.builds), ...(published?.length ? { published } : {}) }, null, 2)}\n`;
}
