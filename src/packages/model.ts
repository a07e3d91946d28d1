/**
 * Installed packages as read from an image's metadata files: plain records,
 * one per package, and the ecosystems envctl knows. Every name and version
 * comes from the image, so from whoever wrote its layers: print them only
 * through model/text.ts printable or a Markdown escaper.
 */
export type Ecosystem = 'deb' | 'apk' | 'pypi' | 'conda' | 'cran';

/** Lowest first in every listing; also the purl type of each (`pkg:deb/…`). */
export const ECOSYSTEMS: readonly Ecosystem[] = ['deb', 'apk', 'pypi', 'conda', 'cran'];

export interface InstalledPackage {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  /** Debian/Alpine architecture, or conda's subdir (`linux-64`). */
  arch?: string;
  /** The metadata file it was read from, without a leading slash. */
  path: string;
}

export type PackageCounts = Partial<Record<Ecosystem, number>>;

/** Packages per ecosystem, ecosystems with none left out. */
export function countPackages(packages: readonly InstalledPackage[]): PackageCounts {
  const out: PackageCounts = {};
  for (const e of ECOSYSTEMS) {
    const n = packages.filter((p) => p.ecosystem === e).length;
    if (n > 0) out[e] = n;
  }
  return out;
}

/** Ecosystem, then name, then version, by code unit: the same order on every machine. */
export function comparePackages(a: InstalledPackage, b: InstalledPackage): number {
  const e = ECOSYSTEMS.indexOf(a.ecosystem) - ECOSYSTEMS.indexOf(b.ecosystem);
  if (e !== 0) return e;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : (a.arch ?? '') < (b.arch ?? '') ? -1 : (a.arch ?? '') > (b.arch ?? '') ? 1 : 0;
}
