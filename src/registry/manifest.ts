/**
 * Reads an image manifest from an OCI distribution registry to count its
 * layers (GET /v2/<name>/manifests/<reference>, following an index to the
 * platform's manifest).
 */
import { MANIFEST_TYPES, registryFetch, type RegistryAccess } from './client.js';
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

/** Layer count, or undefined when the registry cannot be reached or does not have the image. */
export async function layerCount(ref: string, opts: ManifestOptions): Promise<number | undefined> {
  try {
    const image = parseReference(ref);
    const signal = AbortSignal.timeout(opts.timeoutMs ?? 3000);
    const get = async (reference: string): Promise<Manifest | undefined> => {
      const res = await registryFetch(image.registry, `${image.repository}/manifests/${reference}`, { headers: { accept: MANIFEST_TYPES }, signal }, opts.access);
      return res.ok ? ((await res.json()) as Manifest) : undefined;
    };
    let manifest = await get(image.digest ?? image.tag!);
    if (manifest?.manifests) {
      const [os, arch, variant] = opts.platform.split('/');
      const entry = manifest.manifests.find((m) => m.platform?.os === os && m.platform?.architecture === arch && (!variant || m.platform?.variant === variant));
      if (!entry) return undefined;
      manifest = await get(entry.digest);
    }
    return Array.isArray(manifest?.layers) ? manifest.layers.length : undefined;
  } catch {
    return undefined;
  }
}

/** Compressed bytes of an image's config and layers as its manifest gives them, or undefined when it cannot be read. */
export async function imageSize(ref: string, opts: { access: RegistryAccess; platform: string }): Promise<number | undefined> {
  try {
    const image = parseReference(ref);
    const signal = AbortSignal.timeout(10_000);
    const get = async (reference: string) => {
      const res = await registryFetch(image.registry, `${image.repository}/manifests/${reference}`, { headers: { accept: MANIFEST_TYPES }, signal }, opts.access);
      return res.ok ? ((await res.json()) as Manifest & { config?: { size?: number }; layers?: { size?: number }[] }) : undefined;
    };
    const manifest = await get(image.digest ?? image.tag!);
    const layers = manifest?.layers as { size?: number }[] | undefined;
    if (!manifest || !Array.isArray(layers)) return undefined;
    return layers.reduce((n, l) => n + (l.size ?? 0), (manifest as { config?: { size?: number } }).config?.size ?? 0);
  } catch {
    return undefined;
  }
}
