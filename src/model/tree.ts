import type { Problem } from './problem.js';

/** One file of a repository tree, read from the work tree or from a git commit. */
/** envctl's local state folder, relative to the repository root: its name only. Paths under it come from store/paths.ts alone. */
export const STATE_DIR = '.envctl';

export interface SourceFile {
  /** Relative to the repository root, forward slashes. */
  path: string;
  bytes: Uint8Array;
  executable: boolean;
}

/**
 * The files under the environments folder at one point in time: plain data,
 * so the load, check and render stages never touch the disk or git.
 */
export interface Snapshot {
  files: SourceFile[];
  /** Problems met while reading (a symlink out of the folder, an unreadable file). */
  problems: Problem[];
}
