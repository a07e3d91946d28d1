/** What every builder is asked to do, and how it says it failed. */
import { EnvctlError } from '../model/errors.js';

export interface BuildRequest {
  contextDir: string;
  dockerfile: string;
  tag: string;
  /** `os/arch[/variant]`, as envctl.yaml's platform. */
  platform: string;
  noCache?: boolean;
  /** `--build-arg NAME=VALUE` each, as argv items (names are `[A-Za-z_][A-Za-z0-9_]*`, so none reads as an option). */
  buildArgs?: Record<string, string>;
  /** How RUN steps are isolated (buildah); buildx always runs them in containers. Default oci. */
  isolation?: 'oci' | 'chroot';
  /** buildah's storage driver, already chosen (see storage.ts). */
  storage?: 'overlay' | 'vfs';
  /**
   * Layer cache repositories (no tag): read in this order, the first the
   * environment's own, then its bases'. Empty: no registry cache.
   */
  cacheFrom?: string[];
  /** Where this build's layers are pushed as cache. */
  cacheTo?: string;
  /** docker buildx: a named builder (`--builder`). */
  buildxBuilder?: string;
  /** Pull and push over http (loopback registries). */
  insecure: boolean;
  /** The full log is appended here. */
  logFile: string;
  /** A containers auth.json (docker config.json has the same shape) holding the login for the push. */
  authFile?: string;
  /** Build secrets (RUN --mount=type=secret,id=ID): each read from envctl's variable `env` at build time and passed as a file (secrets.ts). */
  secrets?: { id: string; env: string }[];
  /**
   * Where the image goes instead of the registry, as a containers transport
   * (`oci:DIR:TAG`, an OCI image layout): a review build's image, which is
   * never pushed. buildah only.
   */
  destination?: string;
  /** Aborting stops the builder's process; the build ends in BuildCancelled. */
  signal?: AbortSignal;
}

export interface Builder {
  /** buildah keeps images in local storage, which sync looks after (sync/storage.ts); docker buildx keeps its own. */
  kind?: 'buildah' | 'docker';
  /** e.g. `buildah 1.28.2`, `docker buildx v0.12.1`: recorded with each build. */
  version: string;
  /** Builds and pushes; returns the pushed manifest's digest. */
  buildAndPush(req: BuildRequest): Promise<string>;
}

/** `--build-arg NAME=VALUE` for each build argument, sorted; both builders take the same form (docker buildx: a NAME without `=` would read the builder's environment, so `=` is always written). */
export function buildArgArgs(req: BuildRequest): string[] {
  return Object.keys(req.buildArgs ?? {}).sort().flatMap((name) => ['--build-arg', `${name}=${req.buildArgs![name]}`]);
}

/**
 * A build or push failed (external; `host` is the tool, `buildah` or
 * `docker`). Whose trouble it was is decided here, once, from the stage and
 * the log: `trouble: 'registry'` for a push, or a build whose log says the
 * registry (pulling the base) failed; `'build'` when the Dockerfile's steps
 * failed. Codes `build-registry-trouble` and `build-failed`.
 */
export class BuildFailed extends EnvctlError {
  readonly trouble: 'build' | 'registry';

  constructor(tool: string, message: string, readonly logTail: string, readonly stage: 'build' | 'push') {
    const trouble = stage === 'push' || REGISTRY_TROUBLE.test(logTail) ? 'registry' : 'build';
    super('external', trouble === 'registry' ? 'build-registry-trouble' : 'build-failed', message, { host: tool, data: { stage, trouble } });
    this.trouble = trouble;
  }
}

/**
 * A build that failed pulling its base, or (docker buildx) pushing, fails in
 * the build stage; these words in its log tail say the registry, not the
 * Dockerfile, was the trouble, so the next sync tries again.
 */
export const REGISTRY_TROUBLE = /pinging container registry|initializing source docker:|error pulling image|failed to push|failed to do request|connection refused|i\/o timeout|TLS handshake timeout|unexpected status from (HEAD|GET|PUT|POST) request|\b(401 Unauthorized|403 Forbidden|502 Bad Gateway|503 Service Unavailable)\b/i;

/** A build stopped on request (a newer revision superseded it, another sync took it over): code `build-cancelled`. */
export class BuildCancelled extends EnvctlError {
  constructor(message: string, host = 'envctl sync') {
    super('external', 'build-cancelled', message, { host });
  }
}

/** No builder (or container engine) can run here (external, host `builder`, code `builder-missing` or `container-start-failed`). */
export class BuilderUnavailable extends EnvctlError {
  constructor(message: string, code = 'builder-missing') {
    super('external', code, message, { host: 'builder' });
  }
}
