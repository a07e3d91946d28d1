/**
 * Tagging an image already in a registry under another tag, through the
 * distribution API: read the manifest by digest, put the same bytes under
 * the new tag. No layer moves, nothing is rebuilt.
 */
import { MANIFEST_TYPES, refusal, RegistryError, registryFetch, type RegistryAccess } from './client.js';
import { parseReference } from './reference.js';

export { RegistryError } from './client.js';

/** Tags `image@digest` as `image:tag`; returns the digest the registry reports for the new tag. */
export async function tagManifest(image: string, digest: string, tag: string, access: RegistryAccess): Promise<string> {
  const { registry, repository } = parseReference(image);
  const path = `${repository}/manifests/`;
  let got: Response;
  try {
    got = await registryFetch(registry, path + digest, { headers: { accept: MANIFEST_TYPES }, signal: AbortSignal.timeout(30_000) }, access);
  } catch (err) {
    throw new RegistryError(`registry ${registry} is not reachable: ${(err as Error).message}`);
  }
  if (!got.ok) throw refusal(registry, got, `${image}@${digest}`);
  const body = Buffer.from(await got.arrayBuffer());
  const type = got.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json';
  let put: Response;
  try {
    put = await registryFetch(registry, path + tag, { method: 'PUT', headers: { 'content-type': type }, body, signal: AbortSignal.timeout(30_000) }, access);
  } catch (err) {
    throw new RegistryError(`registry ${registry} is not reachable: ${(err as Error).message}`);
  }
  if (put.status !== 201) throw refusal(registry, put, `tag ${tag} of ${image}`);
  return put.headers.get('docker-content-digest') ?? digest;
}

/** The digest a tag points at, or undefined when the registry does not have it or cannot be reached. */
export async function resolveDigest(ref: string, access: RegistryAccess): Promise<string | undefined> {
  const image = parseReference(ref);
  if (image.digest) return image.digest;
  try {
    const res = await registryFetch(image.registry, `${image.repository}/manifests/${image.tag ?? 'latest'}`, { method: 'HEAD', headers: { accept: MANIFEST_TYPES }, signal: AbortSignal.timeout(5000) }, access);
    return res.ok ? res.headers.get('docker-content-digest') ?? undefined : undefined;
  } catch {
    return undefined;
  }
}
