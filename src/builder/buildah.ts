/**
 * buildah: vfs storage (no daemon), `--layers` so each RUN, COPY and ADD is
 * a layer as the layer count assumes. RUN steps run in an OCI container
 * (runc, with its own PID and mount namespaces and fewer capabilities): a
 * step running as root in a bare chroot can chroot() its way out to the
 * host's files, the registry login among them. runc, because crun refuses
 * hybrid cgroup hierarchies; cgroupfs, because a CI container has no
 * systemd to ask. `isolation: chroot` keeps the old way, with a warning.
 */
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLogged } from './run.js';
import type { BuildRequest, Builder } from './types.js';

// buildah 1.28 ignores STORAGE_DRIVER, so every call names the driver.
const STORAGE = ['--storage-driver', 'vfs'];

export { BuildFailed } from './types.js';

export async function buildahVersion(): Promise<string> {
  const { stdout } = await execa('buildah', ['--version']);
  return stdout.replace(/^buildah version (\S+).*$/s, 'buildah $1');
}

export async function buildah(): Promise<Builder> {
  return { version: await buildahVersion(), buildAndPush };
}

export function buildahArgs(req: BuildRequest, digestFile: string): { bud: string[]; push: string[] } {
  const common = [`--tls-verify=${req.insecure ? 'false' : 'true'}`, ...(req.authFile ? ['--authfile', req.authFile] : [])];
  return {
    bud: [...STORAGE, 'bud', ...isolationArgs(req.isolation ?? 'oci'), '--layers', '--platform', req.platform, ...common, '-f', req.dockerfile, '-t', req.tag, ...(req.noCache ? ['--no-cache'] : []), req.contextDir],
    push: [...STORAGE, 'push', ...common, '--digestfile', digestFile, req.tag],
  };
}

function isolationArgs(isolation: 'oci' | 'chroot'): string[] {
  return isolation === 'chroot' ? ['--isolation', 'chroot'] : ['--isolation', 'oci', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
}

/** Builds and pushes; returns the pushed manifest's digest. */
export async function buildAndPush(req: BuildRequest): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'envctl-push-'));
  try {
    const digestFile = join(dir, 'digest');
    const args = buildahArgs(req, digestFile);
    const run = (stage: 'build' | 'push', a: string[]) => runLogged('buildah', a, { logFile: req.logFile, stage, env: { BUILDAH_ISOLATION: req.isolation ?? 'oci' }, ...(req.signal ? { signal: req.signal } : {}) });
    await run('build', args.bud);
    await run('push', args.push);
    return (await readFile(digestFile, 'utf8')).trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
