/**
 * One way to talk to an OCI distribution registry's /v2/ API: http for
 * loopback or insecure registries, and the 401 challenge answered as the
 * distribution spec's token flow describes: `Basic` with the credentials,
 * or `Bearer realm=…,service=…,scope=…` exchanged for a token (with the
 * credentials when there are any, anonymously otherwise).
 */
import { createHash } from 'node:crypto';
import type { Config } from '../model/config.js';
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

export class RegistryError extends Error {}

// Tokens by registry and scope, for the life of the process (they last minutes; a 401 refreshes).
const tokens = new Map<string, string>();

/** A request to `<registry>/v2/<path>`, authenticating when challenged. */
export async function registryFetch(registry: string, path: string, init: RequestInit & { signal: AbortSignal }, access: RegistryAccess): Promise<Response> {
  const scheme = access.insecure.includes(registry) || isLoopback(registry) ? 'http' : 'https';
  const url = `${scheme}://${registry}/v2/${path}`;
  const send = (authorization?: string) => fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...(authorization ? { authorization } : {}) } });
  const creds = access.credentials?.(registry);
  // A token (or Basic header) serves only the login it was got with: never an anonymous caller or another login.
  const who = creds ? createHash('sha256').update(`${creds.username}\0${creds.password}`).digest('hex') : 'anonymous';
  const cacheKey = `${registry} ${path.split('/manifests/')[0]?.split('/blobs/')[0]} ${who}`;
  const cached = tokens.get(cacheKey);
  let res = await send(cached);
  if (res.status !== 401) return res;
  const authorization = await answerChallenge(res.headers.get('www-authenticate') ?? '', creds, init.signal);
  if (!authorization) return res;
  await res.body?.cancel();
  tokens.set(cacheKey, authorization);
  res = await send(authorization);
  return res;
}

async function answerChallenge(challenge: string, creds: Credentials | undefined, signal: AbortSignal): Promise<string | undefined> {
  const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
  if (/^Basic\b/i.test(challenge)) return basic;
  if (!/^Bearer\s/i.test(challenge)) return undefined;
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  if (!params.realm) return undefined;
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set('service', params.service);
  if (params.scope) url.searchParams.set('scope', params.scope);
  const res = await fetch(url, { headers: basic ? { authorization: basic } : {}, signal });
  if (!res.ok) return undefined;
  const body = (await res.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  return token ? `Bearer ${token}` : undefined;
}

/** Words for a refusal: who refused and what would fix it. */
export function refusal(registry: string, res: Response, what: string): RegistryError {
  if (res.status === 401) {
    return new RegistryError(`registry ${registry} wants credentials for ${what}: log in (buildah login / docker login) or set ENVCTL_REGISTRY_USERNAME and ENVCTL_REGISTRY_PASSWORD`);
  }
  if (res.status === 403) return new RegistryError(`registry ${registry} refused ${what}: the credentials lack permission`);
  return new RegistryError(`registry ${registry} answered ${res.status} for ${what}`);
}
