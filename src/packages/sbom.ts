/**
 * The CycloneDX JSON SBOM of an image's packages, built with the CycloneDX
 * library's model and serialiser (spec 1.6), each package with its package
 * URL; and the way back, an SBOM (from a registry, so hostile) → package
 * records, for listing and diffing images whose SBOM is already pushed.
 */
import * as CDX from '@cyclonedx/cyclonedx-library';
import { comparePackages, countPackages, ECOSYSTEMS, type Ecosystem, type InstalledPackage, type PackageCounts } from './model.js';
import { normalisePypi } from './index.js';

export const SBOM_MEDIA_TYPE = 'application/vnd.cyclonedx+json';

/** `/etc/os-release`'s ID, for the deb purl's namespace (`pkg:deb/ubuntu/…`). */
export function osId(text: string | undefined): string | undefined {
  const m = /^ID=("?)([a-z0-9._-]+)\1\s*$/m.exec(text ?? '');
  return m?.[2];
}

// purl-spec: name and version percent-encoded; only the unreserved characters left as they are.
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A package's purl: `pkg:deb/debian/curl@7.88.1-10?arch=amd64`, `pkg:pypi/scikit-learn@1.5.0`, `pkg:conda/numpy@1.26.4?subdir=linux-64`, `pkg:cran/ggplot2@3.5.1`. */
export function purlOf(p: InstalledPackage, distro?: string): string {
  const v = `@${enc(p.version)}`;
  switch (p.ecosystem) {
    case 'deb': return `pkg:deb/${enc(distro === 'ubuntu' ? 'ubuntu' : 'debian')}/${enc(p.name)}${v}${p.arch ? `?arch=${enc(p.arch)}` : ''}`;
    case 'apk': return `pkg:apk/alpine/${enc(p.name.toLowerCase())}${v}${p.arch ? `?arch=${enc(p.arch)}` : ''}`;
    case 'pypi': return `pkg:pypi/${enc(normalisePypi(p.name))}${v}`;
    case 'conda': return `pkg:conda/${enc(p.name)}${v}${p.arch ? `?subdir=${enc(p.arch)}` : ''}`;
    case 'cran': return `pkg:cran/${enc(p.name)}${v}`;
  }
}

export interface SbomSubject {
  /** `registry/repository` of the image. */
  image: string;
  /** Its manifest digest. */
  digest: string;
  distro?: string;
  /** ISO time for the document's metadata; given, so the same image gives the same bytes in tests. */
  timestamp?: string;
}

/** Packages → the SBOM document's text (JSON). */
export function buildSbom(packages: readonly InstalledPackage[], subject: SbomSubject): string {
  const bom = new CDX.Models.Bom();
  bom.metadata.component = new CDX.Models.Component(CDX.Enums.ComponentType.Container, subject.image, { version: subject.digest });
  if (subject.timestamp) bom.metadata.timestamp = new Date(subject.timestamp);
  bom.metadata.tools.components.add(new CDX.Models.Component(CDX.Enums.ComponentType.Application, 'envctl'));
  const seen = new Set<string>();
  for (const p of [...packages].sort(comparePackages)) {
    const purl = purlOf(p, subject.distro);
    // bom-refs are unique in a document: one package found at two paths (two Python prefixes) gets the path added.
    const ref = seen.has(purl) ? `${purl}#${p.path}` : purl;
    seen.add(ref);
    const c = new CDX.Models.Component(CDX.Enums.ComponentType.Library, p.name, { version: p.version, purl, bomRef: ref });
    c.properties.add(new CDX.Models.Property('envctl:ecosystem', p.ecosystem));
    c.properties.add(new CDX.Models.Property('envctl:path', p.path));
    if (p.arch) c.properties.add(new CDX.Models.Property('envctl:arch', p.arch));
    bom.components.add(c);
  }
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  return serializer.serialize(bom, { sortLists: true, space: 2 });
}

/** An SBOM's text → its packages (those envctl wrote: a component with an envctl ecosystem); undefined when it is no CycloneDX JSON. */
export function packagesFromSbom(text: string): InstalledPackage[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const d = doc as { bomFormat?: unknown; components?: unknown };
  if (d?.bomFormat !== 'CycloneDX') return undefined;
  const out: InstalledPackage[] = [];
  for (const c of Array.isArray(d.components) ? d.components as unknown[] : []) {
    const o = (c ?? {}) as { name?: unknown; version?: unknown; properties?: unknown };
    const props = new Map<string, string>();
    for (const p of Array.isArray(o.properties) ? o.properties as unknown[] : []) {
      const q = (p ?? {}) as { name?: unknown; value?: unknown };
      if (typeof q.name === 'string' && typeof q.value === 'string') props.set(q.name, q.value);
    }
    const ecosystem = props.get('envctl:ecosystem') as Ecosystem | undefined;
    if (!ecosystem || !ECOSYSTEMS.includes(ecosystem) || typeof o.name !== 'string' || typeof o.version !== 'string') continue;
    const arch = props.get('envctl:arch');
    out.push({ ecosystem, name: o.name, version: o.version, ...(arch ? { arch } : {}), path: props.get('envctl:path') ?? '' });
  }
  return out.sort(comparePackages);
}

export function sbomCounts(packages: readonly InstalledPackage[]): PackageCounts {
  return countPackages(packages);
}
