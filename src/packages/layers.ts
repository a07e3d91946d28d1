/**
 * An image's file system as its layers leave it, for the few metadata files
 * envctl reads: layers applied lowest first, where a `.wh.NAME` entry deletes
 * NAME (and all below it) from the layers underneath and `.wh..wh..opq` makes
 * its directory opaque (everything the lower layers had in it is gone). The
 * entries of one layer never hide each other (image-spec: whiteouts apply to
 * lower layers only). Paths are normalised and refused when they climb out of
 * the root; links are never followed (a link is not a metadata file).
 */

/** One tar entry worth keeping: a regular file's text, or a whiteout (by name only). */
export interface LayerEntry {
  path: string;
  kind: 'file' | 'whiteout' | 'opaque' | 'other';
  text?: string;
}

/** `./a//b/` → `a/b`; undefined for a path with `..` or nothing in it. */
export function cleanPath(path: string): string | undefined {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return undefined;
  return parts.join('/');
}

/** A tar entry's name and type → what it means for the merge. */
export function classify(name: string, type: 'file' | 'other'): Omit<LayerEntry, 'text'> | undefined {
  const path = cleanPath(name);
  if (path === undefined) return undefined;
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  if (base === '.wh..wh..opq') return { path: dir.replace(/\/$/, ''), kind: 'opaque' };
  if (base.startsWith('.wh.')) return { path: dir + base.slice(4), kind: 'whiteout' };
  return { path, kind: type };
}

/** Layers lowest first → the files left at the top, path → text. */
export function mergeLayers(layers: readonly (readonly LayerEntry[])[]): Map<string, string> {
  let files = new Map<string, string>();
  for (const layer of layers) {
    const gone = layer.filter((e) => e.kind !== 'file');
    if (gone.length) {
      const hidden = (path: string) => gone.some((e) => {
        if (e.kind === 'opaque') return e.path === '' || path.startsWith(`${e.path}/`);
        if (e.kind === 'whiteout') return path === e.path || path.startsWith(`${e.path}/`);
        // A link or other non-file at the same path replaces the file (a directory there merges instead, and is not passed).
        return path === e.path;
      });
      const next = new Map<string, string>();
      for (const [path, text] of files) if (!hidden(path)) next.set(path, text);
      files = next;
    }
    for (const e of layer) if (e.kind === 'file') files.set(e.path, e.text ?? '');
  }
  return files;
}
