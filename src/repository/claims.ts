/**
 * Which sync is building what, right now, on this machine: one claim file
 * per environment under `.envctl/sync/`, naming the revision, its state
 * (`queued` or `building`) and the sync's pid. The ledger only records
 * finished builds (one commit per sync); claims are how `status` shows a
 * build in progress, how a second sync leaves a revision to the one
 * already building it, and how a newer revision supersedes an older build
 * (the older sync sees its claim taken and stops, recording `cancelled`).
 * A claim whose process is gone (killed) counts for nothing.
 */
import { link, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Claim {
  environment: string;
  revision: number;
  status: 'queued' | 'building';
  pid: number;
  since: string;
}

const dirOf = (root: string) => join(root, '.envctl', 'sync');
const fileOf = (root: string, environment: string) => join(dirOf(root), `${environment}.json`);

function alive(pid: number): boolean {
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
    claim = JSON.parse(await readFile(fileOf(root, environment), 'utf8')) as Claim;
  } catch {
    return undefined;
  }
  return alive(claim.pid) ? claim : undefined;
}

export async function liveClaims(root: string): Promise<Claim[]> {
  const names = await readdir(dirOf(root)).catch(() => [] as string[]);
  const claims = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => readClaim(root, n.slice(0, -5))));
  return claims.filter((c): c is Claim => c !== undefined);
}

async function writeClaim(root: string, claim: Claim, exclusive: boolean): Promise<boolean> {
  await mkdir(dirOf(root), { recursive: true });
  const tmp = join(dirOf(root), `.${claim.environment}.${process.pid}.${Date.now()}`);
  await writeFile(tmp, `${JSON.stringify(claim)}\n`);
  try {
    // link() refuses an existing name atomically, and the claim appears whole.
    if (exclusive) await link(tmp, fileOf(root, claim.environment));
    else await rename(tmp, fileOf(root, claim.environment));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Claims `revision` of an environment for this process. Refused (the live
 * holder returned) when another sync holds the same or a newer revision;
 * an older revision's claim is taken over, which tells its sync to stop.
 */
export async function claim(root: string, environment: string, revision: number): Promise<Claim | undefined> {
  const mine: Claim = { environment, revision, status: 'queued', pid: process.pid, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await writeClaim(root, mine, true)) return undefined;
    const holder = await readClaim(root, environment);
    if (holder && holder.pid !== process.pid && holder.revision >= revision) return holder;
    if (!holder) await rm(fileOf(root, environment), { force: true });
    else {
      await writeClaim(root, mine, false);
      return undefined;
    }
  }
  throw new Error(`could not claim ${environment} in ${dirOf(root)}: it keeps changing`);
}

export async function markBuilding(root: string, environment: string, revision: number): Promise<void> {
  const held = await readClaim(root, environment);
  if (held?.pid === process.pid && held.revision === revision) await writeClaim(root, { ...held, status: 'building', since: new Date().toISOString() }, false);
}

/** This process's claim has been taken by a newer revision: the one that took it. */
export async function supersededBy(root: string, environment: string, revision: number): Promise<Claim | undefined> {
  const held = await readClaim(root, environment);
  return held && held.pid !== process.pid && held.revision > revision ? held : undefined;
}

/** Drops this process's claim (never another's). */
export async function release(root: string, environment: string): Promise<void> {
  const held = await readClaim(root, environment);
  if (held?.pid === process.pid) await rm(fileOf(root, environment), { force: true });
}
