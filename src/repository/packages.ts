/**
 * `envctl packages` and `envctl diff --packages`: what is inside a built
 * revision's image. The image by digest from the ledger (the active
 * revision's, or a given one's); its packages from the SBOM pushed beside
 * it when there is one (one small blob), else read from its layers in the
 * registry (the embedded one started for it if envctl.yaml names it).
 * Names and versions come from whoever wrote the image: print them only
 * through printable. (diff.ts compares two revisions' lists.)
 */
import { readLedger } from '../git/ledger.js';
import { activeRevision, succeededBuild, type BuildRecord } from '../ledger/model.js';
import { notFound } from '../model/errors.js';
import { countPackages, type InstalledPackage, type PackageCounts } from '../packages/index.js';
import { packagesFromSbom } from '../packages/sbom.js';
import { registryAccess, RegistryError, type RegistryAccess } from '../registry/client.js';
import { parseReference } from '../registry/reference.js';
import { withEmbeddedRegistry } from '../registry/embedded.js';
import { readImagePackages } from '../registry/layers.js';
import { findSbom } from '../registry/sbom.js';
import { imageName } from '../render/index.js';
import type { Repository } from './index.js';
import type { Config } from '../model/config.js';

export interface RevisionPackages {
  environment: string;
  revision: number;
  /** The image by digest: `<registry>/<repository>@sha256:…`. */
  image: string;
  /** The platform it was built for (its tag's suffix, else envctl.yaml's). */
  platform: string;
  /** Where the list was read: the SBOM pushed beside the image, or the image's layers. */
  source: 'sbom' | 'layers';
  /** The SBOM artifact's digest, when the list was read from it. */
  sbom?: string;
  /** Compressed bytes of the image, as the ledger recorded them. */
  size?: number;
  counts: PackageCounts;
  packages: InstalledPackage[];
}

/** The packages of `name`'s image at `revision` (default: the active revision). */
export async function revisionPackages(repo: Repository, name: string, revision: number | 'active' = 'active'): Promise<RevisionPackages> {
  return (await packagesAt(repo, name, [revision]))[0]!;
}

/** The packages of `name`'s images at several revisions, read at once (the embedded registry started once for them). */
export async function packagesAt(repo: Repository, name: string, revisions: (number | 'active')[]): Promise<RevisionPackages[]> {
  const { ledger } = await readLedger(repo.root, repo.config.stateBranch);
  const builds = revisions.map((r) => builtAt(ledger.get(name)?.builds ?? [], name, r));
  const access = registryAccess(repo.config);
  return withEmbeddedRegistry(repo.root, repo.config.registry, () => Promise.all(builds.map((b) => packagesOfBuild(repo.config, name, b, access))));
}

/** The succeeded build at a revision, or a not-found error saying there is none to look into. */
function builtAt(builds: BuildRecord[], name: string, revision: number | 'active'): BuildRecord {
  const number = revision === 'active' ? activeRevision(builds) : revision;
  const build = number === null ? undefined : succeededBuild(builds, number);
  if (!build) {
    const what = revision === 'active' ? `${name} has no built revision yet` : `${name} revision ${revision} has no built image`;
    throw notFound('image-unbuilt', what, { data: { name, ...(revision === 'active' ? {} : { revision }) }, hint: 'run envctl sync' });
  }
  return build;
}

/** One succeeded build's packages: from the SBOM beside its image, else its layers (also a review build's comparison, sync/review-build.ts). */
export async function packagesOfBuild(config: Config, name: string, build: BuildRecord, access: RegistryAccess): Promise<RevisionPackages> {
  // The repository the image was pushed to, as recorded (envctl.yaml's registry may have changed since).
  const repository = build.image ? build.image.slice(0, build.image.lastIndexOf(':')) : imageName(config, name);
  const tag = build.image ? build.image.slice(build.image.lastIndexOf(':') + 1) : String(build.revision);
  const platform = tag.startsWith(`${build.revision}-`) ? tag.slice(String(build.revision).length + 1).split('-').join('/') : config.platform;
  const digest = build.digest!;
  const image = `${repository}@${digest}`;
  const base = { environment: name, revision: build.revision, image, platform, ...(build.size !== undefined ? { size: build.size } : {}) };
  const found = await findSbom(repository, digest, access, build.sbom ? { known: build.sbom.digest } : {});
  const fromSbom = found ? packagesFromSbom(found.text) : undefined;
  if (found && fromSbom) return { ...base, source: 'sbom', sbom: found.digest, counts: countPackages(fromSbom), packages: fromSbom };
  const read = await readImagePackages(image, { access, platform });
  if (!read) {
    throw new RegistryError(parseReference(image).registry, 'registry-image-missing', `does not have ${image}, ${name} revision ${build.revision}'s image for ${platform}`, {
      data: { name, revision: build.revision, image }, hint: 'it was deleted from the registry since it was built',
    });
  }
  return { ...base, source: 'layers', counts: countPackages(read.packages), packages: read.packages };
}
