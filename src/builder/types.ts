/** What every builder is asked to do, and how it says it failed. */
export interface BuildRequest {
  contextDir: string;
  dockerfile: string;
  tag: string;
  /** `os/arch[/variant]`, as envctl.yaml's platform. */
  platform: string;
  noCache?: boolean;
  /** Pull and push over http (loopback registries). */
  insecure: boolean;
  /** The full log is appended here. */
  logFile: string;
  /** A containers auth.json (docker config.json has the same shape) holding the login for the push. */
  authFile?: string;
  /** Aborting stops the builder's process; the build ends in BuildCancelled. */
  signal?: AbortSignal;
}

export interface Builder {
  /** e.g. `buildah 1.28.2`, `docker buildx v0.12.1`: recorded with each build. */
  version: string;
  /** Builds and pushes; returns the pushed manifest's digest. */
  buildAndPush(req: BuildRequest): Promise<string>;
}

export class BuildFailed extends Error {
  constructor(message: string, readonly logTail: string, readonly stage: 'build' | 'push') {
    super(message);
  }
}

export class BuildCancelled extends Error {}

export class BuilderUnavailable extends Error {}
