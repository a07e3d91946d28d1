import { DOCKER_HUB_DOMAIN, splitReference } from '../model/reference.js';

/** Image references, split the way the distribution spec and docker name them. */
export interface ImageReference {
  /** Registry host[:port], e.g. `ghcr.io`, `127.0.0.1:5115`, `registry-1.docker.io`. */
  registry: string;
  /** Repository path, e.g. `library/debian`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Docker Hub's API host: normalised references say `docker.io`, its registry answers here. */
const DOCKER_HUB = 'registry-1.docker.io';

/** The one normalisation rule (model/reference.ts), with Docker Hub named by the host to ask. */
export function parseReference(ref: string): ImageReference {
  const { domain, path, tag, digest } = splitReference(ref);
  const out: ImageReference = { registry: domain === DOCKER_HUB_DOMAIN ? DOCKER_HUB : domain, repository: path };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

export function isLoopback(registry: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(registry);
}
