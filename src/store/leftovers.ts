/**
 * What a build found in buildah's local storage before it started, one note
 * per environment under `.envctl/leftovers/` while the build runs. A sync
 * that is killed mid-build leaves its working containers behind (buildah's
 * --force-rm only covers builds that end); the next sync sees the note of a
 * dead process and removes the containers that appeared after that build
 * started, when no other build on this machine is running to own them.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { alive } from './claims.js';
import { statePaths } from './paths.js';

export interface BuildNote {
  environment: string;
  pid: number;
  /** The storage driver the build used: whose containers to look at. */
  driver: 'overlay' | 'vfs';
  /** Working containers in that storage before the build started. */
  before: string[];
}

export async function noteBuildStart(root: string, note: Omit<BuildNote, 'pid'>): Promise<void> {
  await mkdir(await statePaths.leftovers(root), { recursive: true });
  await writeFile(await statePaths.leftoverNote(root, note.environment), `${JSON.stringify({ ...note, pid: process.pid })}\n`);
}

export async function noteBuildEnd(root: string, environment: string): Promise<void> {
  await rm(await statePaths.leftoverNote(root, environment), { force: true });
}

/** Every note, split by whether its build's process still runs. */
export async function buildNotes(root: string): Promise<{ live: BuildNote[]; dead: BuildNote[] }> {
  const dir = await statePaths.leftovers(root);
  const names = await readdir(dir).catch(() => [] as string[]);
  const live: BuildNote[] = [];
  const dead: BuildNote[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    let note: BuildNote;
    try {
      note = JSON.parse(await readFile(join(dir, name), 'utf8')) as BuildNote;
    } catch {
      await rm(join(dir, name), { force: true }); // half-written by a killed sync
      continue;
    }
    if (!Array.isArray(note.before) || (note.driver !== 'overlay' && note.driver !== 'vfs')) continue;
    (note.pid !== process.pid && !alive(note.pid) ? dead : live).push(note);
  }
  return { live, dead };
}

/** Containers that appeared after a dead build started: any not in every dead note's `before`. */
export function leftBy(dead: BuildNote[], now: string[]): string[] {
  return now.filter((id) => dead.some((n) => !n.before.includes(id)));
}
