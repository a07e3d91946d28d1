/**
 * Tagging an image already in a registry under another tag, through the
 * distribution API: read the manifest by digest, put the same bytes under
 * the new tag. No layer moves, nothing is rebuilt. And the digest a tag
 * points at.
 */
import { createHash } from 'node:crypto';
import { MANIFEST_TYPES, refusal, registryFetch, unreachable, type RegistryAccess } from './client.js';
import { parseReference } from './reference.js';

export { RegistryError } from './client.js';

/** Tags `image@digest` as `image:tag`; returns the digest the registry reports for the new tag. Throws a RegistryError when it cannot. */
export async function tagManifest(image: string, digest: string, tag: string, access: RegistryAccess): Promise<string> {
  const { registry, repository } = parseReference(image);
  const path = `${repository}/manifests/`;
  const signal = AbortSignal.timeout(30_000);
  const got = await registryFetch(registry, path + digest, { headers: { accept: MANIFEST_TYPES }, signal }, access);
  if (!got.ok) {
    await got.body?.cancel();
    throw refusal(registry, got, `${image}@${digest}`);
  }
  let body: ArrayBuffer;
  try {
    body = await got.arrayBuffer();
  } catch (err) {
    throw unreachable(registry, err, signal);
  }
  const type = got.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json';
  const put = await registryFetch(registry, path + tag, { method: 'PUT', headers: { 'content-type': type }, body, signal: AbortSignal.timeout(30_000) }, access);
  await put.body?.cancel();
  if (put.status !== 201) throw refusal(registry, put, `tag ${tag} of ${image}`);
  return put.headers.get('docker-content-digest') ?? digest;
}

/**
 * The digest a tag points at; undefined when the registry answers that it
 * does not have it (404). A registry that cannot be reached, does not answer
 * in time, or refuses (401, 403, 5xx) throws a RegistryError: "could not
 * ask" is not "absent".
 */
export async function resolveDigest(ref: string, access: RegistryAccess): Promise<string | undefined> {
  const image = parseReference(ref);
  if (image.digest) return image.digest;
  const path = `${image.repository}/manifests/${image.tag ?? 'latest'}`;
  const signal = AbortSignal.timeout(5000);
  const res = await registryFetch(image.registry, path, { method: 'HEAD', headers: { accept: MANIFEST_TYPES }, signal }, access);
  if (res.status === 404) return undefined;
  if (!res.ok) throw refusal(image.registry, res, ref);
  const digest = res.headers.get('docker-content-digest');
  if (digest) return digest;
  // A registry that leaves the header off a HEAD: the digest is the manifest's bytes hashed.
  const got = await registryFetch(image.registry, path, { headers: { accept: MANIFEST_TYPES }, signal }, access);
  if (got.status === 404) {
    await got.body?.cancel();
    return undefined;
  }
  if (!got.ok) {
    await got.body?.cancel();
    throw refusal(image.registry, got, ref);
  }
  try {
    return got.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(Buffer.from(await got.arrayBuffer())).digest('hex')}`;
  } catch (err) {
    throw unreachable(image.registry, err, signal);
  }
}
