/**
 * `envctl base`: make the deployment default image when the registry lacks
 * it: a Debian root by `debootstrap --variant=minbase` from the configured
 * mirror (or the one this machine's apt uses), committed with buildah and
 * pushed. This is how an air-gapped site gets its base.
 */
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../model/config.js';
import { externalError, inputError } from '../model/errors.js';
import { registryAccess } from '../registry/client.js';
import { resolveDigest } from '../registry/tag.js';
import { statePaths } from '../store/paths.js';
import { resolveStorage, storageArgs } from './storage.js';


/** The first Debian mirror in this machine's apt sources (deb822 or one-line form). */
export function systemMirror(): string | undefined {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`) : [])];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(text)?.[1];
    if (uri && !/security/.test(uri)) return uri;
  }
  return undefined;
}

export interface BaseResult {
  image: string;
  digest: string;
}

/**
 * The default image: the one the registry has, or (when it answers that it
 * has none, or `force`) one made now. A registry that cannot be asked throws
 * its RegistryError: pushing a new base over an image that may exist would
 * change every content key built on it.
 */
export async function ensureBase(root: string, config: Config, opts: { force?: boolean; log: (line: string) => void }): Promise<BaseResult & { made: boolean }> {
  const existing = await resolveDigest(config.defaultBase.image, registryAccess(config));
  if (existing && !opts.force) return { image: config.defaultBase.image, digest: existing, made: false };
  return { ...(await makeBase(root, config, opts.log)), made: true };
}

/** A tool that failed → an external error naming it, with the last line it wrote. */
function toolFailed(tool: string, what: string, err: unknown): Error {
  const e = err as { stderr?: unknown; shortMessage?: unknown; message?: unknown };
  const said = String(e.stderr ?? '').trim().split('\n').pop() || String(e.shortMessage ?? e.message ?? err);
  return externalError(tool, `${tool}-failed`, `${what} failed: ${said}`, { cause: err });
}

/** Runs a step of making the base; its failure is the tool's, named. */
async function step<T>(tool: string, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw toolFailed(tool, what, err);
  }
}

/** Builds the default base image from debootstrap and pushes it to `config.defaultBase.image`. */
export async function makeBase(root: string, config: Config, log: (line: string) => void): Promise<BaseResult> {
  const d = config.defaultBase.debootstrap;
  const mirror = d.mirror === 'system' ? systemMirror() : d.mirror;
  if (!mirror) {
    throw inputError('debian-mirror-missing', 'no Debian mirror: this machine\'s apt names none', { hint: 'set defaultBase.debootstrap.mirror in envctl.yaml' });
  }
  const { dir: work, rootfs } = await statePaths.base(root); // checked: no link on the way (store/paths.ts)
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  log(`debootstrap --variant=${d.variant} ${d.suite} from ${mirror}`);
  await step('debootstrap', `debootstrap ${d.suite} from ${mirror}`, () => execa('debootstrap', [`--variant=${d.variant}`, ...(d.packages.length ? [`--include=${d.packages.join(',')}`] : []), d.suite, rootfs, mirror], { stdout: 'ignore', stderr: 'pipe' }));
  // As Debian's own images do: no apt caches kept in layers, no services started by package scripts.
  await writeFile(join(rootfs, 'etc/apt/apt.conf.d/docker-clean'),
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n' +
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n' +
    'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";\n');
  await writeFile(join(rootfs, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  await step('chroot', 'apt-get clean in the new root', () => execa('chroot', [rootfs, 'apt-get', 'clean']));
  await rm(join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
  await mkdir(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
  await writeFile(join(rootfs, 'etc/resolv.conf'), '');
  const image = config.defaultBase.image;
  log(`committing ${image}`);
  // The storage the builds use: they then find the base's layer locally instead of pulling a copy.
  const B = storageArgs((await resolveStorage(config.storage)).driver);
  const ctr = (await step('buildah', 'buildah from scratch', () => execa('buildah', [...B, 'from', 'scratch']))).stdout.trim();
  try {
    await step('buildah', 'buildah copy', () => execa('buildah', [...B, 'copy', ctr, `${rootfs}/`, '/']));
    await step('buildah', 'buildah config', () => execa('buildah', [...B, 'config', '--cmd', '["/bin/bash"]', '--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '--label', `org.opencontainers.image.title=Debian ${d.suite} (${d.variant})`, ctr]));
    await step('buildah', 'buildah commit', () => execa('buildah', [...B, 'commit', ctr, image]));
  } finally {
    await execa('buildah', [...B, 'rm', ctr], { reject: false });
  }
  const digestFile = join(work, 'digest');
  await step('buildah', `buildah push ${image}`, () => execa('buildah', [...B, 'push', `--tls-verify=${config.registry.insecure ? 'false' : 'true'}`, '--digestfile', digestFile, image]));
  const digest = (await readFile(digestFile, 'utf8')).trim();
  await rm(rootfs, { recursive: true, force: true });
  return { image, digest };
}
