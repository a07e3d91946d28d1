/**
 * Image references normalised the way docker does (docker/distribution
 * `reference.ParseNormalizedNamed`, then `TagNameOnly`): `ubuntu:noble`,
 * `library/ubuntu:noble`, `docker.io/library/ubuntu:noble` and
 * `index.docker.io/library/ubuntu:noble` all name one image. Pure: the one
 * rule both the layer check (matching `imageLayers` keys) and the registry
 * client (which host to ask) use.
 */

/** Docker Hub's name in a normalised reference (the registry client asks `registry-1.docker.io`). */
export const DOCKER_HUB_DOMAIN = 'docker.io';
const LEGACY_HUB_DOMAIN = 'index.docker.io';

export interface ReferenceParts {
  /** Registry host[:port], lower-cased; `docker.io` for Docker Hub. */
  domain: string;
  /** Repository path, e.g. `library/ubuntu`. */
  path: string;
  /** `latest` when the reference names neither a tag nor a digest. */
  tag?: string;
  digest?: string;
}

/**
 * docker's `splitDockerDomain`: the first path component is a host only when
 * it has a `.` or `:`, is `localhost`, or has upper case (repository paths
 * may not); otherwise the image is on Docker Hub, and a one-component Hub
 * path is under `library/`.
 */
export function splitReference(ref: string): ReferenceParts {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let domain = DOCKER_HUB_DOMAIN;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first)) {
    domain = first.toLowerCase();
    if (domain === LEGACY_HUB_DOMAIN) domain = DOCKER_HUB_DOMAIN;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  // A tag follows the last path component (a host's port was split off above).
  const colon = rest.lastIndexOf(':');
  if (colon !== -1 && colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (domain === DOCKER_HUB_DOMAIN && !rest.includes('/')) rest = `library/${rest}`;
  const out: ReferenceParts = { domain, path: rest };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  if (tag === undefined && digest === undefined) out.tag = 'latest';
  return out;
}

/** `ubuntu:noble` → `docker.io/library/ubuntu:noble`; `reg.example/img` → `reg.example/img:latest`; digests kept. */
export function normaliseReference(ref: string): string {
  const { domain, path, tag, digest } = splitReference(ref);
  return `${domain}/${path}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@${digest}` : ''}`;
}
