/**
 * An image's SBOM beside it in the registry, as an OCI artifact: a manifest
 * with `artifactType` application/vnd.cyclonedx+json, the empty config
 * (`{}`, application/vnd.oci.empty.v1+json), one layer (the CycloneDX JSON)
 * and `subject` naming the image's manifest, so the referrers API lists it
 * under the image (image-spec 1.1, distribution-spec 1.1). A registry
 * without that API (Distribution 2.8, Debian's docker-registry) gets the tag
 * cosign and oras use as well: `sha256-<hex of the image digest>.sbom`.
 * Finding it again: the referrers API first, then that tag.
 */
import { createHash } from 'node:crypto';
import { SBOM_MEDIA_TYPE } from '../packages/sbom.js';
import { MANIFEST_TYPES, refusal, RegistryError, registryFetch, unreachable, type RegistryAccess } from './client.js';
import type { Descriptor } from './layers.js';
import { parseReference } from './reference.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** The empty descriptor of image-spec 1.1: the two bytes `{}`, for an artifact that has no config. */
export const EMPTY_CONFIG: Descriptor = {
  mediaType: 'application/vnd.oci.empty.v1+json', digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2,
};
const CREATED = 'org.opencontainers.image.created';

/** SBOMs larger than this are not read back: a document listing packages, not files. */
export const SBOM_MAX_BYTES = 64 << 20;

/** The tag scheme of cosign and oras for an image's SBOM: `sha256-<hex>.sbom`. */
export function sbomTag(imageDigest: string): string {
  return `${imageDigest.replace(':', '-')}.sbom`;
}

export interface PushedSbom {
  /** The SBOM artifact's manifest digest. */
  digest: string;
  /** Whether the registry lists it under the image (the referrers API). */
  referrers: boolean;
  /** The tag it was also given when the registry has no referrers API. */
  tag?: string;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

interface Target {
  registry: string;
  repository: string;
  access: RegistryAccess;
  signal: AbortSignal;
}

/** `<registry>/<repository>` (a tag or digest after it is ignored) → where to push and read. */
function target(image: string, access: RegistryAccess, signal: AbortSignal | undefined, ms: number): Target {
  const { registry, repository } = parseReference(image);
  const timeout = AbortSignal.timeout(ms);
  return { registry, repository, access, signal: signal ? AbortSignal.any([signal, timeout]) : timeout };
}

/** One blob, uploaded monolithically (POST, then PUT ?digest=) unless the registry has it already. */
async function pushBlob(t: Target, bytes: Buffer, digest: string): Promise<void> {
  const head = await registryFetch(t.registry, `${t.repository}/blobs/${digest}`, { method: 'HEAD', signal: t.signal }, t.access);
  await head.body?.cancel();
  if (head.ok) return;
  const post = await registryFetch(t.registry, `${t.repository}/blobs/uploads/`, { method: 'POST', signal: t.signal }, t.access);
  await post.body?.cancel();
  if (post.status !== 202) throw refusal(t.registry, post, `an upload to ${t.repository}`);
  const location = post.headers.get('location');
  if (!location) throw new RegistryError(t.registry, 'registry-bad-answer', `started an upload to ${t.repository} without saying where to send it`);
  // Relative (most registries) or absolute on the registry itself; the credentials go nowhere else.
  let url: URL;
  try {
    url = new URL(location, `http://${t.registry}/v2/`);
  } catch (err) {
    throw new RegistryError(t.registry, 'registry-bad-answer', `sent an upload to ${JSON.stringify(location)}, which is not a URL`, { cause: err });
  }
  if (url.host !== t.registry || !url.pathname.startsWith('/v2/')) {
    throw new RegistryError(t.registry, 'registry-bad-answer', `sent an upload to ${url.host}${url.pathname.slice(0, 40)}, not under its own /v2/`);
  }
  url.searchParams.set('digest', digest);
  const put = await registryFetch(t.registry, `${url.pathname.slice(4)}${url.search}`, {
    method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes), signal: t.signal,
  }, t.access);
  await put.body?.cancel();
  if (put.status !== 201) throw refusal(t.registry, put, `blob ${digest} of ${t.repository}`);
}

/**
 * Pushes `sbom` (CycloneDX JSON text) as the artifact whose subject is the
 * image `subject` (its manifest's descriptor) in repository `image`
 * (`<registry>/<repository>`); tags it `sha256-<hex>.sbom` as well unless the
 * registry says it keeps referrers (an `OCI-Subject` answer to the manifest
 * PUT, or the referrers API listing it). `created` (ISO time) is the
 * manifest's annotation, for picking the newest of several. Throws a
 * RegistryError when the registry cannot be asked or refuses.
 */
export async function pushSbom(image: string, subject: Descriptor, sbom: string, access: RegistryAccess, opts: { created?: string; signal?: AbortSignal } = {}): Promise<PushedSbom> {
  const t = target(image, access, opts.signal, 60_000);
  const body = Buffer.from(sbom, 'utf8');
  const layer: Descriptor & { annotations: Record<string, string> } = {
    mediaType: SBOM_MEDIA_TYPE, digest: sha256(body), size: body.length, annotations: { 'org.opencontainers.image.title': 'sbom.cdx.json' },
  };
  await pushBlob(t, Buffer.from('{}'), EMPTY_CONFIG.digest);
  await pushBlob(t, body, layer.digest);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: SBOM_MEDIA_TYPE, config: EMPTY_CONFIG, layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    ...(opts.created ? { annotations: { [CREATED]: opts.created } } : {}),
  }));
  const digest = sha256(manifest);
  const put = async (reference: string) => {
    const res = await registryFetch(t.registry, `${t.repository}/manifests/${reference}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: new Uint8Array(manifest), signal: t.signal }, t.access);
    await res.body?.cancel();
    if (res.status !== 201) throw refusal(t.registry, res, `the SBOM of ${t.repository}@${subject.digest}`);
    return res;
  };
  const res = await put(digest);
  if (res.headers.get('oci-subject') === subject.digest) return { digest, referrers: true };
  if ((await referrersOf(t, subject.digest)).some((m) => m.digest === digest)) return { digest, referrers: true };
  const tag = sbomTag(subject.digest);
  await put(tag);
  return { digest, referrers: false, tag };
}

interface IndexEntry {
  digest: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** The referrers of `digest` with the SBOM's artifact type; empty when the registry has no referrers API (any answer but 200 with an index). */
async function referrersOf(t: Target, digest: string): Promise<IndexEntry[]> {
  const res = await registryFetch(t.registry, `${t.repository}/referrers/${digest}?artifactType=${encodeURIComponent(SBOM_MEDIA_TYPE)}`, { headers: { accept: OCI_INDEX }, signal: t.signal }, t.access);
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw refusal(t.registry, res, `the referrers of ${t.repository}@${digest}`);
  }
  if (res.status !== 200 || !/^application\/vnd\.oci\.image\.index\.v1\+json\b/.test(res.headers.get('content-type') ?? '')) {
    await res.body?.cancel();
    return [];
  }
  const index = await readBounded(t, res, 4 << 20, 'the referrers list').then((b) => parseJson(b)) as { manifests?: unknown } | undefined;
  const list = Array.isArray(index?.manifests) ? index.manifests as IndexEntry[] : [];
  return list.filter((m) => typeof m?.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(m.digest) && m.artifactType === SBOM_MEDIA_TYPE);
}

/** A body read up to `max` bytes; past it the answer is refused. */
async function readBounded(t: Target, res: Response, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw new RegistryError(t.registry, 'registry-bad-answer', `answered ${what} with ${declared} bytes; envctl reads at most ${max}`);
  }
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of res.body ?? []) {
      got += (chunk as Uint8Array).length;
      if (got > max) throw new RegistryError(t.registry, 'registry-bad-answer', `answered ${what} with more than the ${max} bytes envctl reads`);
      parts.push(Buffer.from(chunk as Uint8Array));
    }
  } catch (err) {
    if (err instanceof RegistryError) throw err;
    throw unreachable(t.registry, err, t.signal);
  }
  return Buffer.concat(parts);
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export interface FoundSbom {
  /** The SBOM artifact's manifest digest. */
  digest: string;
  /** How it was found: by the digest the caller knew (the ledger's), through the referrers API, or by the tag scheme. */
  via: 'digest' | 'referrers' | 'tag';
  /** The CycloneDX JSON, as the registry holds it (hostile: parse, never trust). */
  text: string;
}

/**
 * The SBOM of the image `image@imageDigest`: the artifact `known` names
 * when given and there, else the newest the referrers API lists (by its
 * created annotation), else the one tagged `sha256-<hex>.sbom`; always one
 * whose subject is that image, undefined when there is none. Throws a RegistryError when the registry cannot be asked, refuses,
 * or answers bytes that are not what their digest names.
 */
export async function findSbom(image: string, imageDigest: string, access: RegistryAccess, opts: { known?: string; signal?: AbortSignal } = {}): Promise<FoundSbom | undefined> {
  const t = target(image, access, opts.signal, 30_000);
  let via: FoundSbom['via'] = 'digest';
  let manifest = opts.known !== undefined && /^sha256:[0-9a-f]{64}$/.test(opts.known) ? await getManifest(t, opts.known) : undefined;
  if (!manifest) {
    const listed = await referrersOf(t, imageDigest);
    const newest = [...listed].sort((a, b) => (a.annotations?.[CREATED] ?? '').localeCompare(b.annotations?.[CREATED] ?? '')).at(-1);
    via = newest ? 'referrers' : 'tag';
    manifest = await getManifest(t, newest?.digest ?? sbomTag(imageDigest));
  }
  if (!manifest) return undefined;
  const m = manifest.value as { artifactType?: unknown; layers?: { mediaType?: unknown; digest?: unknown; size?: unknown }[]; subject?: { digest?: unknown } };
  // A tag of the scheme holding something else (another tool's SBOM of another format, another image's) is no SBOM of this image.
  const layer = Array.isArray(m.layers) ? m.layers.find((l) => l?.mediaType === SBOM_MEDIA_TYPE) : undefined;
  if (m.subject?.digest !== imageDigest || !layer || typeof layer.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) return undefined;
  const res = await registryFetch(t.registry, `${t.repository}/blobs/${layer.digest}`, { signal: t.signal }, t.access);
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw refusal(t.registry, res, `the SBOM blob ${layer.digest} of ${t.repository}`);
  }
  const bytes = await readBounded(t, res, SBOM_MAX_BYTES, `the SBOM blob ${layer.digest}`);
  if (sha256(bytes) !== layer.digest) throw new RegistryError(t.registry, 'registry-bad-answer', `answered the SBOM blob ${layer.digest} with other bytes than its digest`);
  return { digest: manifest.digest, via, text: bytes.toString('utf8') };
}

/** A manifest by tag or digest (checked against it), parsed; undefined on 404 or when it is no JSON object. */
async function getManifest(t: Target, reference: string): Promise<{ digest: string; value: unknown } | undefined> {
  const res = await registryFetch(t.registry, `${t.repository}/manifests/${reference}`, { headers: { accept: `${OCI_MANIFEST}, ${MANIFEST_TYPES}` }, signal: t.signal }, t.access);
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw refusal(t.registry, res, `${t.repository}:${reference}`);
  }
  const bytes = await readBounded(t, res, 4 << 20, `the manifest ${t.repository}:${reference}`);
  const digest = sha256(bytes);
  if (reference.startsWith('sha256:') && digest !== reference) throw new RegistryError(t.registry, 'registry-bad-answer', `answered manifest ${reference} with other bytes than its digest`);
  const value = parseJson(bytes);
  return typeof value === 'object' && value !== null ? { digest, value } : undefined;
}
