/**
 * Reads an image manifest from an OCI distribution registry to count its
 * layers (GET /v2/<name>/manifests/<reference>, following an index to the
 * platform's manifest, with the anonymous bearer-token handshake).
 */
import { isLoopback, parseReference } from './reference.js';

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface ManifestOptions {
  platform: string;
  /** Give up after this long: validation must not hang on an unreachable registry. */
  timeoutMs?: number;
  /** Use http for these registries (loopback ones always). */
  insecure?: boolean;
}

interface Manifest {
  mediaType?: string;
  layers?: unknown[];
  manifests?: { digest: string; platform?: { os?: string; architecture?: string; variant?: string } }[];
}

/** Layer count, or undefined when the registry cannot be reached or does not have the image. */
export async function layerCount(ref: string, opts: ManifestOptions): Promise<number | undefined> {
  try {
    const image = parseReference(ref);
    const scheme = opts.insecure || isLoopback(image.registry) ? 'http' : 'https';
    const base = `${scheme}://${image.registry}/v2/${image.repository}/manifests/`;
    const signal = AbortSignal.timeout(opts.timeoutMs ?? 3000);
    const session = { token: undefined as string | undefined };
    let manifest = await fetchJson(base + (image.digest ?? image.tag), session, signal);
    if (manifest?.manifests) {
      const [os, arch, variant] = opts.platform.split('/');
      const entry = manifest.manifests.find((m) => m.platform?.os === os && m.platform?.architecture === arch && (!variant || m.platform?.variant === variant));
      if (!entry) return undefined;
      manifest = await fetchJson(base + entry.digest, session, signal);
    }
    return Array.isArray(manifest?.layers) ? manifest.layers.length : undefined;
  } catch {
    return undefined;
  }
}

async function fetchJson(url: string, session: { token: string | undefined }, signal: AbortSignal): Promise<Manifest | undefined> {
  const get = () => fetch(url, { headers: { accept: ACCEPT, ...(session.token ? { authorization: `Bearer ${session.token}` } : {}) }, signal });
  let res = await get();
  if (res.status === 401 && !session.token) {
    session.token = await anonymousToken(res.headers.get('www-authenticate') ?? '', signal);
    if (session.token) res = await get();
  }
  if (!res.ok) return undefined;
  return (await res.json()) as Manifest;
}

/** `Bearer realm="…",service="…",scope="…"` → a pull token, when the registry hands them out anonymously. */
async function anonymousToken(challenge: string, signal: AbortSignal): Promise<string | undefined> {
  if (!/^Bearer\s/i.test(challenge)) return undefined;
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  if (!params.realm) return undefined;
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set('service', params.service);
  if (params.scope) url.searchParams.set('scope', params.scope);
  const res = await fetch(url, { signal });
  if (!res.ok) return undefined;
  const body = (await res.json()) as { token?: string; access_token?: string };
  return body.token ?? body.access_token;
}
