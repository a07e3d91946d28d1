/**
 * The library's one error family, in the spirit of isomorphic-git's errors
 * (a stable `code` and serialisable `data`) and renovate's ExternalHostError
 * (a failure that is another host's, named). Code that decides what to do
 * about a failure reads `kind` and `code`, never the message.
 *
 * - `input`: what the caller asked for or gave is wrong (a bad name, a dirty
 *   work tree, a malformed file that cannot be reported as a problem).
 * - `not-found`: a thing the caller named does not exist (an environment, a
 *   revision, a branch).
 * - `external`: another host or tool failed or refused (a registry, GitHub,
 *   git, a builder); `host` names it.
 * - `internal`: envctl itself is wrong; please report.
 *
 * The library never names a CLI flag: where an error is about one option of
 * the request, `data.option` names it (`against`, `revision`) and the CLI
 * says it as its flag.
 */
export type ErrorKind = 'input' | 'not-found' | 'external' | 'internal';

export interface ErrorDetails {
  /** What to do about it, in one line. */
  hint?: string;
  /** Plain, JSON-serialisable facts about the failure. */
  data?: Record<string, unknown>;
  /** For `external`: the host or tool that failed (`registry 127.0.0.1:5000`, `GitHub`). */
  host?: string;
  cause?: unknown;
}

export class EnvctlError extends Error {
  readonly hint: string | undefined;
  readonly data: Record<string, unknown>;
  readonly host: string | undefined;

  constructor(readonly kind: ErrorKind, readonly code: string, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = code;
    this.hint = details.hint;
    this.data = details.data ?? {};
    this.host = details.host;
  }

  toJSON(): { kind: ErrorKind; code: string; message: string; hint?: string; host?: string; data: Record<string, unknown> } {
    return {
      kind: this.kind, code: this.code, message: this.message, data: this.data,
      ...(this.hint ? { hint: this.hint } : {}), ...(this.host ? { host: this.host } : {}),
    };
  }
}

export const isEnvctlError = (err: unknown, kind?: ErrorKind): err is EnvctlError =>
  err instanceof EnvctlError && (kind === undefined || err.kind === kind);

/** The request was wrong: a bad value for one of its options (`data.option`) or arguments. */
export function inputError(code: string, message: string, details: ErrorDetails = {}): EnvctlError {
  return new EnvctlError('input', code, message, details);
}

/** Something the request named does not exist. */
export function notFound(code: string, message: string, details: ErrorDetails = {}): EnvctlError {
  return new EnvctlError('not-found', code, message, details);
}

/** Another host or tool failed or refused; `host` names it (`registry 127.0.0.1:5000`, `GitHub`, `buildah`). */
export function externalError(host: string, code: string, message: string, details: Omit<ErrorDetails, 'host'> = {}): EnvctlError {
  return new EnvctlError('external', code, message, { ...details, host });
}

/** The error's message as one line for people: an external error's host first (`registry 127.0.0.1:5000: not reachable`). */
export function errorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return err instanceof EnvctlError && err.host ? `${err.host}: ${message}` : message;
}
