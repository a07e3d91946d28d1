/**
 * Which files of an image hold package metadata, and the packages in them:
 * the merged file list (layers.ts) → sorted package records. The registry
 * reader asks `metadataKind` of every tar entry so it keeps only these
 * files, each bounded by `METADATA_LIMITS`, and never buffers a layer.
 */
import { mergeLayers, type LayerEntry } from './layers.js';
import { comparePackages, ECOSYSTEMS, type Ecosystem, type InstalledPackage } from './model.js';
import { parseApk, parseCondaMeta, parseDpkg, parsePythonMetadata, parseRDescription } from './parsers.js';

export type MetadataKind = 'dpkg' | 'apk' | 'python' | 'conda' | 'r';

/**
 * Bytes read of one metadata file. dpkg's and apk's databases hold every
 * package, so they get room; METADATA keeps its headers first, so its start
 * is enough (`truncate`); a conda record lists the package's files and must
 * parse as JSON whole.
 */
export const METADATA_LIMITS: Record<MetadataKind, { bytes: number; truncate: boolean }> = {
  dpkg: { bytes: 64 << 20, truncate: false },
  apk: { bytes: 64 << 20, truncate: false },
  python: { bytes: 256 << 10, truncate: true },
  conda: { bytes: 32 << 20, truncate: false },
  r: { bytes: 256 << 10, truncate: true },
};

/** All metadata kept from one image, together: past it the image is refused rather than read further. */
export const TOTAL_METADATA_LIMIT = 512 << 20;

/** The kind of metadata file at a (clean, root-relative) path, or undefined for any other file. */
export function metadataKind(path: string): MetadataKind | undefined {
  if (path === 'var/lib/dpkg/status' || /^var\/lib\/dpkg\/status\.d\/[^/]+$/.test(path)) {
    // status.d also holds `<pkg>.md5sums` beside each package's control file.
    return path.endsWith('.md5sums') ? undefined : 'dpkg';
  }
  if (path === 'lib/apk/db/installed') return 'apk';
  if (/(^|\/)[^/]+\.dist-info\/METADATA$/.test(path) || /(^|\/)[^/]+\.egg-info\/PKG-INFO$/.test(path) || /(^|\/)(site|dist)-packages\/[^/]+\.egg-info$/.test(path)) return 'python';
  if (/(^|\/)conda-meta\/[^/]+\.json$/.test(path)) return 'conda';
  // An R library: a folder named library or site-library (R's own, site, conda's, rocker's), one folder per package.
  if (/(^|\/)(library|site-library)\/[^/]+\/DESCRIPTION$/.test(path)) return 'r';
  return undefined;
}

const PARSERS: Record<MetadataKind, (text: string, path: string) => InstalledPackage[]> = {
  dpkg: parseDpkg, apk: parseApk, python: parsePythonMetadata, conda: parseCondaMeta, r: parseRDescription,
};

/** Merged metadata files → the image's packages, sorted, each (ecosystem, name, version, arch) once. */
export function packagesOf(files: ReadonlyMap<string, string>): InstalledPackage[] {
  const out = new Map<string, InstalledPackage>();
  for (const [path, text] of files) {
    const kind = metadataKind(path);
    if (!kind) continue;
    for (const p of PARSERS[kind](text, path)) {
      const key = JSON.stringify([p.ecosystem, p.name, p.version, p.arch ?? '']);
      if (!out.has(key)) out.set(key, p);
    }
  }
  return [...out.values()].sort(comparePackages);
}

/** Layers lowest first → the packages at the top. */
export function packagesOfLayers(layers: readonly (readonly LayerEntry[])[]): InstalledPackage[] {
  return packagesOf(mergeLayers(layers));
}

export interface PackageChange {
  name: string;
  from: string;
  to: string;
}

export interface EcosystemDiff {
  ecosystem: Ecosystem;
  added: { name: string; version: string }[];
  removed: { name: string; version: string }[];
  changed: PackageChange[];
}

/**
 * Packages of A → packages of B, per ecosystem with any difference. A name
 * is one package per ecosystem (pip's names compared normalised, as pip
 * compares them); several versions of one name are joined with `, `.
 */
export function diffPackages(a: readonly InstalledPackage[], b: readonly InstalledPackage[]): EcosystemDiff[] {
  const out: EcosystemDiff[] = [];
  for (const ecosystem of ECOSYSTEMS) {
    const index = (list: readonly InstalledPackage[]) => {
      const m = new Map<string, { name: string; versions: string[] }>();
      for (const p of list) {
        if (p.ecosystem !== ecosystem) continue;
        const key = ecosystem === 'pypi' ? normalisePypi(p.name) : p.name;
        const e = m.get(key) ?? { name: p.name, versions: [] };
        if (!e.versions.includes(p.version)) e.versions.push(p.version);
        m.set(key, e);
      }
      return m;
    };
    const [x, y] = [index(a), index(b)];
    const d: EcosystemDiff = { ecosystem, added: [], removed: [], changed: [] };
    const version = (e: { versions: string[] }) => [...e.versions].sort().join(', ');
    for (const [k, e] of x) {
      const f = y.get(k);
      if (!f) d.removed.push({ name: e.name, version: version(e) });
      else if (version(e) !== version(f)) d.changed.push({ name: f.name, from: version(e), to: version(f) });
    }
    for (const [k, e] of y) if (!x.has(k)) d.added.push({ name: e.name, version: version(e) });
    const byName = (p: { name: string }, q: { name: string }) => (p.name < q.name ? -1 : p.name > q.name ? 1 : 0);
    d.added.sort(byName);
    d.removed.sort(byName);
    d.changed.sort(byName);
    if (d.added.length || d.removed.length || d.changed.length) out.push(d);
  }
  return out;
}

/** PEP 503: runs of `-`, `_`, `.` are one `-`, lower case. */
export function normalisePypi(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

export { countPackages, comparePackages, ECOSYSTEMS, type Ecosystem, type InstalledPackage, type PackageCounts } from './model.js';
export { classify, cleanPath, mergeLayers, type LayerEntry } from './layers.js';
