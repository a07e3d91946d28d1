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
  /** Files of the shared folders (`context:`), paths from the repository root; kept apart from `context` so no path of one can pass for the other. */
  shared?: SourceFile[];
  /** Resolved base image reference (a digest once the ledger knows it). */
  base: string;
  platform: string;
  /**
   * Build secrets' ids and the variables they are read from; never their
   * values (a rotated token builds nothing). Hashed only when there are any,
   * so keys of environments without secrets stay as they were.
   */
  secrets?: { id: string; env: string }[];
  /** `buildArgs`: their values reach the build through --build-arg, not the Dockerfile. */
  buildArgs?: Record<string, string>;
}

/** Bumped whenever what a key hashes changes, so remembered keys are not reused across versions. */
export const KEY_VERSION = 1;

export function contentKey(input: KeyInput): string {
  const context = keyed(input.context);
  const shared = keyed((input.shared ?? []).map((file) => ({ path: file.path, file })));
  // Secrets by id and variable name, never by value: a rotated token rebuilds nothing.
  const secrets = [...(input.secrets ?? [])].map(({ id, env }) => ({ id, env })).sort((a, b) => byCodeUnits(a.id, b.id));
  const args = Object.entries(input.buildArgs ?? {}).sort(([a], [b]) => byCodeUnits(a, b));
  // Only an environment that shares folders, declares secrets or gives build arguments hashes those fields:
  // every other key stays as it was.
  const canonical = JSON.stringify({
    v: KEY_VERSION, platform: input.platform, base: input.base, dockerfile: input.dockerfile, context,
    ...(shared.length > 0 ? { shared } : {}),
    ...(secrets.length > 0 ? { secrets } : {}),
    ...(args.length > 0 ? { buildArgs: args } : {}),
  });
  return `sha256:${sha256(canonical)}`;
}

function keyed(files: { path: string; file: SourceFile }[]): { path: string; executable: boolean; sha256: string }[] {
  return files
    .map(({ path, file }) => ({ path, executable: file.executable, sha256: sha256(file.bytes) }))
    .sort((a, b) => byCodeUnits(a.path, b.path));
}

/** Plain code-unit order, never the locale's: a key must be the same on every machine. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function shortKey(key: string): string {
  return key.replace(/^sha256:/, '').slice(0, 12);
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
