/**
 * Runs a built image locally, as `envctl run` does: with buildah (a working
 * container from the image, `buildah run` with chroot isolation, removed
 * afterwards) or podman (`podman run --rm`), whichever is installed, buildah
 * first as for builds. Plain variables go in as --env; secret values only in
 * a 0600 file mounted read-only at /run/envctl, sourced by the lifecycle
 * script, so they reach neither the image nor a process list.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../render/lifecycle.js';
import { BuilderUnavailable } from './types.js';

export const SECRETS_DIR = '/run/envctl';
export const SECRETS_FILE = `${SECRETS_DIR}/secrets.env`;

export interface ContainerRun {
  /** Image by digest. */
  image: string;
  /** The lifecycle script (POSIX sh), run as /bin/sh -c. */
  script: string;
  env: { name: string; value: string }[];
  secrets: { name: string; value: string }[];
  mounts: { host: string; container: string }[];
  /** Pull over http (loopback registries). */
  insecure: boolean;
  authFile?: string;
}

export type Engine = 'buildah' | 'podman';

export async function chooseEngine(): Promise<Engine> {
  for (const engine of ['buildah', 'podman'] as const) {
    if ((await execa(engine, ['--version'], { reject: false })).exitCode === 0) return engine;
  }
  throw new BuilderUnavailable('envctl run needs buildah or podman: run scripts/ensure.sh apt buildah');
}

/** The commands each engine is given; the container name is chosen by the caller. */
export function engineArgs(engine: Engine, run: ContainerRun, secretsDir: string, name: string): string[][] {
  const tls = `--tls-verify=${run.insecure ? 'false' : 'true'}`;
  const auth = run.authFile ? ['--authfile', run.authFile] : [];
  const volumes = [...run.mounts.map((m) => `${m.host}:${m.container}`), `${secretsDir}:${SECRETS_DIR}:ro`].flatMap((v) => ['--volume', v]);
  const env = run.env.flatMap((e) => ['--env', `${e.name}=${e.value}`]);
  if (engine === 'podman') {
    return [['run', '--rm', '--name', name, tls, ...auth, ...volumes, ...env, run.image, '/bin/sh', '-c', run.script]];
  }
  const storage = ['--storage-driver', 'vfs'];
  return [
    [...storage, 'from', '--name', name, tls, ...auth, run.image],
    [...storage, 'run', '--isolation', 'chroot', ...volumes, ...env, name, '--', '/bin/sh', '-c', run.script],
    [...storage, 'rm', name],
  ];
}

/** Runs to the end (or until the process group is interrupted); returns the lifecycle's exit code. */
export async function runContainer(engine: Engine, run: ContainerRun): Promise<number> {
  const secretsDir = await mkdtemp(join(tmpdir(), 'envctl-secrets-'));
  const name = `envctl-run-${randomBytes(4).toString('hex')}`;
  // Ctrl-C reaches the container's process group too; envctl stays to let post-run finish and clean up.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  try {
    await writeFile(join(secretsDir, 'secrets.env'), run.secrets.map((s) => `${s.name}=${shellQuote(s.value)}\n`).join(''), { mode: 0o600 });
    const steps = engineArgs(engine, run, secretsDir, name);
    if (engine === 'podman') return (await execa('podman', steps[0]!, { stdio: 'inherit', reject: false })).exitCode ?? 1;
    const from = await execa('buildah', steps[0]!, { reject: false, all: true });
    if (from.exitCode !== 0) throw new BuilderUnavailable(`buildah could not start ${run.image}: ${String(from.all).trim().split('\n').pop()}`, 'container-start-failed');
    try {
      return (await execa('buildah', steps[1]!, { stdio: 'inherit', reject: false })).exitCode ?? 1;
    } finally {
      await execa('buildah', steps[2]!, { reject: false });
    }
  } finally {
    process.off('SIGINT', ignore);
    await rm(secretsDir, { recursive: true, force: true });
  }
}
