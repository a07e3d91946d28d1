/**
 * Which sync is building what, right now, on this machine: one claim file
 * per environment under `.envctl/sync/`, naming the revision, its state
 * (`queued` or `building`) and the sync's pid. The ledger only records
 * finished builds (one commit per sync); claims are how `status` shows a
 * build in progress, how a second sync leaves a revision to the one
 * already building it, and how a newer revision supersedes an older build
 * (the older sync sees its claim taken and stops, recording `cancelled`).
 * A claim whose process is gone (killed) counts for nothing. Changes to a
 * claim are made under a per-environment lock.
 */
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { statePaths } from './paths.js';

export interface Claim {
  environment: string;
  revision: number;
  status: 'queued' | 'building';
  pid: number;
  since: string;
}

const dirOf = statePaths.claims;
const fileOf = async (root: string, environment: string) => join(await dirOf(root), `${environment}.json`);

/** Whether a process still runs (EPERM: it runs, as another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live claim on an environment, if any. */
export async function readClaim(root: string, environment: string): Promise<Claim | undefined> {
  let claim: Claim;
  try {
    claim = JSON.parse(await readFile(await fileOf(root, environment), 'utf8')) as Claim;
  } catch {
    return undefined;
  }
  return alive(claim.pid) ? claim : undefined;
}

export async function liveClaims(root: string): Promise<Claim[]> {
  const names = await readdir(await dirOf(root)).catch(() => [] as string[]);
  // <name>.json are claims; <name>.lock and dot files are the claims' own machinery.
  const claims = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => readClaim(root, n.slice(0, -5))));
  return claims.filter((c): c is Claim => c !== undefined);
}

async function writeClaim(root: string, claim: Claim): Promise<void> {
  const dir = await dirOf(root);
  const tmp = join(dir, `.${claim.environment}.${process.pid}.${Date.now()}`);
  await writeFile(tmp, `${JSON.stringify(claim)}\n`);
  await rename(tmp, join(dir, `${claim.environment}.json`)); // the claim appears whole
}

/**
 * Every read-then-write of a claim happens under the environment's lock
 * (`<name>.lock`, created exclusively, naming its pid), so two syncs can
 * neither both take over a dead holder's claim nor drop each other's.
 * A lock whose process is gone is taken over; it is held for milliseconds.
 */
async function withLock<T>(root: string, environment: string, fn: () => Promise<T>): Promise<T> {
  const dir = await dirOf(root);
  await mkdir(dir, { recursive: true });
  const lock = join(dir, `${environment}.lock`);
  for (let wait = 2, waited = 0; ; wait = Math.min(wait * 2, 50)) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
      if ((holder && !alive(holder)) || waited > 10_000) await rm(lock, { force: true });
      await new Promise((r) => setTimeout(r, wait));
      waited += wait;
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * Claims `revision` of an environment for this process. Refused (the live
 * holder returned) when another sync holds the same or a newer revision;
 * an older revision's claim is taken over, which tells its sync to stop.
 */
export async function claim(root: string, environment: string, revision: number): Promise<Claim | undefined> {
  return (await claimFor(root, environment, revision)).holder;
}

/**
 * As claim; with `force`, a live holder of the same revision loses it too
 * (its base was taken over, so its build of this one would only be
 * skipped). `tookOver`: the live claim this one replaced.
 */
export async function claimFor(root: string, environment: string, revision: number, force = false): Promise<{ holder?: Claim; tookOver?: Claim }> {
  return withLock(root, environment, async () => {
    const holder = await readClaim(root, environment);
    const other = holder && holder.pid !== process.pid ? holder : undefined;
    if (other && (other.revision > revision || (other.revision === revision && !force))) return { holder: other };
    await writeClaim(root, { environment, revision, status: 'queued', pid: process.pid, since: new Date().toISOString() });
    return other ? { tookOver: other } : {};
  });
}

export async function markBuilding(root: string, environment: string, revision: number): Promise<void> {
  await withLock(root, environment, async () => {
    const held = await readClaim(root, environment);
    if (held?.pid === process.pid && held.revision === revision) await writeClaim(root, { ...held, status: 'building', since: new Date().toISOString() });
  });
}

/** This process's claim has been taken (by a newer revision, or with its base): the claim that took it. */
export async function supersededBy(root: string, environment: string, revision: number): Promise<Claim | undefined> {
  const held = await readClaim(root, environment);
  return held && held.pid !== process.pid && held.revision >= revision ? held : undefined;
}

/** Drops this process's claim (never another's). */
export async function release(root: string, environment: string): Promise<void> {
  await withLock(root, environment, async () => {
    const held = await readClaim(root, environment);
    if (held?.pid === process.pid) await rm(await fileOf(root, environment), { force: true });
  });
}
