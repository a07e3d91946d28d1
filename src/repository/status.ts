/** Per environment: its active revision and image, and its latest revision's build. */
import { readLedger } from '../git/ledger.js';
import { activeBuild, latestAttempts, type BuildRecord } from '../ledger/model.js';
import type { Config } from '../model/config.js';
import { liveClaims, type Claim } from '../store/claims.js';
import { updateRevisions } from '../store/revision-index.js';

export interface EnvironmentStatus {
  environment: string;
  latest: { revision: number; commit: string; subject: string } | null;
  /** The latest revision's newest build attempt; null when it was never built. */
  latestBuild: BuildRecord | null;
  active: { revision: number; image: string | null; digest: string | null } | null;
  /** A sync on this machine queued or building a revision now. */
  inProgress: { revision: number; status: 'queued' | 'building'; pid: number; since: string } | null;
}

export async function environmentStatus(root: string, config: Config, only?: string): Promise<EnvironmentStatus[]> {
  const [log, state, claims] = await Promise.all([updateRevisions(root, config), readLedger(root, config.stateBranch), liveClaims(root)]);
  const claimed = new Map(claims.map((c) => [c.environment, c]));
  const revisions = await log.read(only);
  const latest = new Map<string, (typeof revisions)[number]>();
  for (const r of revisions) latest.set(r.environment, r);
  const names = new Set([...Object.keys(log.entries), ...state.ledger.keys()]);
  const out: EnvironmentStatus[] = [];
  for (const name of [...names].sort()) {
    if (only !== undefined && name !== only) continue;
    const rev = log.entries[name] ? latest.get(name) : undefined;
    const ledger = state.ledger.get(name);
    const attempts = latestAttempts(ledger?.builds ?? []);
    const active = activeBuild(ledger);
    out.push({
      environment: name,
      latest: rev ? { revision: rev.number, commit: rev.commit, subject: rev.subject } : null,
      latestBuild: rev ? attempts.get(rev.number) ?? null : null,
      active: active ? { revision: active.revision, image: active.image ?? null, digest: active.digest ?? null } : null,
      inProgress: inProgress(claimed.get(name)),
    });
  }
  return out;
}

function inProgress(c: Claim | undefined): EnvironmentStatus['inProgress'] {
  return c ? { revision: c.revision, status: c.status, pid: c.pid, since: c.since } : null;
}
