/**
 * buildah: no daemon, `--layers` so each RUN, COPY and ADD is a layer as the
 * layer count assumes. RUN steps run in an OCI container (runc, with its own
 * PID, mount and network namespaces and fewer capabilities): a step running
 * as root in a bare chroot can chroot() its way out to the host's files, the
 * registry login among them. As root that is `--isolation oci`; as any other
 * user (a hosted runner) `--isolation rootless`, buildah's name for the same
 * runtime inside a user namespace, with slirp4netns for the network. runc,
 * because crun refuses hybrid cgroup hierarchies; cgroupfs, because a CI
 * container has no systemd to ask. `isolation: chroot` keeps the old way,
 * with a warning.
 *
 * The layer cache: `--cache-from` each cache repository (missing ones are
 * skipped by buildah), `--cache-to` the environment's own. A cache that
 * cannot be written fails buildah's build, so such a build is run once more
 * without the cache: a cache never fails a build.
 *
 * Build secrets: `--secret id=ID,src=FILE`, a file in this build's private
 * folder (secrets.ts); buildah 1.28 mounts it at /run/secrets/ID (or the
 * mount's target) for the RUN only and commits none of it.
 */
import { execa } from 'execa';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLogged } from './run.js';
import { masker, secretArgs, writeSecretFiles, type SecretFile } from './secrets.js';
import { resolveStorage, storageArgs, type StorageDriver } from './storage.js';
import { BuildFailed, buildArgArgs, type BuildRequest, type Builder } from './types.js';

export { BuildFailed } from './types.js';

export async function buildahVersion(): Promise<string> {
  const { stdout } = await execa('buildah', ['--version']);
  return stdout.replace(/^buildah version (\S+).*$/s, 'buildah $1');
}

export async function buildah(): Promise<Builder> {
  return { kind: 'buildah', version: await buildahVersion(), buildAndPush };
}

/** Whether buildah runs here as root (real user namespaces and mounts) or rootless. */
export const runsAsRoot = (): boolean => process.getuid?.() === 0;

export function buildahArgs(req: BuildRequest, digestFile: string, opts: { storage: StorageDriver; root?: boolean; cache?: boolean; secrets?: SecretFile[] }): { bud: string[]; push: string[] } {
  const common = [`--tls-verify=${req.insecure ? 'false' : 'true'}`, ...(req.authFile ? ['--authfile', req.authFile] : [])];
  const storage = storageArgs(opts.storage);
  const cache = opts.cache === false || req.noCache ? [] : cacheArgs(req);
  return {
    bud: [
      ...storage, 'bud', ...isolationArgs(req.isolation ?? 'oci', opts.root ?? runsAsRoot()),
      // --force-rm: a failed build leaves no working containers behind.
      '--layers', '--force-rm', '--platform', req.platform, ...common, ...cache, ...buildArgArgs(req),
      ...secretArgs(opts.secrets ?? []),
      '-f', req.dockerfile, '-t', req.tag, ...(req.noCache ? ['--no-cache'] : []), req.contextDir,
    ],
    push: [...storage, 'push', ...common, '--digestfile', digestFile, req.tag, ...(req.destination ? [req.destination] : [])],
  };
}

function cacheArgs(req: BuildRequest): string[] {
  return [...(req.cacheFrom ?? []).flatMap((r) => ['--cache-from', r]), ...(req.cacheTo ? ['--cache-to', req.cacheTo] : [])];
}

export function isolationArgs(isolation: 'oci' | 'chroot', root: boolean): string[] {
  if (isolation === 'chroot') return ['--isolation', 'chroot'];
  return ['--isolation', root ? 'oci' : 'rootless', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
}

/** buildah's words when writing (or reading) the registry cache is what failed. */
const CACHE_TROUBLE = /failed (pushing|pulling) cache|cache .* from remote|error (pushing|pulling) cache/i;

/** Builds and pushes; returns the pushed manifest's digest. */
export async function buildAndPush(req: BuildRequest): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'envctl-push-'));
  try {
    const digestFile = join(dir, 'digest');
    const storage = req.storage ?? (await resolveStorage('auto')).driver;
    const secrets = await writeSecretFiles(dir, req.tag, req.secrets ?? []);
    const mask = secrets.values.length > 0 ? { mask: masker(secrets.values) } : {};
    const run = (stage: 'build' | 'push', a: string[]) => runLogged('buildah', a, { logFile: req.logFile, stage, env: { BUILDAH_ISOLATION: req.isolation ?? 'oci' }, ...mask, ...(req.signal ? { signal: req.signal } : {}) });
    const args = buildahArgs(req, digestFile, { storage, secrets: secrets.files });
    try {
      await run('build', args.bud);
    } catch (err) {
      const cached = (req.cacheFrom?.length ?? 0) > 0 || req.cacheTo !== undefined;
      if (!cached || req.noCache || !(err instanceof BuildFailed) || err.stage !== 'build' || !CACHE_TROUBLE.test(err.logTail)) throw err;
      await appendFile(req.logFile, 'envctl: the registry layer cache failed this build (above); building once more without the cache\n');
      await run('build', buildahArgs(req, digestFile, { storage, cache: false, secrets: secrets.files }).bud);
    }
    await run('push', args.push);
    return (await readFile(digestFile, 'utf8')).trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
