/** What a walk over a branch's history yields: commits and the environments each changed (git/history.ts reads them, revisions/ numbers them). */

export interface CommitInfo {
  oid: string;
  subject: string;
  author: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
  /** Parent ids (more than one for a merge; only the first counts). */
  parents: string[];
  /** The commit's root tree. */
  tree: string;
}

/** An environment's files at a commit: the YAML blob (file form) or the folder's tree. */
export interface EnvironmentEntry {
  oid: string;
  form: 'file' | 'folder';
}

export interface EnvironmentChange {
  name: string;
  /** Its entry after the commit; null when the commit deleted it. */
  entry: EnvironmentEntry | null;
  /** The environment was not there before this commit. */
  added?: true;
}

export interface HistoryStep {
  commit: CommitInfo;
  changes: EnvironmentChange[];
}

