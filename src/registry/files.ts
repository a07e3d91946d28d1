/**
 * One file out of an image in a registry, without pulling it: the
 * manifest's layers are read top down (each a tar, usually gzipped) until
 * one holds the path or a whiteout hides it. Used for /etc/passwd, to turn
 * a spec's username into the uid a Kubernetes Pod runs as.
 */
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { MANIFEST_TYPES, readJson, refusal, RegistryError, registryFetch, unreachable, type RegistryAccess } from './client.js';
import { parseReference } from './reference.js';

interface Manifest {
  layers?: { digest: string; mediaType: string }[];
  manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
}

/** The file's bytes, or undefined when no layer has it (or the top-most mention deletes it). */
export async function readImageFile(ref: string, path: string, opts: { access: RegistryAccess; platform: string }): Promise<Buffer | undefined> {
  const image = parseReference(ref);
  const signal = AbortSignal.timeout(30_000);
  const get = async (reference: string): Promise<Manifest> => {
    const res = await registryFetch(image.registry, `${image.repository}/manifests/${reference}`, { headers: { accept: MANIFEST_TYPES }, signal }, opts.access);
    if (!res.ok) {
      await res.body?.cancel();
      throw refusal(image.registry, res, `${ref}`);
    }
    return readJson<Manifest>(image.registry, res, `the manifest of ${ref}`, signal);
  };
  let manifest = await get(image.digest ?? image.tag!);
  if (manifest.manifests) {
    const [os, arch] = opts.platform.split('/');
    const entry = manifest.manifests.find((m) => m.platform?.os === os && m.platform?.architecture === arch);
    if (!entry) return undefined;
    manifest = await get(entry.digest);
  }
  const wanted = path.replace(/^\/+/, '');
  const slash = wanted.lastIndexOf('/');
  const whiteout = `${wanted.slice(0, slash + 1)}.wh.${wanted.slice(slash + 1)}`;
  for (const layer of [...(manifest.layers ?? [])].reverse()) {
    // Each layer gets its own time: a big one above the file should not starve the rest.
    const res = await registryFetch(image.registry, `${image.repository}/blobs/${layer.digest}`, { signal: AbortSignal.timeout(120_000) }, opts.access);
    if (!res.ok || !res.body) throw refusal(image.registry, res, `layer ${layer.digest} of ${ref}`);
    const raw = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    const tar = /gzip/.test(layer.mediaType) ? raw.pipe(createGunzip()) : raw;
    // pipe() does not pass errors on: a dropped connection must end the read, not the process.
    if (tar !== raw) raw.once('error', (err) => tar.destroy(err));
    let found: { name: string; bytes: Buffer } | undefined;
    try {
      found = await findInTar(tar, (name) => name === wanted || name === whiteout);
    } catch (err) {
      // A layer that is not gzip is a bad answer; a dropped download is the registry not answering.
      if (/^Z_/.test(String((err as { code?: unknown }).code ?? ''))) throw new RegistryError(image.registry, 'registry-bad-answer', `layer ${layer.digest} of ${ref} does not decompress`, { cause: err });
      throw unreachable(image.registry, err);
    }
    if (found) return found.name === whiteout ? undefined : found.bytes;
  }
  return undefined;
}

/** Walks a tar stream (ustar, with GNU long names) and returns the first entry `match` accepts; other entries are skipped unbuffered. */
async function findInTar(stream: NodeJS.ReadableStream, match: (name: string) => boolean): Promise<{ name: string; bytes: Buffer } | undefined> {
  let buffered: Buffer = Buffer.alloc(0);
  let longName: string | undefined;
  let entry: { name: string; type: string; size: number; left: number; keep: boolean } | undefined;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    for (;;) {
      if (!entry) {
        if (buffered.length < 512) break;
        const header = buffered.subarray(0, 512);
        if (header.every((b) => b === 0)) return undefined;
        const field = (at: number, len: number) => header.subarray(at, at + len).toString('utf8').replace(/\0.*$/s, '');
        const prefix = field(345, 155);
        const name = (longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100))).replace(/^\.\//, '');
        const type = String.fromCharCode(header[156]!);
        const size = parseInt(field(124, 12).trim() || '0', 8);
        longName = undefined;
        entry = { name, type, size, left: Math.ceil(size / 512) * 512, keep: type === 'L' || match(name) };
        buffered = buffered.subarray(512);
      }
      if (!entry.keep) {
        const n = Math.min(entry.left, buffered.length);
        buffered = buffered.subarray(n);
        entry.left -= n;
        if (entry.left > 0) break;
        entry = undefined;
        continue;
      }
      if (buffered.length < entry.left) break;
      const bytes = Buffer.from(buffered.subarray(0, entry.size));
      buffered = buffered.subarray(entry.left);
      if (entry.type === 'L') longName = bytes.toString('utf8').replace(/\0.*$/s, '');
      else return { name: entry.name, bytes };
      entry = undefined;
    }
  }
  return undefined;
}

/** `name:x:uid:gid:…` lines → the user's ids. */
export function passwdEntry(passwd: string, username: string): { uid: number; gid: number } | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === username && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}
