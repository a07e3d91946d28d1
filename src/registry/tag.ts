/**
 * Tagging an image already in a registry under another tag, through the
 * distribution API: read the manifest by digest, put the same bytes under
 * the new tag. No layer moves, nothing is rebuilt.
 */
import { isLoopback, parseReference } from './reference.js';

const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export class RegistryError extends Error {}

function base(ref: string, insecure: boolean): { url: string; registry: string } {
  const image = parseReference(ref);
  const scheme = insecure || isLoopback(image.registry) ? 'http' : 'https';
  return { url: `${scheme}://${image.registry}/v2/${image.repository}/manifests/`, registry: image.registry };
}

/** Tags `image@digest` as `image:tag`; returns the digest the registry reports for the new tag. */
export async function tagManifest(image: string, digest: string, tag: string, insecure: boolean): Promise<string> {
  const { url, registry } = base(image, insecure);
  let got: Response;
  try {
    got = await fetch(url + digest, { headers: { accept: ACCEPT }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new RegistryError(`registry ${registry} is not reachable: ${(err as Error).message}`);
  }
  if (!got.ok) throw new RegistryError(`registry ${registry} answered ${got.status} for ${image}@${digest}`);
  const body = Buffer.from(await got.arrayBuffer());
  const type = got.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json';
  const put = await fetch(url + tag, { method: 'PUT', headers: { 'content-type': type }, body, signal: AbortSignal.timeout(30_000) });
  if (put.status !== 201) throw new RegistryError(`registry ${registry} refused tag ${tag}: ${put.status} ${await put.text()}`);
  return put.headers.get('docker-content-digest') ?? digest;
}

/** The digest a tag points at, or undefined when the registry does not have it or cannot be reached. */
export async function resolveDigest(ref: string, insecure: boolean): Promise<string | undefined> {
  const image = parseReference(ref);
  if (image.digest) return image.digest;
  const { url } = base(ref, insecure);
  try {
    const res = await fetch(url + (image.tag ?? 'latest'), { method: 'HEAD', headers: { accept: ACCEPT }, signal: AbortSignal.timeout(5000) });
    return res.ok ? res.headers.get('docker-content-digest') ?? undefined : undefined;
  } catch {
    return undefined;
  }
}
