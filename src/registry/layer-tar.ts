/**
 * One layer blob → the entries the package reader keeps, shared by the
 * registry and OCI layout readers (layers.ts): the bytes decompressed as the
 * first ones say (gzip, zstd, or a plain tar), walked with tar-stream (pax
 * headers and GNU long names), only metadata files (packages/ metadataKind),
 * os-release and whiteouts kept, each within METADATA_LIMITS and all of an
 * image's within TOTAL_METADATA_LIMIT; everything else streams past unheld.
 * The blob is hashed on the way and must match its digest.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import * as zlib from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { EnvctlError } from '../model/errors.js';
import { classify, metadataKind, METADATA_LIMITS, TOTAL_METADATA_LIMIT, type LayerEntry } from '../packages/index.js';

/**
 * The image's package metadata is larger than envctl reads (one file past its
 * METADATA_LIMITS entry, or all of them past TOTAL_METADATA_LIMIT): refused
 * rather than held in memory. External: whoever wrote the image made it so;
 * `host` is `image <reference>`.
 */
export class MetadataTooLarge extends EnvctlError {
  constructor(image: string, what: string, limit: number) {
    super('external', 'image-metadata-too-large', `${what} is larger than the ${limit} bytes envctl reads`, { host: `image ${image}`, data: { image, limit } });
  }
}

/** A layer compressed in a way this Node cannot undo (zstd before Node 22.15). */
export class LayerCompressionUnsupported extends EnvctlError {
  constructor(image: string, digest: string, compression: string) {
    super('external', 'layer-compression-unsupported', `layer ${digest} is ${compression}-compressed, which this Node ${process.version} cannot decompress`, {
      host: `image ${image}`, data: { image, digest, compression }, hint: 'Node 22.15 or later reads zstd layers',
    });
  }
}

/** Files kept beside the package metadata: the distribution's name, for package URLs. */
export const EXTRA_FILES: ReadonlyMap<string, number> = new Map([['etc/os-release', 64 << 10], ['usr/lib/os-release', 64 << 10]]);

/** Where a layer's reading failed: the bytes arriving, decompressing them, reading the tar, or their digest. */
export class LayerFault extends Error {
  constructor(readonly stage: 'source' | 'decode' | 'tar' | 'digest', readonly err: unknown) {
    super(stage === 'digest' ? 'digest mismatch' : String((err as Error)?.message ?? err));
  }
}

/** The room left for metadata of one image, shared by its layers. */
export interface Budget {
  image: string;
  left: number;
}

type Decompressor = (opts: zlib.ZlibOptions) => NodeJS.ReadWriteStream & Readable;

/** The decompressor for a blob by its magic bytes (media types are not always right about it); undefined for a plain tar. */
function decompressorFor(head: Buffer, image: string, digest = 'of local files'): Decompressor | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) return zlib.createGunzip as unknown as Decompressor;
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
    const zstd = (zlib as unknown as { createZstdDecompress?: Decompressor }).createZstdDecompress;
    if (!zstd) throw new LayerCompressionUnsupported(image, digest, 'zstd');
    return zstd;
  }
  return undefined;
}

/**
 * Tar entry names that may matter, told cheaply before a name is cleaned and
 * classified (most of a layer's entries are neither metadata nor whiteouts):
 * every path metadataKind and EXTRA_FILES accept, and whiteouts, contain one
 * of these, and so does any name that cleaning could change (`//`, `/./`).
 */
const MAYBE = /status|installed|-info|conda-meta|DESCRIPTION|os-release|\.wh\.|\/\/|\/\.\//;

/** Resolves once `stream` may take more (`drain`), or has ended or failed (the caller sees why elsewhere). */
function drained(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/**
 * One layer blob (its bytes as they arrive) → the entries the package reader
 * keeps, in the layer's order: metadata files with their text, whiteouts
 * and opaque markers, and non-files at a metadata path (they replace a lower
 * file). The bytes are written on to the decompressor (told by the first
 * ones) and the tar reader as they can take them, hashed on the way, and
 * must match `digest`; skipped entries stream past unheld. Without a
 * digest (a tar made here of a local image's files) nothing is hashed.
 */
export async function layerEntries(blob: AsyncIterable<Uint8Array>, digest: string | undefined, budget: Budget): Promise<LayerEntry[]> {
  const [algorithm, hex] = (digest?.split(':') ?? []) as [string?, string?];
  const hash: Hash | undefined = algorithm ? createHash(algorithm) : undefined;
  const extract = tarExtract();
  let decompress: (NodeJS.ReadWriteStream & Readable) | undefined;
  let fault: EnvctlError | LayerFault | undefined;
  const fail = (err: EnvctlError | LayerFault) => {
    fault ??= err;
    extract.destroy(fault);
    decompress?.destroy();
  };
  const source = blob[Symbol.asyncIterator]();
  let ended = false;
  const pump = (async () => {
    let sink: Writable | undefined;
    try {
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await source.next();
        } catch (err) {
          throw new LayerFault('source', err);
        }
        if (next.done) break;
        if (fault) {
          // The reading stopped (a fault, metadata past its limit): let the rest of the blob go.
          await source.return?.().catch(() => undefined);
          return;
        }
        const chunk = next.value;
        hash?.update(chunk);
        if (!sink) {
          const make = decompressorFor(Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.byteLength, 4)), budget.image, digest);
          decompress = make?.({ chunkSize: 512 << 10 });
          if (decompress) {
            decompress.on('error', (err) => fail(new LayerFault('decode', err)));
            decompress.pipe(extract);
          }
          sink = (decompress ?? extract) as unknown as Writable;
        }
        if (!sink.write(chunk)) await drained(sink);
      }
      ended = true;
      (sink ?? (extract as unknown as Writable)).end();
    } catch (err) {
      fail(err instanceof LayerFault || err instanceof EnvctlError ? err : new LayerFault('source', err));
    }
  })();
  const out: LayerEntry[] = [];
  try {
    for await (const entry of extract) {
      const h = entry.header;
      if (h.type === 'directory' || !MAYBE.test(h.name)) {
        entry.resume(); // streamed past, never held (an entry must be read to its end: the tar reader has no seek)
        continue;
      }
      const isFile = h.type === 'file' || h.type === 'contiguous-file';
      const c = classify(h.name, isFile ? 'file' : 'other');
      const kind = c?.kind === 'file' || c?.kind === 'other' ? metadataKind(c.path) : undefined;
      const extra = c?.kind === 'file' ? EXTRA_FILES.get(c.path) : undefined;
      if (!c || (c.kind === 'other' && !kind) || (c.kind === 'file' && !kind && extra === undefined)) {
        entry.resume();
        continue;
      }
      if (c.kind !== 'file') {
        out.push(c);
        entry.resume();
        continue;
      }
      const limit = kind ? METADATA_LIMITS[kind] : { bytes: extra!, truncate: true };
      const size = h.size ?? 0;
      if (size > limit.bytes && !limit.truncate) throw new MetadataTooLarge(budget.image, `${c.path} (${size} bytes${digest ? `, in layer ${digest}` : ''})`, limit.bytes);
      const want = Math.min(size, limit.bytes);
      if (want > budget.left) throw new MetadataTooLarge(budget.image, 'its package metadata, all together,', TOTAL_METADATA_LIMIT);
      budget.left -= want;
      const parts: Buffer[] = [];
      let got = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        if (got >= want) continue;
        const part = chunk.length > want - got ? chunk.subarray(0, want - got) : chunk;
        parts.push(part);
        got += part.length;
      }
      out.push({ ...c, text: Buffer.concat(parts).toString('utf8') });
    }
  } catch (err) {
    fail(fault ?? (err instanceof EnvctlError ? err : new LayerFault('tar', err)));
  }
  await pump;
  if (fault) throw fault;
  // The tar reader ends once every byte was written to it, so the blob has ended and been hashed whole.
  if (!ended) throw new LayerFault('tar', new Error('the tar ended before its layer did'));
  if (hash && hash.digest('hex') !== hex) throw new LayerFault('digest', undefined);
  return out;
}
