/** What sync takes, reports and returns, and what one build step is given. */
import type { BuildRecord, BuildStatus } from '../ledger/model.js';
import type { PublishReport } from './publish.js';
import type { BuildResult } from '../ledger/results.js';
import type { Config } from '../model/config.js';
import type { RegistryAccess } from '../registry/client.js';
import type { HeadPlan } from '../repository/plan.js';
import type { MissingImage } from './bases.js';
import type { LocalStorage, StorageReport } from './storage.js';

export interface SyncEvent {
  environment: string;
  revision: number;
  /** Where the step is: what a terminal shows per environment. */
  state: 'queued' | 'building' | 'reusing' | 'left' | BuildStatus;
  message: string;
}

export interface SyncResult {
  /** The branch head planned from. */
  head: string | null;
  /** In plan order, with the environment each belongs to. */
  builds: BuildResult[];
  records: BuildRecord[];
  /** The ledger commit, when anything was recorded. */
  ledgerCommit?: string;
  failed: number;
  /** Left to another sync already building the same revision. */
  left: string[];
  /** What the user should know about how this sync ran (chroot isolation). */
  warnings: string[];
  /** Base images the registry lacks: their builds were neither attempted nor recorded. */
  missingImages: MissingImage[];
  /** buildah's local storage: the driver, the disk used, what was cleaned. */
  storage?: StorageReport;
  /** With `publish:` in envctl.yaml: what was published to the hosted product (sync/publish.ts). */
  published?: PublishReport;
}

export interface SyncOptions {
  /** Independent groups (an environment and those built on it) built at once. */
  jobs?: number;
  progress?: (e: SyncEvent) => void;
  /** How often a running build checks whether a newer revision superseded it. */
  supersedePollMs?: number;
  /** Build only these environments' plan groups (a CI matrix job); every group when unset. */
  only?: string[];
  /** False: return the records without writing the ledger (a final job records them: `envctl record`). */
  record?: boolean;
  /** Where publishing's token is read (publish.tokenEnv); process.env when unset. */
  env?: NodeJS.ProcessEnv;
  /** Remove local images once pushed, and the pulled cache at the end (CI runners with little disk). */
  prune?: boolean;
  /** How `envctl base` output reaches the user when sync makes the default base. */
  log?: (line: string) => void;
}

export interface StepContext {
  root: string;
  config: Config;
  plan: HeadPlan;
  /** Records finished so far in this sync, by environment. */
  done: Map<string, BuildRecord>;
  progress: (e: SyncEvent) => void;
  access: RegistryAccess;
  /** buildah's local storage for this sync (driver chosen once); absent for docker buildx. */
  local?: LocalStorage;
  /** Something the user should know that fails nothing (an SBOM that could not be made): one line, said at the end. */
  warn?: (line: string) => void;
}

