/**
 * Packages read from buildah's local storage (builder/image-files.ts), with
 * real buildah and a real registry: the same packages the registry reader
 * finds in the pushed layers, on each storage driver that works here, with
 * a package deleted in an upper layer gone; a link pointing out of the image
 * is never followed to the host's files; rootless, as a hosted runner's
 * user, through `buildah unshare`; an image local storage lacks is said as
 * LocalImageUnreadable (the caller reads the registry then). And the names
 * find picks cover every path metadataKind accepts.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIND_EXPRESSION, localImagePackages, LocalImageUnreadable } from '../src/builder/image-files.js';
import { resolveStorage, storageArgs, type StorageDriver } from '../src/builder/storage.js';
import { metadataKind } from '../src/packages/index.js';
import { MetadataTooLarge, readImagePackages } from '../src/registry/layers.js';
import { suiteRegistry } from './fixtures/registry.js';
import { giveToRootless, runRootless } from './fixtures/rootless.js';
import { removeDir, tempDir, writeTree } from './helpers.js';

const DIST = fileURLToPath(new URL('../', import.meta.url));
const access = { insecure: [] };
const platform = 'linux/amd64';
const SITE = 'usr/lib/python3/dist-packages';
const METADATA = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n`;

/** An image's files: every ecosystem once, and a dist-info that is a link to a host folder holding METADATA. */
const ROOT_FILES = {
  'var/lib/dpkg/status': 'Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1\n\nPackage: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36\n',
  [`${SITE}/six-1.16.0.dist-info/METADATA`]: METADATA('six', '1.16.0'),
  [`${SITE}/numpy-1.26.4.dist-info/METADATA`]: METADATA('numpy', '1.26.4'),
  'opt/conda/conda-meta/zlib-1.2.13-0.json': JSON.stringify({ name: 'zlib', version: '1.2.13', subdir: 'linux-64' }),
  'usr/local/lib/R/site-library/ggplot2/DESCRIPTION': 'Package: ggplot2\nVersion: 3.5.0\n',
  'usr/lib/os-release': 'ID=debian\n',
};

const names = (p: { ecosystem: string; name: string }[]) => p.map((x) => `${x.ecosystem}:${x.name}`).sort();

describe('packages from local storage: the unpacked image, no download', function () {
  this.timeout(300_000);
  const lab = suiteRegistry('test/busybox:1');
  let dir: string;
  let hostDir: string;

  before(async () => {
    dir = await tempDir('envctl-image-files-');
    lab.dirs.push(dir);
    // A host folder an image's link points at: reading must never reach it.
    hostDir = join(dir, 'host');
    await writeTree(hostDir, { 'METADATA': METADATA('host-secret', '1') });
    await writeTree(join(dir, 'root'), ROOT_FILES);
    await mkdir(join(dir, 'root', 'etc'), { recursive: true });
    await execa('ln', ['-s', '../usr/lib/os-release', join(dir, 'root', 'etc', 'os-release')]);
    await execa('ln', ['-s', hostDir, join(dir, 'root', SITE, 'evil-1.0.dist-info')]);
  });

  /** Builds img:1 (the files) and img:2 (six deleted in a layer of its own) in `driver`'s storage, pushed; returns their references. */
  async function build(driver: StorageDriver, repository: string): Promise<{ local: string; pushed: string }[]> {
    const B = storageArgs(driver);
    const registry = `127.0.0.1:${lab.port}`;
    const ctr = (await execa('buildah', [...B, 'from', '--tls-verify=false', `${registry}/test/busybox:1`])).stdout.trim();
    await execa('buildah', [...B, 'copy', ctr, `${join(dir, 'root')}/`, '/']);
    await execa('buildah', [...B, 'commit', ctr, `${repository}:1`]);
    const mount = (await execa('buildah', [...B, 'mount', ctr])).stdout.trim();
    await execa('rm', ['-rf', join(mount, SITE, 'six-1.16.0.dist-info')]);
    await execa('buildah', [...B, 'commit', '--rm', ctr, `${repository}:2`]);
    const out: { local: string; pushed: string }[] = [];
    for (const tag of ['1', '2']) {
      const digestFile = join(dir, `digest-${driver}-${tag}`);
      await execa('buildah', [...B, 'push', '--tls-verify=false', '--digestfile', digestFile, `${repository}:${tag}`, `docker://${registry}/envctl/files-${driver}:${tag}`]);
      out.push({ local: `${repository}:${tag}`, pushed: `${registry}/envctl/files-${driver}@${(await readFile(digestFile, 'utf8')).trim()}` });
    }
    return out;
  }

  it('reads what the registry reader reads from the pushed layers, on vfs and on the driver auto picks; the deleted package is gone', async () => {
    const drivers = [...new Set<StorageDriver>(['vfs', (await resolveStorage('auto')).driver])];
    for (const driver of drivers) {
      const [one, two] = await build(driver, `localhost/envctl-image-files/img-${driver}`);
      for (const image of [one!, two!]) {
        const local = await localImagePackages(image.local, { storage: driver });
        const registry = (await readImagePackages(image.pushed, { access, platform }))!;
        expect(local.packages, `${driver} ${image.local}`).to.deep.equal(registry.packages);
        expect(local.distro).to.equal('debian');
      }
      const two2 = await localImagePackages(two!.local, { storage: driver });
      expect(names(two2.packages), driver).to.deep.equal(['conda:zlib', 'cran:ggplot2', 'deb:curl', 'deb:libc6', 'pypi:numpy']);
      const one1 = await localImagePackages(one!.local, { storage: driver });
      expect(names(one1.packages)).to.include('pypi:six');
      // The link to the host's folder is a link in the image, never read through.
      expect(names(one1.packages)).to.not.include('pypi:host-secret');
    }
  });

  it('metadata past its limit is MetadataTooLarge, and the working container is removed all the same', async () => {
    const { driver } = await resolveStorage('auto');
    const B = storageArgs(driver);
    const ctr = (await execa('buildah', [...B, 'from', '--tls-verify=false', `127.0.0.1:${lab.port}/test/busybox:1`])).stdout.trim();
    const mount = (await execa('buildah', [...B, 'mount', ctr])).stdout.trim();
    await mkdir(join(mount, 'opt/conda/conda-meta'), { recursive: true });
    await execa('truncate', ['-s', String((32 << 20) + 1), join(mount, 'opt/conda/conda-meta/big-1-0.json')]);
    await execa('buildah', [...B, 'commit', '--rm', ctr, 'localhost/envctl-image-files/big:1']);
    const containers = async () => (await execa('buildah', [...B, 'containers', '--quiet'])).stdout.trim().split('\n').filter(Boolean).sort();
    const before = await containers();
    const err = await localImagePackages('localhost/envctl-image-files/big:1', { storage: driver }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(MetadataTooLarge);
    expect(await containers()).to.deep.equal(before);
  });

  it('an image local storage does not hold is LocalImageUnreadable, saying buildah\'s words', async () => {
    const { driver } = await resolveStorage('auto');
    const err = await localImagePackages('localhost/envctl-image-files/never-built:1', { storage: driver }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(LocalImageUnreadable);
    expect((err as LocalImageUnreadable).code).to.equal('local-image-unreadable');
    expect((err as Error).message).to.match(/^buildah could not read localhost\/envctl-image-files\/never-built:1 from local storage: .*(not known|unknown|no such image|not found)/i);
  });

  it('rootless, as a hosted runner\'s user: read inside buildah unshare, where the mount exists', async () => {
    const home = await tempDir('envctl-rootless-home-');
    try {
      await mkdir(join(home, 'run'), { recursive: true, mode: 0o700 });
      await execa('cp', ['-a', join(dir, 'root'), join(home, 'root')]);
      await giveToRootless([home]);
      const env = { HOME: home, XDG_RUNTIME_DIR: join(home, 'run') };
      // As the user: the storage driver auto picks for it, the image built there, its packages read.
      const script = join(home, 'read.mjs');
      const image = 'localhost/envctl-image-files/rootless:1';
      await writeFile(script, [
        `import { execa } from ${JSON.stringify(join(DIST, '..', 'node_modules', 'execa', 'index.js'))};`,
        `import { localImagePackages } from ${JSON.stringify(join(DIST, 'src', 'builder', 'image-files.js'))};`,
        `import { resolveStorage, storageArgs } from ${JSON.stringify(join(DIST, 'src', 'builder', 'storage.js'))};`,
        "const { driver } = await resolveStorage('auto');",
        'const B = storageArgs(driver);',
        `const c = (await execa('buildah', [...B, 'from', '--tls-verify=false', '127.0.0.1:${lab.port}/test/busybox:1'])).stdout.trim();`,
        `await execa('buildah', [...B, 'copy', c, ${JSON.stringify(`${join(home, 'root')}/`)}, '/']);`,
        `await execa('buildah', [...B, 'commit', '--rm', c, '${image}']);`,
        `console.log(JSON.stringify({ driver, ...(await localImagePackages('${image}', { storage: driver })) }));`,
      ].join('\n'));
      await giveToRootless([script]);
      const read = await runRootless(process.execPath, [script], { cwd: home, env });
      expect(read.exitCode, String(read.all)).to.equal(0);
      const got = JSON.parse(String(read.stdout).trim().split('\n').pop()!) as { driver: string; packages: { ecosystem: string; name: string }[]; distro: string };
      expect(names(got.packages)).to.deep.equal(['conda:zlib', 'cran:ggplot2', 'deb:curl', 'deb:libc6', 'pypi:numpy', 'pypi:six']);
      expect(got.distro).to.equal('debian');
    } finally {
      await removeDir(home);
    }
  });

  it('the names find picks cover every path metadataKind accepts (a real find over such paths)', async () => {
    const accepted = [
      'var/lib/dpkg/status', 'var/lib/dpkg/status.d/base', 'lib/apk/db/installed', `${SITE}/a-1.dist-info/METADATA`,
      'usr/local/lib/python3.11/site-packages/b-2.egg-info/PKG-INFO', 'usr/lib/python3/dist-packages/c-3.egg-info',
      'opt/conda/conda-meta/d-4-0.json', 'opt/conda/envs/x/conda-meta/e-5-0.json', 'usr/lib/R/library/base/DESCRIPTION',
      'usr/local/lib/R/site-library/f/DESCRIPTION', 'home/u/.venv/lib/python3.11/site-packages/g-1.dist-info/METADATA', 'etc/os-release',
    ];
    for (const p of accepted.filter((p) => p !== 'etc/os-release')) expect(metadataKind(p), p).to.not.equal(undefined);
    const tree = join(dir, 'find');
    await writeTree(tree, Object.fromEntries(accepted.map((p) => [p, 'x'])));
    const found = (await execa('find', ['.', '-type', 'f', ...FIND_EXPRESSION], { cwd: tree })).stdout.split('\n').map((l) => l.replace(/^\.\//, '')).sort();
    expect(found).to.deep.equal([...accepted].sort());
  });

  after(() => removeDir(dir));
});
