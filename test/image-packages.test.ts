/**
 * Reading an image's packages from its layers, against an OCI registry
 * stand-in on loopback and an OCI layout folder: the whiteout-aware merge
 * across real tar layers (pax long names, files skipped unbuffered), an
 * index followed to the platform, the limits, and every way a layer can be
 * wrong (not gzip, not the bytes its digest names).
 */
import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { RegistryError } from '../src/registry/client.js';
import { MetadataTooLarge, readImagePackages, readLayoutPackages } from '../src/registry/layers.js';
import { EnvctlError } from '../src/model/errors.js';
import { makeTar, OCI_INDEX, OCI_LAYER, OciRegistry, sha256 } from './fixtures/oci-registry.js';
import { removeDir, tempDir } from './helpers.js';

const DPKG = (...pkgs: [string, string][]) => pkgs.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\n`).join('\n');
const METADATA = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n\nlong description\n`;
const SITE = 'usr/local/lib/python3.11/site-packages';
const access = { insecure: [] };
const platform = 'linux/amd64';

/** Three layers: a base with dpkg and two pip packages; a whiteout of one of them beside a big file; dpkg's database rewritten. */
async function threeLayers(): Promise<Buffer[]> {
  const long = `${SITE}/${'a_package_with_a_rather_long_name_that_needs_a_pax_header'.repeat(2)}-1.0.dist-info/METADATA`;
  return [
    await makeTar([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
      { name: 'usr/lib/os-release', text: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' },
      { name: 'var/lib/dpkg/status', text: DPKG(['libc6', '2.36-9'], ['curl', '7.88.1']) },
      { name: `${SITE}/numpy-1.26.4.dist-info/METADATA`, text: METADATA('numpy', '1.26.4') },
      { name: `${SITE}/six-1.16.0.dist-info/METADATA`, text: METADATA('six', '1.16.0') },
      { name: long, text: METADATA('long', '1.0') },
    ]),
    await makeTar([
      { name: `${SITE}/.wh.six-1.16.0.dist-info`, text: '' },
      { name: 'opt/big.bin', size: 5 << 20 },
    ]),
    await makeTar([{ name: 'var/lib/dpkg/status', text: DPKG(['libc6', '2.36-9'], ['curl', '7.88.1'], ['jq', '1.6-2.1']) }]),
  ];
}

const summary = (r: Awaited<ReturnType<typeof readImagePackages>>) => r?.packages.map((p) => `${p.ecosystem} ${p.name} ${p.version}`);

describe('image packages: read from a registry, layer by layer', () => {
  let registry: OciRegistry;
  before(async () => {
    registry = new OciRegistry();
    await registry.start();
  });
  after(() => registry.stop());

  it('merges the layers in order: whiteouts delete, upper files replace; pax long names are read; the distribution comes from os-release', async () => {
    const subject = registry.image('envctl/a', '1', await threeLayers());
    const got = await readImagePackages(`${registry.address}/envctl/a:1`, { access, platform });
    expect(summary(got)).to.deep.equal([
      'deb curl 7.88.1', 'deb jq 1.6-2.1', 'deb libc6 2.36-9',
      'pypi long 1.0', 'pypi numpy 1.26.4',
    ]);
    expect(got!.distro).to.equal('debian');
    expect(got!.layers).to.equal(3);
    expect(got!.subject).to.deep.equal(subject);
    // By digest the same, and the manifest's bytes are checked against it.
    expect(summary(await readImagePackages(`${registry.address}/envctl/a@${subject.digest}`, { access, platform }))).to.deep.equal(summary(got));
  });

  it('follows an index to the platform\'s manifest; an image or platform the registry lacks is undefined', async () => {
    const amd = registry.image('envctl/multi', 'amd', [await makeTar([{ name: 'var/lib/dpkg/status', text: DPKG(['x-amd', '1']) }])]);
    const arm = registry.image('envctl/multi', 'arm', [await makeTar([{ name: 'var/lib/dpkg/status', text: DPKG(['x-arm', '1']) }])]);
    const index = registry.manifest('envctl/multi', {
      schemaVersion: 2, mediaType: OCI_INDEX,
      manifests: [{ ...arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }, { ...amd, platform: { os: 'linux', architecture: 'amd64' } }],
    }, '1');
    const got = await readImagePackages(`${registry.address}/envctl/multi:1`, { access, platform: 'linux/arm64/v8' });
    expect(summary(got)).to.deep.equal(['deb x-arm 1']);
    expect(got!.subject.digest).to.equal(index.digest);
    expect(got!.subject.mediaType).to.equal(OCI_INDEX);
    expect(await readImagePackages(`${registry.address}/envctl/multi:1`, { access, platform: 'linux/s390x' })).to.equal(undefined);
    expect(await readImagePackages(`${registry.address}/envctl/none:1`, { access, platform })).to.equal(undefined);
  });

  it('reads layers a few at a time, each streamed: many layers, merged in their order', async () => {
    const layers = await Promise.all(Array.from({ length: 12 }, (_, i) => makeTar([
      { name: 'var/lib/dpkg/status', text: DPKG(['step', String(i)]) },
      { name: `opt/filler-${i}`, size: 256 << 10 },
    ])));
    registry.image('envctl/many', '1', layers);
    expect(summary(await readImagePackages(`${registry.address}/envctl/many:1`, { access, platform }))).to.deep.equal(['deb step 11']);
  });

  it('a metadata file past its limit is refused with a typed error, not read into memory; METADATA past its limit is read from its start', async () => {
    registry.image('envctl/huge', '1', [await makeTar([{ name: 'opt/conda/conda-meta/x-1-0.json', size: (32 << 20) + 1 }])]);
    const err = await readImagePackages(`${registry.address}/envctl/huge:1`, { access, platform }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(MetadataTooLarge);
    expect(err).to.include({ kind: 'external', code: 'image-metadata-too-large' });
    registry.image('envctl/long-metadata', '1', [await makeTar([{ name: `${SITE}/x-1.dist-info/METADATA`, text: `${METADATA('x', '1')}${'y'.repeat(1 << 20)}` }])]);
    expect(summary(await readImagePackages(`${registry.address}/envctl/long-metadata:1`, { access, platform }))).to.deep.equal(['pypi x 1']);
  });

  it('a layer that does not decompress, or is not the bytes its digest names, is registry-bad-answer', async () => {
    const good = registry.image('envctl/bad', '1', [await makeTar([{ name: 'var/lib/dpkg/status', text: DPKG(['a', '1']) }])]);
    const layer = (JSON.parse(registry.manifests.get(`envctl/bad@${good.digest}`)!.bytes.toString()) as { layers: { digest: string }[] }).layers[0]!.digest;
    registry.corrupt.set(layer, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(64, 0xff)]));
    const err = await readImagePackages(`${registry.address}/envctl/bad:1`, { access, platform }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RegistryError);
    expect((err as RegistryError).code).to.equal('registry-bad-answer');
    expect((err as RegistryError).message).to.contain('does not decompress');
    registry.corrupt.set(layer, gzipSync(await makeTar([{ name: 'var/lib/dpkg/status', text: DPKG(['evil', '1']) }])));
    const wrong = await readImagePackages(`${registry.address}/envctl/bad:1`, { access, platform }).catch((e: unknown) => e);
    expect((wrong as RegistryError).code).to.equal('registry-bad-answer');
    expect((wrong as RegistryError).message).to.contain('other bytes than its digest');
    registry.corrupt.delete(layer);
  });

  it('a registry that is not there is registry-unreachable', async () => {
    const err = await readImagePackages('127.0.0.1:1/envctl/a:1', { access, platform }).catch((e: unknown) => e);
    expect((err as RegistryError).code).to.equal('registry-unreachable');
  });
});

/** Writes an OCI image layout (oci-layout, index.json, blobs/sha256/…) of these layers, as `buildah push IMAGE oci:DIR` does. */
async function writeLayout(dir: string, layers: Buffer[], name?: string): Promise<string> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Buffer, mediaType: string) => {
    const digest = sha256(bytes);
    await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const config = await put(Buffer.from('{"architecture":"amd64","os":"linux"}'), 'application/vnd.oci.image.config.v1+json');
  const manifest = await put(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config,
    // The first layer uncompressed, as a layout may hold it: told apart by its bytes, not its media type.
    layers: await Promise.all(layers.map((l, i) => put(i === 0 ? l : gzipSync(l), i === 0 ? 'application/vnd.oci.image.layer.v1.tar' : OCI_LAYER))),
  })), 'application/vnd.oci.image.manifest.v1+json');
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, ...(name ? { annotations: { 'org.opencontainers.image.ref.name': name } } : {}) }] }));
  return manifest.digest;
}

describe('image packages: read from an OCI image layout folder', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('envctl-layout-');
  });
  after(() => removeDir(dir));

  it('gives the same packages as the registry reader, uncompressed layers included', async () => {
    const registry = new OciRegistry();
    await registry.start();
    try {
      const layers = await threeLayers();
      registry.image('envctl/a', '1', layers);
      const digest = await writeLayout(join(dir, 'one'), layers, 'latest');
      const fromLayout = await readLayoutPackages(join(dir, 'one'), { platform });
      expect(fromLayout!.packages).to.deep.equal((await readImagePackages(`${registry.address}/envctl/a:1`, { access, platform }))!.packages);
      expect(fromLayout!.subject.digest).to.equal(digest);
      expect(fromLayout!.distro).to.equal('debian');
      expect((await readLayoutPackages(join(dir, 'one'), { platform, name: 'latest' }))!.packages).to.have.length(5);
    } finally {
      await registry.stop();
    }
  });

  it('a folder that is no layout, a missing blob or a name it does not hold is oci-layout-invalid, naming the file', async () => {
    const none = await readLayoutPackages(join(dir, 'nothing'), { platform }).catch((e: unknown) => e);
    expect(none).to.be.instanceOf(EnvctlError);
    expect(none).to.include({ kind: 'input', code: 'oci-layout-invalid' });
    expect((none as EnvctlError).data.path).to.equal(join(dir, 'nothing', 'index.json'));
    const digest = await writeLayout(join(dir, 'two'), [await makeTar([{ name: 'var/lib/dpkg/status', text: DPKG(['a', '1']) }]), await makeTar([])]);
    const manifest = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'two', 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
    await (await import('node:fs/promises')).rm(join(dir, 'two', 'blobs', 'sha256', manifest.layers[1]!.digest.slice(7)));
    const missing = await readLayoutPackages(join(dir, 'two'), { platform }).catch((e: unknown) => e);
    expect(missing).to.include({ code: 'oci-layout-invalid' });
    expect((missing as EnvctlError).message).to.contain('cannot be read (ENOENT)');
    const unnamed = await readLayoutPackages(join(dir, 'two'), { platform, name: 'other' }).catch((e: unknown) => e);
    expect((unnamed as EnvctlError).message).to.contain('holds 0 manifests named "other"');
  });
});
