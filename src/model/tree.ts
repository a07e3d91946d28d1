import type { Problem } from './problem.js';

/** One file of a repository tree, read from the work tree or from a git commit. */
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
