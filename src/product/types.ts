/**
 * What the hosted product's API says about environments, as plain data: the
 * client (hosted/) reads and shape-checks the responses into these, the
 * mapping (map.ts) turns them into environment files. Every string in here
 * came from another host and may be hostile; ids alone are checked strictly
 * (hosted/ refuses a response whose ids are not PRODUCT_ID).
 */

/** Product ids as the client accepts them: letters, digits, `.`, `_`, `-`. */
export const PRODUCT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export type ProductVisibility = 'private' | 'organization' | 'global';

/** One environment as its detail route gives it (its current metadata: the product keeps no history of these). */
export interface ProductEnvironment {
  id: string;
  /** The display name, e.g. "Python 3.10 (data science)". */
  name: string;
  description?: string;
  visibility?: ProductVisibility;
  archived: boolean;
  /** The owner's user or organization name. */
  owner?: string;
  /** Cluster types as the product names them (Spark, Ray, Dask, MPI). */
  clusterTypes?: string[];
}

/** One entry of an environment's revision list. */
export interface ProductRevisionRef {
  id: string;
  /** 1, 2, 3 … per environment, as the product numbers them. */
  number: number;
}

export type ProductBase =
  | { kind: 'default' }
  | { kind: 'image'; image: string }
  | { kind: 'environment'; environmentId: string; revisionId: string };

export interface ProductVariable {
  name: string;
  /** Never set for a secret: the client drops secret values as it reads them. */
  value?: string;
  secret: boolean;
}

export interface ProductAuthor {
  /** Display name, else the user name. */
  name: string;
  username: string;
  email?: string;
}

/** A revision's definition (the revision route), without the source archive. */
export interface ProductRevision {
  id: string;
  number: number;
  environmentId: string;
  /** Milliseconds since the epoch. */
  created: number;
  author: ProductAuthor;
  summary: string;
  base: ProductBase;
  instructions?: string;
  /** The workspace tools as the product gives them: its YAML "properties" text, or already a map or list. */
  workspaceTools?: unknown;
  scripts: { preSetup?: string; postSetup?: string; preRun?: string; postRun?: string };
  variables: ProductVariable[];
  dockerArguments: string[];
  username?: string;
  vpn?: boolean;
  noCache?: boolean;
  clusterTypes?: string[];
  description?: string;
}

/** One file of a revision's source archive, its path relative to the archive root. */
export interface ArchiveFile {
  path: string;
  bytes: Uint8Array;
  executable: boolean;
}

/**
 * A revision as read: its definition and its source archive's files
 * (undefined when the product has no archive for it), or why it could not
 * be read (a gap: the revision still gets its number, see map.ts gapFiles).
 */
export type ReadRevision =
  | { ok: true; ref: ProductRevisionRef; revision: ProductRevision; archive?: ArchiveFile[] }
  | { ok: false; ref: ProductRevisionRef; reason: string };
