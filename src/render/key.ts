/**
 * The content key: a hash of everything that decides the image's bytes.
 * Equal keys, same image; so a `git revert` needs no build.
 */
import { createHash } from 'node:crypto';
import type { SourceFile } from '../model/tree.js';

export interface KeyInput {
  /** The build part of the Dockerfile (no revision labels, no time). */
  dockerfile: string;
  /** Build-context files, paths relative to the environment folder. */
  context: { path: string; file: SourceFile }[];
  /** Resolved base image reference (a digest once the ledger knows it). */
  base: string;
  platform: string;
  /** `buildArgs`: their values reach the build through --build-arg, not the Dockerfile. */
  buildArgs?: Record<string, string>;
}

/** Bumped whenever what a key hashes changes, so remembered keys are not reused across versions. */
export const KEY_VERSION = 1;

export function contentKey(input: KeyInput): string {
  const context = input.context
    .map(({ path, file }) => ({ path, executable: file.executable, sha256: sha256(file.bytes) }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const args = Object.entries(input.buildArgs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Only when given, so every key from before build arguments stays as it was.
  const canonical = JSON.stringify({ v: KEY_VERSION, platform: input.platform, base: input.base, dockerfile: input.dockerfile, context, ...(args.length ? { buildArgs: args } : {}) });
  return `sha256:${sha256(canonical)}`;
}

export function shortKey(key: string): string {
  return key.replace(/^sha256:/, '').slice(0, 12);
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
