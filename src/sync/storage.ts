/**
 * A sync's care of buildah's local storage: the driver chosen once, the
 * containers a killed sync left removed before building, the disk used
 * measured after each build (peak and end), and with `prune` (CI) each
 * image removed once pushed, unless the rest of its group builds on it,
 * and the pulled cache and intermediate layers removed at the end.
 */
import { containerIds, pruneRepositories, removeContainers, removeImages, storageUsed } from '../builder/local.js';
import { resolveStorage, type StorageDriver } from '../builder/storage.js';
import type { Config } from '../model/config.js';
import { buildNotes, leftBy, noteBuildEnd, noteBuildStart } from '../store/leftovers.js';

export interface StorageReport {
  driver: StorageDriver;
  /** Why this driver: the setting, or what the probe found. */
  why: string;
  /** Bytes under buildah's storage root after the sync, and the most measured after any build (a build's own peak, while a step's changes are committed, is higher). */
  usedBytes?: number;
  peakBytes?: number;
  /** Working containers a killed sync had left, removed. */
  removedContainers: number;
  /** The pulled cache and unnamed layers were removed at the end (prune, and no other sync building here). */
  pruned: boolean;
}

export class LocalStorage {
  private peak = 0;
  /** Bytes used as last measured, and whether anything has changed since (a prune). */
  private last: number | undefined;
  removedContainers = 0;
  /** Builds of this sync running now (--jobs), and pushed images waiting for them to end before removal. */
  private inFlight = 0;
  private readonly deferred: string[] = [];

  private constructor(readonly root: string, readonly driver: StorageDriver, readonly why: string, readonly prune: boolean) {}

  static async open(root: string, config: Config, prune: boolean): Promise<LocalStorage> {
    const { driver, why } = await resolveStorage(config.storage);
    return new LocalStorage(root, driver, why, prune);
  }

  /** Removes what builds of dead syncs left, when no build on this machine is running to own a container. */
  async removeLeftovers(): Promise<void> {
    const { live, dead } = await buildNotes(this.root);
    if (dead.length === 0 || live.length > 0) return;
    for (const driver of new Set(dead.map((n) => n.driver))) {
      const notes = dead.filter((n) => n.driver === driver);
      this.removedContainers += (await removeContainers(driver, leftBy(notes, await containerIds(driver)))).length;
    }
    await Promise.all(dead.map((n) => noteBuildEnd(this.root, n.environment)));
  }

  /** Around one build: the note a later sync needs if this one is killed. */
  async building<T>(environment: string, build: () => Promise<T>): Promise<T> {
    await noteBuildStart(this.root, { environment, driver: this.driver, before: await containerIds(this.driver) });
    this.inFlight++;
    try {
      return await build();
    } finally {
      this.inFlight--;
      await noteBuildEnd(this.root, environment);
      if (this.inFlight === 0 && this.deferred.length > 0) await this.remove(this.deferred.splice(0));
      await this.measure();
    }
  }

  /** After a pushed build, when pruning and nothing left in its group builds on it. */
  async pushed(image: string, neededLater: boolean): Promise<void> {
    if (!this.prune || neededLater) return;
    // Removing an image removes its unnamed parents (the cached steps) too, and another group building now
    // (--jobs) may be standing on one of them, the same step on the same base: wait until none is building.
    if (this.inFlight > 0) this.deferred.push(image);
    else await this.remove([image]);
  }

  private async remove(images: string[]): Promise<void> {
    await removeImages(this.driver, images);
    this.last = undefined;
  }

  async report(repositories: string[]): Promise<StorageReport> {
    // The sweep removes unnamed layers of every build in this storage: never while another sync on this
    // machine is building (its base, pulled by digest, has no name either); that sync sweeps when it ends.
    if (this.deferred.length > 0) await this.remove(this.deferred.splice(0));
    const swept = this.prune && (await buildNotes(this.root)).live.every((n) => n.pid === process.pid);
    if (swept) await pruneRepositories(this.driver, repositories);
    // Measured after the last build already, unless pruning has changed it since (or nothing was built).
    const used = swept || this.last === undefined ? await this.measure() : this.last;
    return {
      driver: this.driver, why: this.why, removedContainers: this.removedContainers, pruned: swept,
      ...(used !== undefined ? { usedBytes: used } : {}), ...(this.peak > 0 ? { peakBytes: this.peak } : {}),
    };
  }

  private async measure(): Promise<number | undefined> {
    const used = await storageUsed(this.driver);
    if (used !== undefined) this.peak = Math.max(this.peak, used);
    this.last = used;
    return used;
  }
}
