/**
 * The package metadata of an image in buildah's local storage, read from its
 * mounted file system rather than from its compressed layers: right after a
 * build the image is here, unpacked, so nothing is downloaded or gunzipped
 * (gunzip alone costs three times a loopback download of the layers; this
 * costs a `find` over the tree and a tar of the few files it keeps). The
 * mount is overlay's merged view (or vfs's copy), so whiteouts have already
 * done their work.
 *
 * One shell script does it, as root directly and rootless inside `buildah
 * unshare` (a rootless mount exists only in that user and mount namespace,
 * and as root `buildah unshare` is refused): a working container from the
 * image (never pulled), mounted, `find` picking files by name, `tar` of
 * those on stdout, the container removed on every way out. The names `find`
 * picks are a cheap superset of what packages/ metadataKind accepts; the tar
 * is read by the same reader as a layer (registry/layer-tar.ts), which keeps
 * only what metadataKind and EXTRA_FILES accept, each within its limit.
 * Links are neither followed by find nor by tar, so an image cannot point
 * the reading at the host's files.
 */
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOTAL_METADATA_LIMIT, type LayerEntry } from '../packages/index.js';
import { layerEntries, LayerFault } from '../registry/layer-tar.js';
import { packagesOfLayerEntries, type ImagePackages } from '../registry/layers.js';
import { storageArgs, type StorageDriver } from './storage.js';
import { BuilderUnavailable } from './types.js';

/**
 * Paths (find's -path, where `*` also matches `/`) of every file
 * metadataKind or EXTRA_FILES may accept, and little else: a big file that
 * merely shares a name is not streamed through. A test holds these to
 * metadataKind.
 */
const FIND_PATHS = [
  './var/lib/dpkg/status', './var/lib/dpkg/status.d/*', './lib/apk/db/installed',
  '*.dist-info/METADATA', '*.egg-info/PKG-INFO', '*/site-packages/*.egg-info', '*/dist-packages/*.egg-info',
  '*/conda-meta/*.json', '*/library/*/DESCRIPTION', '*/site-library/*/DESCRIPTION',
  './etc/os-release', './usr/lib/os-release',
];

/** find's test for those, one argument each. */
export const FIND_EXPRESSION: readonly string[] = ['(', ...FIND_PATHS.flatMap((p, i) => [...(i ? ['-o'] : []), '-path', p]), ')'];

/**
 * $1 the image, $2 the file list's path, the rest the storage arguments.
 * find writes the list first (so its failure is seen, which a pipe in sh
 * would hide), tar then reads it; `./` names never start with a dash. The
 * working container goes on every way out: a signal ends the script through
 * exit, which runs the EXIT trap (dash runs it on exit, not on a signal's
 * death), from outside the mount.
 */
const SCRIPT = `set -eu
image=$1; list=$2; shift 2
c=
trap 'cd /; if [ -n "$c" ]; then buildah "$@" rm "$c" >/dev/null || echo "envctl: could not remove working container $c" >&2; fi' EXIT
trap 'exit 143' TERM INT HUP PIPE
c=$(buildah "$@" from --pull-never --quiet "$image" </dev/null)
m=$(buildah "$@" mount "$c" </dev/null)
cd "$m"
find . -xdev -type f ${FIND_EXPRESSION.map((a) => `'${a}'`).join(' ')} -print0 >"$list"
tar --null --no-recursion -T "$list" -cf -
`;

/** The image could not be read from local storage (not there, or buildah could not mount it): the caller reads the registry instead. */
export class LocalImageUnreadable extends BuilderUnavailable {
  constructor(image: string, said: string) {
    super(`buildah could not read ${image} from local storage: ${said}`, 'local-image-unreadable');
  }
}

/**
 * The metadata files of `image` (a name or id in local storage) as one
 * layer's entries: files only, the top of the image. Throws
 * LocalImageUnreadable when buildah cannot mount it, MetadataTooLarge
 * (layer-tar.ts) past the limits.
 */
export async function localImageEntries(image: string, opts: { storage: StorageDriver; signal?: AbortSignal; root?: boolean }): Promise<LayerEntry[]> {
  const dir = await mkdtemp(join(tmpdir(), 'envctl-image-files-'));
  try {
    const args = ['-c', SCRIPT, 'sh', image, join(dir, 'list'), ...storageArgs(opts.storage)];
    const root = opts.root ?? process.getuid?.() === 0;
    const child = execa(root ? 'sh' : 'buildah', root ? args : [...storageArgs(opts.storage), 'unshare', 'sh', ...args], {
      buffer: false, stdin: 'ignore', reject: false, ...(opts.signal ? { cancelSignal: opts.signal } : {}),
    });
    // The end of what buildah said, for the error (not execa's maxBuffer, which kills the script on overflow).
    let said = '';
    child.stderr?.on('data', (chunk: Buffer) => { said = (said + chunk.toString('utf8')).slice(-8192); });
    let entries: LayerEntry[] | undefined;
    let fault: unknown;
    try {
      entries = await layerEntries(child.stdout as AsyncIterable<Uint8Array>, undefined, { image, left: TOTAL_METADATA_LIMIT });
    } catch (err) {
      fault = err;
      // Read to its end rather than killed: the script then removes its working container itself.
      child.stdout?.resume();
    }
    const done = await child;
    if (fault && !(fault instanceof LayerFault)) throw fault;
    if (done.exitCode !== 0 || fault) {
      const line = said.split('\n').filter((l) => l.trim() && !/level=warning/.test(l)).pop()
        ?? (fault ? `its files did not read as a tar (${(fault as Error).message})` : done.shortMessage ?? `exit ${done.exitCode}`);
      throw new LocalImageUnreadable(image, line);
    }
    return entries!;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The packages of `image` in local storage, and its distribution (os-release), as registry/layers.ts reads them from layers. */
export async function localImagePackages(image: string, opts: { storage: StorageDriver; signal?: AbortSignal; root?: boolean }): Promise<Pick<ImagePackages, 'packages' | 'distro'>> {
  return packagesOfLayerEntries([await localImageEntries(image, opts)]);
}
