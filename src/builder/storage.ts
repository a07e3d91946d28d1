/**
 * buildah's storage driver and where it keeps its data. overlay shares
 * unchanged files between layers (measured here: the python image in 55 s
 * and 1.4 GB, against 112 s and 4.1 GB on vfs); vfs copies every layer but
 * works anywhere. `auto` asks buildah itself to start the overlay driver,
 * which makes a test mount (native as root; native or fuse-overlayfs in a
 * user namespace), and falls back to vfs with the reason. Probed once per
 * process: every buildah call in it then names the same driver, since one
 * storage root holds each driver's images apart.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import type { Config } from '../model/config.js';

export type StorageDriver = 'overlay' | 'vfs';

export interface Storage {
  driver: StorageDriver;
  /** Why this driver: the setting, or what the probe found. */
  why: string;
}

const probed = new Map<string, Promise<Storage>>();

/** The driver for `choice`; `auto` probes (once per process and storage configuration). */
export function resolveStorage(choice: Config['storage']): Promise<Storage> {
  if (choice !== 'auto') return Promise.resolve({ driver: choice, why: `storage: ${choice} in envctl.yaml` });
  const key = `${process.env.CONTAINERS_STORAGE_CONF ?? ''}\0${process.env.HOME ?? ''}`;
  let found = probed.get(key);
  if (!found) {
    found = probeOverlay();
    probed.set(key, found);
  }
  return found;
}

/** `--storage-driver …` (and fuse-overlayfs where a rootless overlay needs it), before the buildah subcommand. */
export function storageArgs(driver: StorageDriver): string[] {
  return ['--storage-driver', driver, ...(driver === 'overlay' && needsMountProgram() ? ['--storage-opt', 'overlay.mount_program=/usr/bin/fuse-overlayfs'] : [])];
}

/**
 * Rootless overlay mounts natively on Linux 5.13 and later; before that it
 * needs fuse-overlayfs. As root the kernel always mounts it.
 */
function needsMountProgram(): boolean {
  if (process.getuid?.() === 0) return false;
  const [major = 0, minor = 0] = /^(\d+)\.(\d+)/.exec(release())?.slice(1).map(Number) ?? [];
  return (major < 5 || (major === 5 && minor < 13)) && existsSync('/usr/bin/fuse-overlayfs');
}

async function probeOverlay(): Promise<Storage> {
  const result = await execa('buildah', [...storageArgs('overlay'), 'info', '--format', '{{.store.GraphDriverName}}'], { reject: false, all: true });
  if (result.exitCode === 0 && String(result.stdout).trim() === 'overlay') return { driver: 'overlay', why: 'storage: auto, overlay mounts work here' };
  const said = String(result.all ?? '').trim().split('\n').filter(Boolean).pop() ?? result.shortMessage;
  return { driver: 'vfs', why: `storage: auto, overlay does not mount here (${said}); vfs copies every layer` };
}

const roots = new Map<string, Promise<string | undefined>>();

/** Where buildah keeps images for this driver (`buildah info`, asked once per process and storage configuration), for the storage report. */
export function graphRoot(driver: StorageDriver): Promise<string | undefined> {
  const key = `${driver}\0${process.env.CONTAINERS_STORAGE_CONF ?? ''}\0${process.env.HOME ?? ''}`;
  let root = roots.get(key);
  if (!root) {
    root = execa('buildah', [...storageArgs(driver), 'info', '--format', '{{.store.GraphRoot}}'], { reject: false })
      .then((result) => (result.exitCode === 0 ? String(result.stdout).trim() || undefined : undefined));
    roots.set(key, root);
  }
  return root;
}
