/**
 * One parser per ecosystem: a metadata file's text → package records. Each
 * takes the file's path too, which is where its records say they came from.
 * Input is the image's, so hostile: fields are read, never evaluated, and a
 * record lacking a name or version is left out rather than guessed.
 */
import type { InstalledPackage } from './model.js';

/** RFC 822-style paragraphs (dpkg, DESCRIPTION, METADATA headers): field → value, continuation lines joined. */
export function paragraphs(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (cur.size) out.push(cur);
      cur = new Map();
      last = undefined;
    } else if (/^[ \t]/.test(line)) {
      if (last !== undefined) cur.set(last, `${cur.get(last)}\n${line.trim()}`);
    } else {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      // The first of a repeated field counts (METADATA repeats Classifier and the like, never Name).
      if (!cur.has(last)) cur.set(last, line.slice(colon + 1).trim());
      else last = undefined;
    }
  }
  if (cur.size) out.push(cur);
  return out;
}

/** `/var/lib/dpkg/status` (Status must say installed) and distroless `status.d/*` files. */
export function parseDpkg(text: string, path: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const p of paragraphs(text)) {
    const name = p.get('package');
    const version = p.get('version');
    const status = p.get('status');
    // status.d files have no Status field: each is one installed package.
    if (!name || !version || (status !== undefined && !/\binstalled$/.test(status))) continue;
    const arch = p.get('architecture');
    out.push({ ecosystem: 'deb', name, version, ...(arch ? { arch } : {}), path });
  }
  return out;
}

/** `/lib/apk/db/installed`: `P:` name, `V:` version, `A:` architecture, records between blank lines. */
export function parseApk(text: string, path: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const block of text.replace(/\r\n?/g, '\n').split(/\n\s*\n/)) {
    const field = (k: string) => block.split('\n').find((l) => l.startsWith(`${k}:`))?.slice(2).trim();
    const name = field('P');
    const version = field('V');
    const arch = field('A');
    if (name && version) out.push({ ecosystem: 'apk', name, version, ...(arch ? { arch } : {}), path });
  }
  return out;
}

/** `*.dist-info/METADATA`, `*.egg-info/PKG-INFO` or an `*.egg-info` file: the header block's Name and Version. */
export function parsePythonMetadata(text: string, path: string): InstalledPackage[] {
  const head = paragraphs(text.split(/\r?\n\r?\n/, 1)[0] ?? '')[0];
  const name = head?.get('name');
  const version = head?.get('version');
  return name && version ? [{ ecosystem: 'pypi', name, version, path }] : [];
}

/** `conda-meta/<name>-<version>-<build>.json`: name, version, build and subdir as conda wrote them. */
export function parseCondaMeta(text: string, path: string): InstalledPackage[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [];
  }
  const o = (v ?? {}) as { name?: unknown; version?: unknown; subdir?: unknown };
  if (typeof o.name !== 'string' || typeof o.version !== 'string' || !o.name || !o.version) return [];
  return [{ ecosystem: 'conda', name: o.name, version: o.version, ...(typeof o.subdir === 'string' && o.subdir ? { arch: o.subdir } : {}), path }];
}

/** An installed R package's `DESCRIPTION`: Package and Version. */
export function parseRDescription(text: string, path: string): InstalledPackage[] {
  const p = paragraphs(text)[0];
  const name = p?.get('package');
  const version = p?.get('version');
  return name && version ? [{ ecosystem: 'cran', name, version, path }] : [];
}
