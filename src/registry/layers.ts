/**
 * The packages installed in an image, read from its layers without pulling
 * it: every layer streamed through its decompressor and a tar reader
 * (tar-stream: pax headers and GNU long names), keeping only the entries
 * packages/ reads (metadataKind: dpkg status, apk's database, dist-info
 * METADATA, conda-meta, R DESCRIPTION; and os-release, for the distribution)
 * and the whiteouts that delete them, each file bounded by METADATA_LIMITS
 * and all of them by TOTAL_METADATA_LIMIT. No layer is ever held whole:
 * skipped entries stream past, and a layer's bytes are hashed as they go,
 * so a registry answering other bytes than the digest names is caught.
 *
 * From a registry (by reference, an index followed to the platform's
 * manifest; up to three layers downloaded at once, merged in order) or from
 * an OCI image layout folder (`buildah push IMAGE oci:DIR`: index.json →
 * manifest → blobs/<alg>/<hex>), for builds that are not pushed. Both share
 * the tar reading (layer-tar.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvctlError, inputError } from '../model/errors.js';
import { mergeLayers, packagesOf, TOTAL_METADATA_LIMIT, type InstalledPackage, type LayerEntry } from '../packages/index.js';
import { osId } from '../packages/sbom.js';
import { refusal, RegistryError, registryFetch, unreachable, type RegistryAccess } from './client.js';
import { layerEntries, LayerFault, type Budget } from './layer-tar.js';
import { manifestResponse } from './manifest.js';
import { parseReference } from './reference.js';

export { LayerCompressionUnsupported, MetadataTooLarge } from './layer-tar.js';

/** An OCI descriptor: what a manifest names another blob or manifest by. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface ImagePackages {
  packages: InstalledPackage[];
  /** os-release's ID (`debian`, `ubuntu`), for the deb package URLs; absent when the image has none. */
  distro?: string;
  /** The manifest the reference names (an index, when it is one): an SBOM's subject. */
  subject: Descriptor;
  /** Layers read. */
  layers: number;
}

/** The OCI digest grammar, narrowed to the algorithms the image spec registers (so it is safe in a URL path and a file name). */
const DIGEST = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

/** Layers downloaded at once: enough to overlap one layer's download with another's decompression. */
const CONCURRENCY = 3;

/** `count` tasks, at most `width` at once; results in task order. The first failure stops the others (their signal aborts) and is thrown. */
async function inOrder<T>(count: number, width: number, task: (i: number, signal: AbortSignal) => Promise<T>): Promise<T[]> {
  const stop = new AbortController();
  const results: T[] = new Array<T>(count);
  let next = 0;
  let first: { err: unknown } | undefined;
  const worker = async () => {
    while (!first && next < count) {
      const i = next++;
      try {
        results[i] = await task(i, stop.signal);
      } catch (err) {
        first ??= { err };
        stop.abort(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  if (first) throw first.err;
  return results;
}

/** The merged layers → packages, and the distribution from os-release (a file in /etc, else the /usr/lib one it usually links to). */
export function packagesOfLayerEntries(layers: LayerEntry[][]): Pick<ImagePackages, 'packages' | 'distro'> {
  const files = mergeLayers(layers);
  const distro = osId(files.get('etc/os-release') ?? files.get('usr/lib/os-release'));
  return { packages: packagesOf(files), ...(distro ? { distro } : {}) };
}

interface Manifest {
  mediaType?: string;
  layers?: { digest?: unknown; mediaType?: unknown; size?: unknown }[];
  manifests?: { digest?: unknown; mediaType?: unknown; size?: unknown; platform?: { os?: string; architecture?: string; variant?: string }; annotations?: Record<string, string> }[];
}

/** The index entry for `os/arch[/variant]`, as manifest.ts picks it. */
function platformEntry(index: Manifest, platform: string): { digest: string } | undefined {
  const [os, arch, variant] = platform.split('/');
  const m = index.manifests?.find((e) => e.platform?.os === os && e.platform?.architecture === arch && (!variant || e.platform?.variant === variant));
  return m && typeof m.digest === 'string' ? { digest: m.digest } : undefined;
}

/** A manifest's layers, each checked to be a descriptor with a known digest; foreign (non-distributable) layers left out. */
function layersOf(manifest: Manifest, bad: (what: string) => Error): { digest: string; size: number }[] {
  if (!Array.isArray(manifest.layers)) throw bad('a manifest without layers');
  const out: { digest: string; size: number }[] = [];
  for (const l of manifest.layers) {
    if (typeof l?.digest !== 'string' || !DIGEST.test(l.digest)) throw bad(`a layer digest ${JSON.stringify(l?.digest)} that is not sha256 or sha512`);
    if (typeof l.mediaType === 'string' && /foreign|nondistributable/.test(l.mediaType)) continue;
    out.push({ digest: l.digest, size: typeof l.size === 'number' && l.size > 0 ? l.size : 0 });
  }
  return out;
}

/** Manifests larger than this are refused: a manifest names layers, it does not hold them. */
const MANIFEST_MAX = 4 << 20;

const digestOf = (bytes: Buffer, algorithm = 'sha256') => `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;

/** What a reference names in its registry: the manifest (an index, when it is one) as an SBOM's subject, and the platform's layers. */
export interface ImageManifest {
  subject: Descriptor;
  layers: { digest: string; size: number }[];
}

/**
 * The manifest `ref` (by tag or digest) names in its registry, an index
 * followed to the platform's; undefined when the registry does not have it
 * (404) or its index has no manifest for the platform. A registry that
 * cannot be asked or refuses throws a RegistryError; one answering
 * something that does not parse or match its digest, `registry-bad-answer`.
 */
export async function readImageManifest(ref: string, opts: { access: RegistryAccess; platform: string; signal?: AbortSignal }): Promise<ImageManifest | undefined> {
  const image = parseReference(ref);
  const { registry, repository } = image;
  const bad = (what: string, cause?: unknown) => new RegistryError(registry, 'registry-bad-answer', `answered ${what} for ${ref}`, cause === undefined ? {} : { cause });
  const get = async (reference: string): Promise<{ manifest: Manifest; descriptor: Descriptor } | undefined> => {
    const signal = signalFor(opts.signal, 30_000);
    const res = await manifestResponse(registry, repository, reference, signal, opts.access);
    if (!res) return undefined;
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      throw unreachable(registry, err, signal);
    }
    if (bytes.length > MANIFEST_MAX) throw bad(`a manifest of ${bytes.length} bytes`);
    const digest = DIGEST.test(reference) ? digestOf(bytes, reference.split(':')[0]) : digestOf(bytes);
    if (DIGEST.test(reference) && digest !== reference) throw bad(`a manifest whose bytes are not digest ${reference}`);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    } catch (err) {
      throw bad('a manifest that is not JSON', err);
    }
    if (typeof manifest !== 'object' || manifest === null) throw bad('a manifest that is not a JSON object');
    const mediaType = typeof manifest.mediaType === 'string' ? manifest.mediaType : res.headers.get('content-type')?.split(';')[0]?.trim() ?? 'application/vnd.oci.image.manifest.v1+json';
    return { manifest, descriptor: { mediaType, digest, size: bytes.length } };
  };
  const top = await get(image.digest ?? image.tag ?? 'latest');
  if (!top) return undefined;
  let manifest = top.manifest;
  if (Array.isArray(manifest.manifests)) {
    const entry = platformEntry(manifest, opts.platform);
    if (!entry) return undefined;
    if (!DIGEST.test(entry.digest)) throw bad(`an index naming manifest ${JSON.stringify(entry.digest)}`);
    const chosen = await get(entry.digest);
    if (!chosen) return undefined;
    manifest = chosen.manifest;
  }
  return { subject: top.descriptor, layers: layersOf(manifest, (what) => bad(what)) };
}

const signalFor = (outer: AbortSignal | undefined, ms: number) => (outer ? AbortSignal.any([outer, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms));

/**
 * The packages of `ref` (by tag or digest) in its registry, its layers read
 * as readImageManifest finds them; undefined as it says. A layer that does
 * not decompress, read as a tar or match its digest throws
 * `registry-bad-answer`; metadata past the limits throws MetadataTooLarge.
 */
export async function readImagePackages(ref: string, opts: { access: RegistryAccess; platform: string; signal?: AbortSignal }): Promise<ImagePackages | undefined> {
  const found = await readImageManifest(ref, opts);
  if (!found) return undefined;
  const { registry, repository } = parseReference(ref);
  const bad = (what: string, cause?: unknown) => new RegistryError(registry, 'registry-bad-answer', `answered ${what} for ${ref}`, cause === undefined ? {} : { cause });
  const { layers } = found;
  const budget: Budget = { image: ref, left: TOTAL_METADATA_LIMIT };
  const read = await inOrder(layers.length, CONCURRENCY, async (i, stop) => {
    const layer = layers[i]!;
    // Each layer its own time, a second more per 8 MiB: a big one must not starve the rest, nor a slow link fail a big one.
    const signal = AbortSignal.any([stop, signalFor(opts.signal, 120_000 + Math.ceil(layer.size / (8 << 20)) * 1000)]);
    const res = await registryFetch(registry, `${repository}/blobs/${layer.digest}`, { signal }, opts.access);
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw refusal(registry, res, `layer ${layer.digest} of ${ref}`);
    }
    try {
      return await layerEntries(res.body as unknown as AsyncIterable<Uint8Array>, layer.digest, budget);
    } catch (err) {
      if (!(err instanceof LayerFault)) throw err;
      if (err.stage === 'source') throw unreachable(registry, err.err, signal);
      if (err.stage === 'digest') throw bad(`layer ${layer.digest} with other bytes than its digest`);
      throw bad(`layer ${layer.digest}, which does not ${err.stage === 'decode' ? 'decompress' : 'read as a tar'}`, err.err);
    }
  });
  return { ...packagesOfLayerEntries(read), subject: found.subject, layers: layers.length };
}

const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * The same from an OCI image layout folder (`buildah push IMAGE oci:DIR`, or
 * `oci:DIR:NAME`): the manifest index.json names (by `name`, its
 * `org.opencontainers.image.ref.name`, or the only one there), an index
 * followed to the platform's manifest, the layers read from
 * blobs/<algorithm>/<hex>. Undefined when the index has no manifest for the
 * platform. A folder that is not such a layout, or whose blobs do not read,
 * is an input error (`oci-layout-invalid`, `data.path` naming the file).
 */
export async function readLayoutPackages(dir: string, opts: { platform: string; name?: string }): Promise<ImagePackages | undefined> {
  const invalid = (path: string, what: string, cause?: unknown) => inputError('oci-layout-invalid', `${join(dir, path)}: ${what}`, { data: { path: join(dir, path) }, ...(cause === undefined ? {} : { cause }) });
  const blobPath = (digest: unknown): string => {
    if (typeof digest !== 'string' || !DIGEST.test(digest)) throw invalid('index.json', `names a blob ${JSON.stringify(digest)} that is not sha256 or sha512`);
    const [alg, hex] = digest.split(':');
    return join('blobs', alg!, hex!);
  };
  const readJsonFile = async (path: string, digest?: string): Promise<{ value: Manifest; bytes: Buffer }> => {
    let bytes: Buffer;
    try {
      const handle = await open(join(dir, path));
      try {
        const { size } = await handle.stat();
        if (size > MANIFEST_MAX) throw invalid(path, `${size} bytes; a manifest is at most ${MANIFEST_MAX}`);
        bytes = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (err instanceof EnvctlError) throw err;
      throw invalid(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
    }
    if (digest !== undefined && digestOf(bytes, digest.split(':')[0]) !== digest) throw invalid(path, `its bytes are not digest ${digest}`);
    try {
      const value = JSON.parse(bytes.toString('utf8')) as Manifest;
      if (typeof value !== 'object' || value === null) throw new Error('not an object');
      return { value, bytes };
    } catch (err) {
      throw invalid(path, 'is not a JSON object', err);
    }
  };
  const { value: index } = await readJsonFile('index.json');
  const entries = Array.isArray(index.manifests) ? index.manifests : [];
  const named = opts.name !== undefined ? entries.filter((e) => e.annotations?.[REF_NAME] === opts.name) : entries;
  if (named.length !== 1) {
    throw invalid('index.json', opts.name !== undefined ? `holds ${named.length} manifests named ${JSON.stringify(opts.name)}` : `holds ${named.length} manifests; name the one to read`);
  }
  const top = named[0]!;
  if (typeof top.digest !== 'string' || !DIGEST.test(top.digest)) throw invalid('index.json', `names a manifest ${JSON.stringify(top.digest)} that is not sha256 or sha512`);
  let path = blobPath(top.digest);
  let { value: manifest, bytes } = await readJsonFile(path, top.digest);
  const subject: Descriptor = {
    mediaType: typeof top.mediaType === 'string' ? top.mediaType : manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
    digest: top.digest,
    size: bytes.length,
  };
  if (Array.isArray(manifest.manifests)) {
    const entry = platformEntry(manifest, opts.platform);
    if (!entry) return undefined;
    path = blobPath(entry.digest);
    ({ value: manifest } = await readJsonFile(path, entry.digest));
  }
  const layers = layersOf(manifest, (what) => invalid(path, `has ${what}`));
  const budget: Budget = { image: dir, left: TOTAL_METADATA_LIMIT };
  const read = await inOrder(layers.length, CONCURRENCY, async (i, signal) => {
    const layer = layers[i]!;
    const file = blobPath(layer.digest);
    try {
      return await layerEntries(createReadStream(join(dir, file), { highWaterMark: 256 << 10, signal }), layer.digest, budget);
    } catch (err) {
      if (!(err instanceof LayerFault)) throw err;
      if (err.stage === 'source') throw invalid(file, `cannot be read (${(err.err as NodeJS.ErrnoException)?.code ?? String(err.err)})`, err.err);
      if (err.stage === 'digest') throw invalid(file, `its bytes are not digest ${layer.digest}`);
      throw invalid(file, `does not ${err.stage === 'decode' ? 'decompress' : 'read as a tar'}`, err.err);
    }
  });
  return { ...packagesOfLayerEntries(read), subject, layers: layers.length };
}
