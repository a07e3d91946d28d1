/**
 * The registry reader (registry/layers.ts: what `envctl packages`, the site
 * and docker buildx builds use) against the least any reader of a layer's
 * files must do: download it and gunzip it. Both three layers at once,
 * sampled alternately, from the same local registry. The note gives the
 * bare download too (gunzip alone costs about three times it here; a sync
 * reads a just-built image from local storage instead, which
 * packages-shipped.ts measures against the bare download). The image is made
 * and pushed here through the distribution API: many layers of many files,
 * text and binary mixed so they compress about as real layers do, with
 * dpkg's status, dist-info folders and a whiteout among them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip, gzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { registryFetch, type RegistryAccess } from '../src/registry/client.js';
import { ensureEmbeddedRegistry } from '../src/registry/embedded.js';
import { readImagePackages } from '../src/registry/layers.js';
import type { Result } from './builds.js';
import { freePort } from './lab.js';

const LAYERS = 16;
const FILES_PER_LAYER = 1000;
const access: RegistryAccess = { insecure: [] };
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const WORDS = 'import numpy as np def main return self value data frame index column series array config path file open read write close'.split(' ');

/** Source-like text (deflate makes it about a third) and random bytes (incompressible), 4 MiB of each, made once; files are slices of them. */
const POOL = 4 << 20;
const TEXT = (() => {
  const out: string[] = [];
  let n = 0;
  for (let seed = 1; n < POOL; ) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const w = `${WORDS[seed % WORDS.length]}${seed % 997}${seed % 7 === 0 ? '\n' : ' '}`;
    out.push(w);
    n += w.length;
  }
  return Buffer.from(out.join(''));
})();
const RANDOM = randomBytes(POOL);

/** A file's bytes: text, or one in five random (binaries, compressed data). */
function fileBytes(i: number, size: number): Buffer {
  const pool = i % 5 === 4 ? RANDOM : TEXT;
  const at = (i * 104729) % (POOL - size);
  return pool.subarray(at, at + size);
}

async function tarOf(entries: { name: string; body: Buffer }[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const e of entries) await new Promise<void>((resolve, reject) => p.entry({ name: e.name, size: e.body.length }, e.body, (err) => (err ? reject(err) : resolve())));
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** One layer: its files, and in some layers package metadata. */
async function layer(n: number): Promise<Buffer> {
  const entries: { name: string; body: Buffer }[] = [];
  for (let i = 0; i < FILES_PER_LAYER; i++) {
    // 200 B to 16 KiB, most small, as in /usr (a few larger ones below).
    const size = 200 + (((i * 2654435761 + n * 40503) >>> 0) % (16 << 10)) * ((i % 50 === 0) ? 8 : 1);
    entries.push({ name: `usr/share/bench/layer${n}/dir${i % 40}/file${i}.${i % 5 === 4 ? 'bin' : 'py'}`, body: fileBytes(n * FILES_PER_LAYER + i, size) });
  }
  if (n % 4 === 0) {
    const status = Array.from({ length: 200 + n * 10 }, (_, i) => `Package: pkg${i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${n}.${i}\nDescription: package ${i}\n a longer description line\n`).join('\n');
    entries.push({ name: 'var/lib/dpkg/status', body: Buffer.from(status) });
  }
  for (let i = 0; i < 20; i++) entries.push({ name: `usr/lib/python3/dist-packages/mod${n}_${i}-1.${i}.dist-info/METADATA`, body: Buffer.from(`Metadata-Version: 2.1\nName: mod${n}-${i}\nVersion: 1.${i}\n\n${'x'.repeat(2000)}\n`) });
  if (n === LAYERS - 1) entries.push({ name: 'usr/lib/python3/dist-packages/.wh.mod0_0-1.0.dist-info', body: Buffer.alloc(0) });
  return tarOf(entries);
}

async function push(registry: string, repository: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(bytes);
  const signal = AbortSignal.timeout(60_000);
  const post = await registryFetch(registry, `${repository}/blobs/uploads/`, { method: 'POST', signal }, access);
  await post.body?.cancel();
  const url = new URL(post.headers.get('location')!, `http://${registry}/v2/`);
  url.searchParams.set('digest', digest);
  const put = await registryFetch(registry, `${url.pathname.slice(4)}${url.search}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes), signal }, access);
  await put.body?.cancel();
  if (put.status !== 201) throw new Error(`bench: blob upload answered ${put.status}`);
  return { digest, size: bytes.length };
}

/**
 * Every layer downloaded and thrown away, three at once: the floor. With
 * `inflate`, gunzipped too (and that thrown away): what any reader of a
 * layer's files must do, for the note.
 */
export async function download(registry: string, repository: string, layers: { digest: string }[], inflate = false): Promise<number> {
  let bytes = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < layers.length; i = next++) {
      const res = await registryFetch(registry, `${repository}/blobs/${layers[i]!.digest}`, { signal: AbortSignal.timeout(60_000) }, access);
      const gunzip = inflate ? createGunzip({ chunkSize: 512 << 10 }) : undefined;
      const done = gunzip ? new Promise<void>((resolve, reject) => gunzip.on('data', (c: Buffer) => { bytes += c.length; }).on('end', resolve).on('error', reject)) : undefined;
      for await (const chunk of res.body!) {
        bytes += (chunk as Uint8Array).length;
        if (gunzip && !gunzip.write(chunk)) await new Promise((resolve) => gunzip.once('drain', resolve));
      }
      gunzip?.end();
      await done;
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return bytes;
}

export async function packagesBench(): Promise<Result> {
  const base = await mkdtemp(join(tmpdir(), 'envctl-bench-packages-'));
  const port = await freePort();
  const running = await ensureEmbeddedRegistry(base, port);
  try {
    const registry = `127.0.0.1:${port}`;
    const repository = 'bench/packages';
    const made = process.hrtime.bigint();
    const tars = await Promise.all(Array.from({ length: LAYERS }, (_, n) => layer(n)));
    const blobs = await Promise.all(tars.map((t) => promisify(gzip)(t)));
    const layers: { mediaType: string; digest: string; size: number }[] = [];
    for (const b of blobs) layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await push(registry, repository, b)) });
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: tars.map(sha256) } }));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...(await push(registry, repository, config)) }, layers }));
    const put = await registryFetch(registry, `${repository}/manifests/1`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: new Uint8Array(manifest), signal: AbortSignal.timeout(30_000) }, access);
    await put.body?.cancel();
    if (put.status !== 201) throw new Error(`bench: manifest push answered ${put.status}`);
    const ref = `${registry}/${repository}@${sha256(manifest)}`;
    if (process.env.ENVCTL_BENCH_DEBUG) console.log(`packages bench: image made and pushed in ${(Number(process.hrtime.bigint() - made) / 1e9).toFixed(1)} s`);
    const time = async (fn: () => Promise<unknown>) => {
      (globalThis as { gc?: () => void }).gc?.();
      const t = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - t) / 1e9;
    };
    let found = 0;
    const subject = async () => {
      found = (await readImagePackages(ref, { access, platform: 'linux/amd64' }))!.packages.length;
    };
    const floor = () => download(registry, repository, layers);
    const inflate = () => download(registry, repository, layers, true);
    await subject();
    await floor();
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    // Alternately, so a noisy neighbour slows all three alike.
    for (let i = 0; i < 5; i++) {
      a.push(await time(subject));
      b.push(await time(floor));
      c.push(await time(inflate));
    }
    // The top layer with a dpkg status has the last word on Debian packages; one dist-info is whited out.
    const expected = (200 + Math.floor((LAYERS - 1) / 4) * 4 * 10) + LAYERS * 20 - 1;
    if (found !== expected) throw new Error(`bench: read ${found} packages, expected ${expected}`);
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const mib = (n: number) => (n / (1 << 20)).toFixed(0);
    return {
      name: `read the packages of an image from its layers in the registry (${LAYERS} layers, ${LAYERS * FILES_PER_LAYER} files, ${mib(blobs.reduce((n, x) => n + x.length, 0))} MiB gzipped, ${mib(tars.reduce((n, x) => n + x.length, 0))} MiB of tar)`,
      value: median(a), floor: median(c), goal: 1.5, unit: 'ms',
      note: `floor: its layers downloaded from the same local registry and gunzipped, three at once; against the bare download, ratio ${(median(a) / median(b)).toFixed(2)} (the gunzip alone ${(median(c) / median(b)).toFixed(2)})`,
    };
  } finally {
    await running.stop();
    await rm(base, { recursive: true, force: true });
  }
}
