/**
 * The GitHub REST client: one Octokit with the retry and throttling plugins,
 * configured from options or the variables GitHub Actions sets
 * (GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY), and failures turned into
 * a GitHubError that says in words what to fix.
 */
import { Octokit } from '@octokit/rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck';
import { EnvctlError, inputError } from '../model/errors.js';

// Typed as the plain Octokit: the plugins add only options (declared globally by them), no methods we use.
const PluggedOctokit: typeof Octokit = Octokit.plugin(retry, throttling);
export type GitHubOctokit = Octokit;

/** A fine-grained permission as written under `permissions:` in a workflow. */
export type Permission =
  | 'issues: read' | 'issues: write'
  | 'pull-requests: read' | 'pull-requests: write'
  | 'statuses: write' | 'deployments: write';

export const DEFAULT_API_URL = 'https://api.github.com';

/**
 * A GitHub call (or its configuration) failed: external, host `GitHub`;
 * `hint` says what to do about it, `status` is GitHub's answer when there
 * was one. Codes: `github-token-missing`, `github-repository-missing`,
 * `github-repository-invalid`, `github-url-invalid`, `github-unreachable`,
 * `github-bad-token`, `github-rate-limited`, `github-permission`,
 * `github-not-found`, `github-server-error`, `github-refused`,
 * `github-id-too-large`, `github-image-undigested`,
 * `github-deployment-not-created`, `github-head-moved`.
 */
export class GitHubError extends EnvctlError {
  readonly status: number | undefined;
  declare readonly hint: string;

  constructor(code: string, message: string, hint: string, status?: number, options?: { cause?: unknown }) {
    super('external', code, message, { host: 'GitHub', hint, ...(status !== undefined ? { data: { status } } : {}), ...(options?.cause !== undefined ? { cause: options.cause } : {}) });
    this.status = status;
  }
}

export interface GitHubClientOptions {
  token?: string;
  /** REST root; on GitHub Enterprise Server `https://host/api/v3`. */
  baseUrl?: string;
  /** `owner/name`. */
  repository?: string;
  /** retries for 5xx and for rate-limit answers; baseDelayMs scales every wait (1000 = GitHub's seconds). */
  retry?: { retries?: number; baseDelayMs?: number };
  /**
   * Minimum gap between writes. Unset keeps the throttling plugin's pacing
   * (1 s between writes, 3 s between notifying ones such as comments), which
   * GitHub asks for to avoid secondary rate limits; tests pass 0.
   */
  writeIntervalMs?: number;
  /** Rate-limit waits and failed requests are reported here; nothing goes to the console. */
  log?: (message: string) => void;
  env?: Record<string, string | undefined>;
}

export interface GitHubClient {
  readonly octokit: GitHubOctokit;
  readonly owner: string;
  readonly repo: string;
  /** `owner/name` */
  readonly repository: string;
  readonly baseUrl: string;
  /**
   * Runs one GitHub call. A failure becomes a GitHubError naming `what` was
   * attempted and, on a 403, the permission the call site needs.
   */
  call<T>(what: string, permission: Permission | Permission[], fn: (octokit: GitHubOctokit) => Promise<T>): Promise<T>;
  /** Whom the token writes as (learnIdentity below); asked once per client. */
  identity(): Promise<TokenIdentity | undefined>;
}

/** The login comments made with the token carry, and how envctl learned it. */
export interface TokenIdentity {
  login: string;
  source: 'ENVCTL_GITHUB_LOGIN' | 'GET /user' | 'GITHUB_ACTIONS';
}

/** The GITHUB_TOKEN's author on github.com and GHES: docs.github.com, "Automatic token authentication". */
export const ACTIONS_BOT = 'github-actions[bot]';

export function githubClient(opts: GitHubClientOptions = {}): GitHubClient {
  const env = opts.env ?? process.env;
  const token = opts.token || env.GITHUB_TOKEN;
  if (!token) {
    throw new GitHubError('github-token-missing', 'no GitHub token: set GITHUB_TOKEN or pass a token',
      'in a workflow step add `env: { GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }} }`');
  }
  const repository = opts.repository || env.GITHUB_REPOSITORY;
  if (!repository) {
    throw new GitHubError('github-repository-missing', 'no repository: set GITHUB_REPOSITORY to owner/name or pass a repository',
      'GitHub Actions sets GITHUB_REPOSITORY itself; elsewhere export it, e.g. GITHUB_REPOSITORY=acme/environments');
  }
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(repository);
  if (!match) {
    throw new GitHubError('github-repository-invalid', `repository "${repository}" is not owner/name`, 'write it as owner/name, e.g. acme/environments');
  }
  const baseUrl = (opts.baseUrl || env.GITHUB_API_URL || DEFAULT_API_URL).replace(/\/+$/, '');
  if (!URL.canParse(baseUrl)) {
    throw new GitHubError('github-url-invalid', `GitHub API URL "${baseUrl}" is not a URL`, 'GITHUB_API_URL is https://api.github.com, or https://<host>/api/v3 on GitHub Enterprise Server');
  }

  const retries = opts.retry?.retries ?? 3;
  const base = opts.retry?.baseDelayMs ?? 1000;
  const log = opts.log ?? (() => {});
  const quiet = () => {};
  // The plugins report waits in seconds, then multiply by retryAfterBaseValue.
  const onLimit = (kind: string) => (after: number, options: { method: string; url: string }, _o: unknown, retryCount: number) => {
    const again = retryCount < retries;
    log(`GitHub ${kind} on ${options.method} ${options.url}: ${again ? `retry ${retryCount + 1}/${retries} in ${(after * base) / 1000}s` : 'giving up'}`);
    return again;
  };
  const interval = opts.writeIntervalMs ?? writeInterval(env);
  const pacing = interval === undefined ? {} : {
    write: new Bottleneck.Group({ maxConcurrent: 1, minTime: interval }),
    notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: interval }),
  };
  const octokit = new PluggedOctokit({
    auth: token,
    baseUrl,
    userAgent: 'envctl',
    // plugin-request-log reports every failed attempt at error level; debug/info would be one line per request.
    log: { debug: quiet, info: quiet, warn: (m: string) => log(m), error: (m: string) => log(m) },
    // The plugin retries every status >= 400 not listed here, 409 included (a deployment's missing ref
    // would be asked for four times): only 5xx is worth repeating. 403 and 429 are the throttling
    // plugin's, which retries only the rate-limit ones; both retrying would multiply the attempts.
    retry: { retries, retryAfterBaseValue: base, doNotRetry: Array.from({ length: 100 }, (_, i) => 400 + i) },
    throttle: {
      retryAfterBaseValue: base,
      onRateLimit: onLimit('rate limit'),
      onSecondaryRateLimit: onLimit('secondary rate limit'),
      ...pacing,
    },
  });

  const [, owner, repo] = match as unknown as [string, string, string];
  const where = { repository, baseUrl, retries };
  const call: GitHubClient['call'] = async (what, permission, fn) => {
    try {
      return await fn(octokit);
    } catch (error) {
      throw explain(error, what, permission, where);
    }
  };
  let identity: Promise<TokenIdentity | undefined> | undefined;
  return { octokit, owner, repo, repository, baseUrl, call, identity: () => (identity ??= learnIdentity(call, env)) };
}

/**
 * ENVCTL_GITHUB_WRITE_INTERVAL_MS, for the CLI (which has no options for
 * this): a GitHub Enterprise Server without secondary limits, or a test
 * against a local stand-in, need not wait a second between writes. The
 * secondary limit is still waited out when one is hit.
 */
function writeInterval(env: Record<string, string | undefined>): number | undefined {
  const text = env.ENVCTL_GITHUB_WRITE_INTERVAL_MS?.trim();
  if (!text) return undefined;
  if (!/^\d{1,7}$/.test(text)) {
    throw inputError('github-write-interval-invalid', `ENVCTL_GITHUB_WRITE_INTERVAL_MS ${JSON.stringify(text)} is not a whole number of milliseconds`,
      { hint: 'unset it to keep GitHub\'s pacing (1000 ms between writes), or give e.g. 0 or 500', data: { value: text } });
  }
  return Number(text);
}

/**
 * Whom the token writes as: ENVCTL_GITHUB_LOGIN when set (a GitHub App's
 * token writes as `<app-slug>[bot]`, which no endpoint an installation token
 * may call names); else GET /user, which answers for user tokens; else, for
 * an installation token (GET /user answers 403 "Resource not accessible by
 * integration") inside GitHub Actions, the GITHUB_TOKEN's github-actions[bot].
 * Undefined when none of those tells: the caller then trusts no existing comment.
 */
async function learnIdentity(call: GitHubClient['call'], env: Record<string, string | undefined>): Promise<TokenIdentity | undefined> {
  const override = env.ENVCTL_GITHUB_LOGIN?.trim();
  if (override) return { login: override, source: 'ENVCTL_GITHUB_LOGIN' };
  const user = await call('learn whom the token writes as', [], async (o) => {
    try {
      return (await o.request('GET /user')).data;
    } catch (error) {
      // 403 for installation tokens; 404 where the endpoint is absent for them. Anything else is trouble.
      const status = (error as { status?: number }).status;
      if (status === 403 || status === 404) return undefined;
      throw error;
    }
  });
  if (user && typeof user.login === 'string' && user.login !== '') return { login: user.login, source: 'GET /user' };
  if (env.GITHUB_ACTIONS === 'true') return { login: ACTIONS_BOT, source: 'GITHUB_ACTIONS' };
  return undefined;
}

interface FailedRequest {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

/** An Octokit failure → GitHubError in words. Exported for call sites that catch errors themselves. */
export function explain(
  error: unknown, what: string, permission: Permission | Permission[],
  where: { repository: string; baseUrl: string; retries: number },
): GitHubError {
  if (error instanceof GitHubError) return error;
  const e = (error ?? {}) as FailedRequest;
  const status = typeof e.status === 'number' ? e.status : undefined;
  const said = githubMessage(e);
  const headers = e.response?.headers ?? {};
  const opts = { cause: error };
  if (status === undefined || !e.response) {
    // no HTTP answer at all (octokit reports connection failures as status 500 without a response)
    return new GitHubError('github-unreachable', `could not reach GitHub at ${where.baseUrl} to ${what}: ${said}`,
      'check GITHUB_API_URL and the network', status, opts);
  }
  if (status === 401) {
    return new GitHubError('github-bad-token', `bad token: GitHub refused the credentials while trying to ${what} (${said})`,
      'GITHUB_TOKEN is wrong, expired or revoked; in a workflow use ${{ secrets.GITHUB_TOKEN }}', status, opts);
  }
  if ((status === 403 || status === 429) && (headers['x-ratelimit-remaining'] === '0' || /secondary rate/i.test(said))) {
    const reset = Number(headers['x-ratelimit-reset']);
    return new GitHubError('github-rate-limited', `rate limited: GitHub still refused to ${what} after ${where.retries} retries (${said})`,
      reset ? `the limit resets at ${new Date(reset * 1000).toISOString()}; run again after that` : 'wait a few minutes and run again', status, opts);
  }
  if (status === 403) {
    const needs = (Array.isArray(permission) ? permission : [permission]).map((p) => `\`${p}\``).join(' or ');
    return new GitHubError('github-permission', `missing permission: the token needs ${needs} (set \`permissions:\` in the workflow) to ${what} in ${where.repository}; GitHub said: ${said}`,
      `add to the workflow job:\n  permissions:\n    ${(Array.isArray(permission) ? permission[0]! : permission)}`, status, opts);
  }
  if (status === 404) {
    return new GitHubError('github-not-found', `not found: check the repository name ${where.repository} and that the token can see it (while trying to ${what})`,
      'GITHUB_REPOSITORY is owner/name; a private repository answers 404 to a token that cannot read it', status, opts);
  }
  if (status >= 500) {
    return new GitHubError('github-server-error', `GitHub answered ${status} to the request to ${what}, still after ${where.retries} retries`,
      'GitHub may be having trouble (https://www.githubstatus.com); run again later', status, opts);
  }
  return new GitHubError('github-refused', `GitHub refused to ${what}: ${status} ${said}`,
    'this is probably a value envctl sent (a commit, a state); please report it', status, opts);
}

function githubMessage(e: FailedRequest): string {
  const data = e.response?.data;
  if (data && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string') {
    return (data as { message: string }).message;
  }
  return typeof e.message === 'string' ? e.message : String(e);
}

/**
 * Octokit parses JSON with json-with-bigint, so its types say every id may be
 * a bigint (one past 2^53). GitHub's ids are far below that; refuse rather
 * than round if one ever is not.
 */
export function toId(id: number | bigint): number {
  const n = Number(id);
  if (!Number.isSafeInteger(n)) throw new GitHubError('github-id-too-large', `GitHub id ${id} is too large for envctl`, 'please report this', undefined);
  return n;
}

/**
 * Cuts text to at most `max` characters, marking the cut with an ellipsis.
 * GitHub counts characters as code points (a 🐳 is one), so that is what is
 * counted here; the cut falls between user-perceived characters (graphemes),
 * so no surrogate pair, combining accent or emoji sequence is split.
 */
export function truncate(text: string, max: number): string {
  if (codePoints(text) <= max) return text;
  let kept = '';
  let count = 0;
  for (const { segment } of graphemes.segment(text)) {
    const n = codePoints(segment);
    if (count + n > max - 1) break;
    kept += segment;
    count += n;
  }
  return `${kept}…`;
}

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
const codePoints = (text: string) => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

/**
 * The URL as GitHub takes it for a status's target_url or a deployment's
 * log and environment URLs: an absolute http(s) URL, else undefined (the
 * field is then left out rather than have GitHub refuse the whole call).
 */
export function httpUrl(url: string | undefined): string | undefined {
  if (url === undefined || !URL.canParse(url)) return undefined;
  return /^https?:$/.test(new URL(url).protocol) ? url : undefined;
}
