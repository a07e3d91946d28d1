/**
 * Builds with buildah, always through execa with argument arrays: chroot
 * isolation and vfs storage (no daemon, runs as root without privileges a
 * CI container lacks), `--layers` so each RUN, COPY and ADD is a layer as
 * the layer count assumes.
 */
import { execa } from 'execa';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STORAGE = ['--storage-driver', 'vfs'];

export interface BuildRequest {
  contextDir: string;
  dockerfile: string;
  tag: string;
  noCache?: boolean;
  /** Pull and push over http (loopback registries). */
  insecure: boolean;
  /** The full log is appended here. */
  logFile: string;
}

export class BuildFailed extends Error {
  constructor(message: string, readonly logTail: string, readonly stage: 'build' | 'push') {
    super(message);
  }
}

export async function buildahVersion(): Promise<string> {
  const { stdout } = await execa('buildah', ['--version']);
  return stdout.replace(/^buildah version (\S+).*$/s, 'buildah $1');
}

/** Builds and pushes; returns the pushed manifest's digest. */
export async function buildAndPush(req: BuildRequest): Promise<string> {
  const tls = `--tls-verify=${req.insecure ? 'false' : 'true'}`;
  await run(['bud', '--isolation', 'chroot', '--layers', tls, '-f', req.dockerfile, '-t', req.tag, ...(req.noCache ? ['--no-cache'] : []), req.contextDir], req.logFile, 'build');
  const dir = await mkdtemp(join(tmpdir(), 'envctl-push-'));
  try {
    const digestFile = join(dir, 'digest');
    await run(['push', tls, '--digestfile', digestFile, req.tag], req.logFile, 'push');
    return (await readFile(digestFile, 'utf8')).trim();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function run(args: string[], logFile: string, stage: 'build' | 'push'): Promise<void> {
  const log = createWriteStream(logFile, { flags: 'a' });
  log.write(`$ buildah ${[...STORAGE, ...args].join(' ')}\n`);
  const child = execa('buildah', [...STORAGE, ...args], { reject: false, all: true, env: { BUILDAH_ISOLATION: 'chroot' } });
  child.all?.pipe(log, { end: false });
  const result = await child;
  await new Promise<void>((r) => log.end(r));
  if (result.exitCode !== 0) {
    const tail = String(result.all ?? '').split('\n').slice(-25).join('\n');
    const last = tail.split('\n').filter((l) => l.trim()).pop() ?? '';
    throw new BuildFailed(`${stage} failed: ${last}`, tail, stage);
  }
}
