/**
 * buildah's local storage, as a sync looks after it: the working containers
 * a killed build left, the images a CI sync no longer needs once pushed, and
 * how much disk it all takes. A hosted runner has about 14 GB free; three
 * data-science images and their layer cache fill that.
 */
import { execa } from 'execa';
import { graphRoot, storageArgs, type StorageDriver } from './storage.js';

const buildah = (driver: StorageDriver, args: string[]) => execa('buildah', [...storageArgs(driver), ...args], { reject: false });

/** Ids of every working container in local storage. */
export async function containerIds(driver: StorageDriver): Promise<string[]> {
  const result = await buildah(driver, ['containers', '--quiet', '--notruncate']);
  return result.exitCode === 0 ? String(result.stdout).split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

export async function removeContainers(driver: StorageDriver, ids: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const id of ids) if ((await buildah(driver, ['rm', id])).exitCode === 0) removed.push(id);
  return removed;
}

interface LocalImage { id: string; names: string[] }

async function images(driver: StorageDriver): Promise<LocalImage[]> {
  const result = await buildah(driver, ['images', '--all', '--json']);
  if (result.exitCode !== 0 || !String(result.stdout).trim()) return [];
  const list = JSON.parse(String(result.stdout)) as { id: string; names?: string[] | null }[];
  return list.map((i) => ({ id: i.id, names: i.names ?? [] }));
}

/**
 * Untags the given images (repository:tag) and removes what is left
 * unnamed; images still used by a container or by another name stay.
 */
export async function removeImages(driver: StorageDriver, refs: string[]): Promise<void> {
  for (const ref of refs) await buildah(driver, ['rmi', ref]);
}

/**
 * Removes every local image named in one of `repositories` (pulled cache
 * layers, built tags), then the unnamed intermediate layers a `--layers`
 * build keeps: the registry cache holds them now.
 */
export async function pruneRepositories(driver: StorageDriver, repositories: string[]): Promise<void> {
  const inRepo = (name: string) => repositories.some((r) => name.startsWith(`${r}:`) || name.startsWith(`${r}@`));
  const names = (await images(driver)).flatMap((i) => i.names.filter(inRepo));
  await removeImages(driver, names);
  await buildah(driver, ['rmi', '--prune']);
}

/** Bytes under buildah's storage root for this driver (du, one file system), or undefined when it cannot be measured. */
export async function storageUsed(driver: StorageDriver): Promise<number | undefined> {
  const dir = await graphRoot(driver);
  if (!dir) return undefined;
  const result = await execa('du', ['-skx', dir], { reject: false });
  const kib = Number(String(result.stdout).split(/\s/)[0]);
  // du exits 1 when it could not read some folder, still printing the total of the rest.
  return Number.isFinite(kib) && kib > 0 ? kib * 1024 : undefined;
}
