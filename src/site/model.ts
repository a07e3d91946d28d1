/**
 * What the catalog site shows, as plain data gathered by
 * repository/site.ts from the head, the revision index, the ledger and the
 * projects. The site stage (src/site/) turns it into files; it does no I/O.
 */
import type { BuildStatus, FailureKind } from '../ledger/model.js';
import type { ConsumerKind } from '../model/project.js';
import type { InstalledPackage, PackageCounts } from '../packages/index.js';
import type { ClusterType, Visibility, WorkspaceTool } from '../model/spec.js';

export interface SiteData {
  /** Repository title shown in the header (the folder or repository name). */
  title: string;
  generatedAt: string;
  /** e.g. https://github.com/acme/environments; commit links are `${source}/commit/<sha>` when set. */
  source?: string;
  environments: SiteEnvironment[];
}

export interface SiteEnvironment {
  name: string;
  title: string;
  description: string;
  owner: string;
  visibility: Visibility;
  archived: boolean;
  /** `default`, an image reference, or another environment (linked) with its revision choice. */
  base: { kind: 'default'; image: string } | { kind: 'image'; image: string } | { kind: 'environment'; environment: string; revision: number | 'active' };
  clusterTypes: ClusterType[];
  workspaceTools: Record<string, WorkspaceTool>;
  /** Secret variables carry no value. */
  variables: ({ name: string; value: string } | { name: string; secret: true })[];
  dockerArguments: string[];
  activeRevision: number | null;
  latestRevision: number | null;
  /** Newest first. */
  revisions: SiteRevision[];
  users: { kind: ConsumerKind; name: string; revision: number | 'active'; file: string }[];
  /** The rendered Dockerfiles of the active and the latest revision, and the unified diff between them ('' when the same). */
  dockerfiles: { active?: string; latest?: string; diff: string };
  /** Time of the latest revision's commit (ISO). */
  lastChange: string | null;
  /** Whether the spec (at the head) has image tests: only then does a succeeded build mean "tests passed". */
  tests?: boolean;
}

/**
 * Why an attempt did not succeed. `test` (its image tests failed) is a
 * failure kind the ledger is gaining; named here as well so the site reads
 * it whether or not the ledger's FailureKind has it yet.
 */
export type SiteFailure = FailureKind | 'test';

export interface SiteRevision {
  number: number;
  summary: string;
  author: string;
  date: string;
  commit: string;
  contentKey: string | null;
  /** The latest build attempt of the revision; null when never built. */
  build: null | {
    status: BuildStatus;
    startedAt: string;
    endedAt?: string;
    durationSeconds?: number;
    /** `<image>@<digest>` when pushed. */
    imageReference?: string;
    /** Compressed bytes of the image's layers, when known. */
    sizeBytes?: number;
    /** The copied log, relative to the site root (logs/…), when kept. */
    logHref?: string;
    reason?: string;
    /** Why it did not succeed, as data (the ledger's failure.kind): what the page says and marks, never the reason's words. */
    failure?: SiteFailure;
    reusedFrom?: number;
  };
  active: boolean;
  /**
   * What the revision's image holds, when it was read (from the image or its
   * SBOM, by whoever gathers the data). Every name and version comes from
   * whoever wrote the image: the pages escape them like any other text.
   */
  packages?: InstalledPackage[];
  /** Packages per ecosystem as the ledger's build record notes them, for a revision whose list was not read. */
  packageCounts?: PackageCounts;
}
