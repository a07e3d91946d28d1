/**
 * buildah: chroot isolation and vfs storage (no daemon, runs as root
 * without privileges a CI container lacks), `--layers` so each RUN, COPY
 * and ADD is a layer as the layer count assumes.
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
    bud: [...STORAGE, 'bud', '--isolation', 'chroot', '--layers', '--platform', req.platform, ...common, '-f', req.dockerfile, '-t', req.tag, ...(req.noCache ? ['--no-cache'] : []), req.contextDir],
    push: [...STORAGE, 'push', ...common, '--digestfile', digestFile, req.tag],
  };
}

/** Builds and pushes; returns the pushed manifest's digest. */
export async function buildAndPush(req: BuildRequest): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'envctl-push-'));
  try {
    const digestFile = join(dir, 'digest');
    const args = buildahArgs(req, digestFile);
    const run = (stage: 'build' | 'push', a: string[]) => runLogged('buildah', a, { logFile: req.logFile, stage, env: { BUILDAH_ISOLATION: 'chroot' }, ...(req.signal ? { signal: req.signal } : {}) });
    await run('build', args.bud);
    await run('push', args.push);
    return (await readFile(digestFile, 'utf8')).trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
