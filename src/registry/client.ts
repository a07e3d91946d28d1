/**
 * One way to talk to an OCI distribution registry's /v2/ API: http for
 * loopback or insecure registries, and the 401 challenge answered as the
 * distribution spec's token flow describes: `Basic` with the credentials,
 * or `Bearer realm=…,service=…,scope=…` exchanged for a token (with the
 * credentials when there are any, anonymously otherwise).
 */
import { createHash } from 'node:crypto';
import type { Config } from '../model/config.js';
import { EnvctlError, type ErrorDetails } from '../model/errors.js';
import { credentialLookup, registryHost, type CredentialLookup, type Credentials } from './auth.js';
import { isLoopback } from './reference.js';

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryAccess {
  /** Registries (host[:port]) spoken to over http; loopback ones always are. */
  insecure: string[];
  credentials?: CredentialLookup;
}

/** How envctl reaches registries under a repository's configuration. */
export function registryAccess(config: Config, env: NodeJS.ProcessEnv = process.env): RegistryAccess {
  const host = registryHost(config.registry.address);
  return { insecure: config.registry.insecure ? [host] : [], credentials: credentialLookup(config.registry.address, env) };
}

/**
 * A registry could not be asked, or refused (external; `host` is `registry
 * <host[:port]>`, so messages do not repeat it). Codes: `registry-unreachable`
 * (no connection), `registry-timeout` (no answer in time),
 * `registry-auth-required` (401: no or wrong login), `registry-forbidden`
 * (403), `registry-status` (any other answer that is not the thing asked
 * for), `registry-bad-answer` (an answer that does not parse). A thing the
 * registry answers it does not have (404) is no error: look-ups return
 * undefined for it.
 */
export class RegistryError extends EnvctlError {
  readonly registry: string;
  readonly status: number | undefined;

  constructor(registry: string, code: string, message: string, details: Omit<ErrorDetails, 'host'> & { status?: number } = {}) {
    const { status, ...rest } = details;
    super('external', code, message, { ...rest, host: `registry ${registry}`, data: { registry, ...(status !== undefined ? { status } : {}), ...rest.data } });
    this.registry = registry;
    this.status = status;
  }
}

/** A fetch that did not get an answer → RegistryError: timed out, or not reachable (with the system's reason). */
export function unreachable(registry: string, err: unknown, signal?: AbortSignal): RegistryError {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || (signal?.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError')) {
    return new RegistryError(registry, 'registry-timeout', 'did not answer in time', { cause: err });
  }
  const why = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return new RegistryError(registry, 'registry-unreachable', `not reachable: ${why}`, { cause: err });
}

/** The body of an answer as JSON; a stalled or malformed body is the registry's failure. */
export async function readJson<T>(registry: string, res: Response, what: string, signal?: AbortSignal): Promise<T> {
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw unreachable(registry, err, signal);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new RegistryError(registry, 'registry-bad-answer', `answered ${what} with something that is not JSON`, { cause: err });
  }
}

// Tokens by registry and scope, for the life of the process (they last minutes; a 401 refreshes).
const tokens = new Map<string, string>();

/** Redirects followed at most; registries redirect a blob once, to storage. */
const MAX_REDIRECTS = 5;
const REDIRECT = new Set([301, 302, 303, 307, 308]);

/**
 * A request to `<registry>/v2/<path>`, authenticating when challenged.
 *
 * Redirects are followed here, not by fetch (`redirect: 'manual'`): whether
 * fetch drops Authorization on a cross-origin redirect depends on the
 * undici version, and a registry sending blobs to S3 or a CDN is normal. A
 * hop to the registry's own origin (scheme, host and port) keeps the
 * credentials; a hop anywhere else gets none, and a 401 from there is not
 * answered (its realm would be named by a host we were never told to trust).
 * Only GET and HEAD follow redirects; anything else gets the 3xx as it is.
 */
export async function registryFetch(registry: string, path: string, init: RequestInit & { signal: AbortSignal }, access: RegistryAccess): Promise<Response> {
  const insecure = access.insecure.includes(registry) || isLoopback(registry);
  const origin = `${insecure ? 'http' : 'https'}://${registry}`;
  const first = new URL(`${origin}/v2/${path}`);
  const ours = (url: URL) => url.origin === first.origin;
  const method = (init.method ?? 'GET').toUpperCase();
  const headers = withoutAuthorization(init.headers);
  const send = async (url: URL, authorization?: string) => {
    try {
      return await fetch(url, { ...init, redirect: 'manual', headers: { ...headers, ...(authorization && ours(url) ? { authorization } : {}) } });
    } catch (err) {
      throw unreachable(registry, err, init.signal);
    }
  };
  const creds = access.credentials?.(registry);
  // A token (or Basic header) serves only the login it was got with: never an anonymous caller or another login.
  const who = creds ? createHash('sha256').update(`${creds.username}\0${creds.password}`).digest('hex') : 'anonymous';
  const cacheKey = `${registry} ${path.split('/manifests/')[0]?.split('/blobs/')[0]} ${who}`;
  let authorization = tokens.get(cacheKey);
  let answered = false;
  let url = first;
  for (let hops = 0; ; ) {
    const res = await send(url, authorization);
    if (res.status === 401 && ours(url) && !answered) {
      // Only the configured registry's own answer may name where to log in.
      answered = true;
      const got = await answerChallenge(registry, res.headers.get('www-authenticate') ?? '', creds, insecure, init.signal);
      if (!got) return res;
      await res.body?.cancel();
      tokens.set(cacheKey, got);
      authorization = got;
      continue;
    }
    const location = res.headers.get('location');
    if (!REDIRECT.has(res.status) || location === null || (method !== 'GET' && method !== 'HEAD')) return res;
    if (++hops > MAX_REDIRECTS) {
      await res.body?.cancel();
      throw new RegistryError(registry, 'registry-status', `redirected more than ${MAX_REDIRECTS} times`, { status: res.status });
    }
    await res.body?.cancel();
    url = new URL(location, url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RegistryError(registry, 'registry-bad-answer', `redirected to a ${url.protocol} address`, { status: res.status });
  }
}

/** The caller's headers without any Authorization of theirs: which host gets credentials is decided here alone. */
function withoutAuthorization(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new Headers(headers).entries()) if (k !== 'authorization') out[k] = v;
  return out;
}

/**
 * The Authorization header answering a 401's challenge; undefined when there
 * is none to give (the 401 then stands). The token service (`realm`) may sit
 * on another host (Docker Hub's is auth.docker.io): the registry names it,
 * and it gets the credentials, as the distribution token spec has it. It must
 * be https unless the registry itself is spoken to over http (insecure or
 * loopback), and its own redirects are not followed (they would carry the
 * credentials on to a host nobody named).
 */
async function answerChallenge(registry: string, challenge: string, creds: Credentials | undefined, insecure: boolean, signal: AbortSignal): Promise<string | undefined> {
  const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
  if (/^Basic\b/i.test(challenge)) return basic;
  if (!/^Bearer\s/i.test(challenge)) return undefined;
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  if (!params.realm) return undefined;
  const url = realmUrl(registry, params.realm, insecure);
  if (params.service) url.searchParams.set('service', params.service);
  if (params.scope) url.searchParams.set('scope', params.scope);
  let res: Response;
  try {
    res = await fetch(url, { headers: basic ? { authorization: basic } : {}, redirect: 'manual', signal });
  } catch (err) {
    // The token service is the registry's, even on another host: its silence is the registry's.
    throw unreachable(registry, err, signal);
  }
  if (!res.ok) {
    await res.body?.cancel();
    return undefined;
  }
  const body = await readJson<{ token?: string; access_token?: string }>(registry, res, 'the token request', signal);
  const token = body.token ?? body.access_token;
  return typeof token === 'string' && token !== '' ? `Bearer ${token}` : undefined;
}

/** The realm a challenge names, refused unless it is an https URL (or http, for a registry spoken to over http). */
export function realmUrl(registry: string, realm: string, insecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch (err) {
    throw new RegistryError(registry, 'registry-bad-answer', 'named a token service that is not a URL', { cause: err, data: { realm } });
  }
  if (url.protocol === 'https:' || (insecure && url.protocol === 'http:')) return url;
  throw new RegistryError(registry, 'registry-realm-refused', `named the token service ${url.protocol}//${url.host}, which is not https: credentials go to a token service over https only`, {
    data: { realm: `${url.protocol}//${url.host}` },
    hint: 'a registry reached over http is marked registry.insecure in envctl.yaml',
  });
}

/** Words for a refusal: what was refused and what would fix it (the registry is the error's host). */
export function refusal(registry: string, res: Response, what: string): RegistryError {
  const status = res.status;
  if (status === 401) {
    return new RegistryError(registry, 'registry-auth-required', `wants credentials for ${what}: log in (buildah login / docker login) or set ENVCTL_REGISTRY_USERNAME and ENVCTL_REGISTRY_PASSWORD`, { status });
  }
  if (status === 403) return new RegistryError(registry, 'registry-forbidden', `refused ${what}: the credentials lack permission`, { status });
  return new RegistryError(registry, 'registry-status', `answered ${status} for ${what}`, { status });
}
