/**
 * Reads an image manifest from an OCI distribution registry to count its
 * layers (GET /v2/<name>/manifests/<reference>, following an index to the
 * platform's manifest).
 */
import { MANIFEST_TYPES, readJson, refusal, registryFetch, type RegistryAccess } from './client.js';
import { parseReference } from './reference.js';

export interface ManifestOptions {
  platform: string;
  /** Give up after this long: validation must not hang on an unreachable registry. */
  timeoutMs?: number;
  access: RegistryAccess;
}

interface Manifest {
  mediaType?: string;
  layers?: unknown[];
  manifests?: { digest: string; platform?: { os?: string; architecture?: string; variant?: string } }[];
}

/**
 * One manifest by tag or digest; undefined when the registry answers that it
 * does not have it (404). Not reachable, no answer in time, a refusal (401,
 * 403) or any other answer throws a RegistryError.
 */
async function getManifest<T>(registry: string, repository: string, reference: string, signal: AbortSignal, access: RegistryAccess): Promise<T | undefined> {
  const res = await manifestResponse(registry, repository, reference, signal, access);
  if (!res) return undefined;
  return readJson<T>(registry, res, `the manifest ${repository}:${reference}`, signal);
}

/**
 * Layer count; undefined when the image is absent (the registry answers 404,
 * or its index has no manifest for the platform). Throws a RegistryError
 * when the registry could not be asked (see getManifest).
 */
export async function layerCount(ref: string, opts: ManifestOptions): Promise<number | undefined> {
  const image = parseReference(ref);
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 3000);
  let manifest = await getManifest<Manifest>(image.registry, image.repository, image.digest ?? image.tag!, signal, opts.access);
  if (manifest?.manifests) {
    const [os, arch, variant] = opts.platform.split('/');
    const entry = manifest.manifests.find((m) => m.platform?.os === os && m.platform?.architecture === arch && (!variant || m.platform?.variant === variant));
    if (!entry) return undefined;
    manifest = await getManifest<Manifest>(image.registry, image.repository, entry.digest, signal, opts.access);
  }
  return Array.isArray(manifest?.layers) ? manifest.layers.length : undefined;
}

/**
 * Compressed bytes of an image's config and layers as its manifest gives
 * them; undefined when the registry does not have it. Throws a RegistryError
 * when the registry could not be asked.
 */
export async function imageSize(ref: string, opts: { access: RegistryAccess; platform: string }): Promise<number | undefined> {
  const image = parseReference(ref);
  const signal = AbortSignal.timeout(10_000);
  const manifest = await getManifest<Manifest & { config?: { size?: number }; layers?: { size?: number }[] }>(image.registry, image.repository, image.digest ?? image.tag!, signal, opts.access);
  const layers = manifest?.layers as { size?: number }[] | undefined;
  if (!manifest || !Array.isArray(layers)) return undefined;
  return layers.reduce((n, l) => n + (l.size ?? 0), manifest.config?.size ?? 0);
}

/** The registry's answer for a manifest, its body unread: undefined for 404, a RegistryError for any other refusal. */
export async function manifestResponse(registry: string, repository: string, reference: string, signal: AbortSignal, access: RegistryAccess): Promise<Response | undefined> {
  const res = await registryFetch(registry, `${repository}/manifests/${reference}`, { headers: { accept: MANIFEST_TYPES }, signal }, access);
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw refusal(registry, res, `${repository}:${reference}`);
  }
  return res;
}
