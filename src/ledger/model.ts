/**
 * The ledger: what was built and what is active, one record per build
 * attempt, one file per environment on the state branch. Pure: parsing,
 * merging record by record, and deriving the active revision.
 *
 * File `ledger/<environment>.json` on the state branch:
 *   { "format": "envctl-ledger/1", "environment": "…", "active": 3 | null,
 *     "builds": [ BuildRecord, … ] }   (oldest first)
 */

export const LEDGER_FORMAT = 'envctl-ledger/1';

export type BuildStatus = 'queued' | 'building' | 'succeeded' | 'failed' | 'cancelled';

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
  /** For failures: why, in one line, and the end of the log. */
  reason?: string;
  logTail?: string;
  /** The revision whose image this one reuses (same content key). */
  reusedFrom?: number;
  /** Compressed bytes of the image (config and layers), as its manifest gives them. */
  size?: number;
}

export interface EnvironmentLedger {
  format: typeof LEDGER_FORMAT;
  environment: string;
  active: number | null;
  builds: BuildRecord[];
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
  return { format: LEDGER_FORMAT, environment: a.environment, active: activeRevision(builds), builds };
}

export function withRecords(ledger: EnvironmentLedger, records: BuildRecord[]): EnvironmentLedger {
  return mergeLedgers(ledger, { ...ledger, builds: records });
}

export class LedgerFormatError extends Error {}

export function parseLedgerFile(text: string, path: string): EnvironmentLedger {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LedgerFormatError(`${path}: not JSON (${(err as Error).message})`);
  }
  const v = value as Partial<EnvironmentLedger>;
  if (v.format !== LEDGER_FORMAT) throw new LedgerFormatError(`${path}: format ${JSON.stringify(v.format)} is not ${LEDGER_FORMAT}; a newer envctl wrote it`);
  if (typeof v.environment !== 'string' || !Array.isArray(v.builds)) throw new LedgerFormatError(`${path}: missing environment or builds`);
  return { format: LEDGER_FORMAT, environment: v.environment, active: activeRevision(v.builds), builds: v.builds };
}

/** Stable, diff-friendly text: one build per line block, keys in a fixed order. */
export function formatLedgerFile(ledger: EnvironmentLedger): string {
  return `${JSON.stringify({ ...ledger, active: activeRevision(ledger.builds) }, null, 2)}\n`;
}
