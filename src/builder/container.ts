/**
 * Runs a built image locally, as `envctl run` does: with buildah (a working
 * container from the image, `buildah run`, removed afterwards) or podman
 * (create, start attached, remove), whichever is installed, buildah first as
 * for builds. Plain variables go in as --env; secret values only in a file
 * mounted read-only at /run/envctl, sourced by the lifecycle script, so
 * they reach neither the image nor a process list. The lifecycle runs as
 * the image's user (its USER, the environment's `username`), so the file
 * (0400) and its folder (0700) belong to that user's uid and gid, asked of
 * the container itself (`id`): that user alone reads them, root aside.
 *
 * The command runs in an OCI container as RUN steps do (see buildah.ts):
 * `--isolation oci` as root, `--isolation rootless` (the same runtime in a
 * user namespace) otherwise, runc with cgroupfs; a bare chroot only when
 * envctl.yaml says `isolation: chroot`. It shares the host's network, as the
 * chroot did, so a workspace tool's port is reachable on this machine.
 *
 * Stopping (Ctrl-C, SIGTERM): buildah answers a signal of its own by
 * killing the container outright (SIGKILL: no post-run, exit 1), so
 * `buildah run` gets a process group of its own, out of a terminal's
 * Ctrl-C, and envctl hands the signal to the container's first process, the
 * lifecycle script (runc starts it as a session leader below the engine's
 * process), whose trap stops the command and runs post-run. A second
 * signal, or a container whose first process is not found, goes to buildah
 * itself. podman proxies signals to the container on its own.
 *
 * The image is named by digest and found in local storage only by that
 * digest (else pulled): a tag in local storage may have been written by
 * another clone of the repository on this machine, a digest names the bytes.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvctlError } from '../model/errors.js';
import { shellQuote } from '../render/lifecycle.js';
import { storageArgs, type StorageDriver } from './storage.js';
import { BuilderUnavailable } from './types.js';

export const SECRETS_DIR = '/run/envctl';
export const SECRETS_FILE = `${SECRETS_DIR}/secrets.env`;

export interface ContainerRun {
  /** Image by digest: `<registry>/<repository>@sha256:…`. */
  image: string;
  /** The lifecycle script (POSIX sh), run as /bin/sh -c. */
  script: string;
  env: { name: string; value: string }[];
  secrets: { name: string; value: string }[];
  mounts: { host: string; container: string }[];
  /** Pull over http (loopback registries). */
  insecure: boolean;
  authFile?: string;
  /** buildah's storage driver, as builds use it (storage.ts), so an image built here is found here. Default vfs. */
  storage?: StorageDriver;
  /** As envctl.yaml's isolation; default oci. */
  isolation?: 'oci' | 'chroot';
}

export interface RunHooks {
  /**
   * Wraps the one step that may pull the image (creating the container), so
   * a registry started for the pull need not outlive it: a workspace tool
   * may run for hours.
   */
  pulling?: <T>(pull: () => Promise<T>) => Promise<T>;
}

export type Engine = 'buildah' | 'podman';

export async function chooseEngine(): Promise<Engine> {
  for (const engine of ['buildah', 'podman'] as const) {
    if ((await execa(engine, ['--version'], { reject: false })).exitCode === 0) return engine;
  }
  throw new BuilderUnavailable('envctl run needs buildah or podman: run scripts/ensure.sh apt buildah');
}

const BY_DIGEST = /@sha256:[0-9a-f]{64}$/;

/** buildah's isolation for the run: an OCI runtime (rootless in a user namespace when not root), or the chroot envctl.yaml asked for. */
export function runIsolationArgs(isolation: 'oci' | 'chroot', root: boolean): string[] {
  if (isolation === 'chroot') return ['--isolation', 'chroot'];
  return ['--isolation', root ? 'oci' : 'rootless', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
}

/**
 * The commands each engine is given, in order: create the container (the
 * only one that may pull), run the script in it, remove it. The container
 * name is chosen by the caller; `root` says whether envctl runs as root.
 */
export function engineArgs(engine: Engine, run: ContainerRun, secretsDir: string, name: string, root = process.getuid?.() === 0): string[][] {
  const tls = `--tls-verify=${run.insecure ? 'false' : 'true'}`;
  const auth = run.authFile ? ['--authfile', run.authFile] : [];
  const volumes = [...run.mounts.map((m) => `${m.host}:${m.container}`), `${secretsDir}:${SECRETS_DIR}:ro`].flatMap((v) => ['--volume', v]);
  const env = run.env.flatMap((e) => ['--env', `${e.name}=${e.value}`]);
  // "missing": local storage answers only for the digest named; nothing asks the registry whether a tag moved.
  const pull = '--pull=missing';
  if (engine === 'podman') {
    // podman keeps its own storage configuration (its database records the driver), and isolates with its own runtime.
    return [
      ['create', '--name', name, pull, tls, ...auth, '--network', 'host', ...volumes, ...env, run.image, '/bin/sh', '-c', run.script],
      ['start', '--attach', name],
      ['rm', '--force', name],
    ];
  }
  const storage = storageArgs(run.storage ?? 'vfs');
  return [
    [...storage, 'from', '--name', name, pull, tls, ...auth, run.image],
    [...storage, 'run', ...runIsolationArgs(run.isolation ?? 'oci', root), '--network', 'host', ...volumes, ...env, name, '--', '/bin/sh', '-c', run.script],
    [...storage, 'rm', name],
  ];
}

/**
 * The command that asks the created container which uid and gid its
 * processes get (the image's USER): `id` prints them, one a line. podman's
 * container is not started yet, so a throwaway one of the same image asks.
 */
export function userProbeArgs(engine: Engine, run: ContainerRun, name: string, root = process.getuid?.() === 0): string[] {
  const probe = ['/bin/sh', '-c', 'id -u && id -g'];
  if (engine === 'podman') return ['run', '--rm', '--pull=never', '--network', 'host', run.image, ...probe];
  return [...storageArgs(run.storage ?? 'vfs'), 'run', ...runIsolationArgs(run.isolation ?? 'oci', root), '--network', 'host', name, '--', ...probe];
}

/** The ids `id -u && id -g` printed, or undefined for anything else. */
export function parseIds(out: string): { uid: number; gid: number } | undefined {
  const m = /^(\d+)\n(\d+)$/.exec(out.trim());
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : undefined;
}

/**
 * Gives the secrets folder and file to the container's user. As root the
 * container's ids are the host's; rootless, they are mapped into a user
 * namespace, so the chown (and later the removal) runs in that namespace
 * through the engine's `unshare`.
 */
async function handOver(engine: Engine, run: ContainerRun, dir: string, name: string): Promise<void> {
  const probe = await execa(engine, userProbeArgs(engine, run, name), { reject: false, all: true });
  const ids = probe.exitCode === 0 ? parseIds(String(probe.stdout)) : undefined;
  if (!ids) throw new BuilderUnavailable(`${engine} could not learn the user ${run.image} runs as (id -u, id -g): ${String(probe.all).trim().split('\n').pop()}`, 'container-user-unknown');
  const file = join(dir, 'secrets.env');
  await chmod(file, 0o400);
  if (ids.uid === 0 && ids.gid === 0) return;
  if (process.getuid?.() === 0) {
    await chown(file, ids.uid, ids.gid);
    await chown(dir, ids.uid, ids.gid);
    return;
  }
  const done = await execa(engine, [...(engine === 'buildah' ? storageArgs(run.storage ?? 'vfs') : []), 'unshare', 'chown', `${ids.uid}:${ids.gid}`, file, dir], { reject: false, all: true });
  if (done.exitCode !== 0) throw new BuilderUnavailable(`${engine} could not give the secrets to uid ${ids.uid}: ${String(done.all).trim().split('\n').pop()}`, 'container-secrets-failed');
}

/** Removes the secrets folder; rootless, a folder given to a mapped uid is removed inside the namespace. */
async function removeSecrets(engine: Engine, run: ContainerRun, dir: string): Promise<void> {
  if (process.getuid?.() !== 0) await execa(engine, [...(engine === 'buildah' ? storageArgs(run.storage ?? 'vfs') : []), 'unshare', 'rm', '-rf', dir], { reject: false });
  await rm(dir, { recursive: true, force: true });
}

/** Runs to the end (or until the process group is interrupted); returns the lifecycle's exit code. */
export async function runContainer(engine: Engine, run: ContainerRun, hooks: RunHooks = {}): Promise<number> {
  if (!BY_DIGEST.test(run.image)) throw new EnvctlError('internal', 'image-not-by-digest', `envctl run was given ${run.image}, not an image by digest`, { data: { image: run.image } });
  const secretsDir = await mkdtemp(join(tmpdir(), 'envctl-secrets-'));
  const name = `envctl-run-${randomBytes(4).toString('hex')}`;
  const pulling = hooks.pulling ?? (<T>(pull: () => Promise<T>) => pull());
  // Ctrl-C reaches the container's process group too; envctl stays to let post-run finish and clean up.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  try {
    await writeFile(join(secretsDir, 'secrets.env'), run.secrets.map((s) => `${s.name}=${shellQuote(s.value)}\n`).join(''), { mode: 0o600 });
    const [create, start, remove] = engineArgs(engine, run, secretsDir, name) as [string[], string[], string[]];
    const created = await pulling(() => execa(engine, create, { reject: false, all: true }));
    if (created.exitCode !== 0) throw new BuilderUnavailable(`${engine} could not start ${run.image}: ${String(created.all).trim().split('\n').pop()}`, 'container-start-failed');
    try {
      await handOver(engine, run, secretsDir, name);
      if (engine === 'podman') return (await execa(engine, start, { stdio: 'inherit', reject: false })).exitCode ?? 1;
      const child = execa(engine, start, { stdio: 'inherit', reject: false, detached: true });
      let signals = 0;
      const forward = (signal: NodeJS.Signals) => {
        const engineSignal = () => { try { process.kill(child.pid!, signal); } catch { /* already gone */ } };
        if (signals++ > 0 || child.pid === undefined) return engineSignal();
        void sessionLeaderBelow(child.pid).then((pid) => {
          if (pid === undefined) return engineSignal();
          try { process.kill(pid, signal); } catch { engineSignal(); }
        });
      };
      const stops = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => [signal, () => forward(signal)] as const);
      for (const [signal, handler] of stops) process.on(signal, handler);
      try {
        return (await child).exitCode ?? 1;
      } finally {
        for (const [signal, handler] of stops) process.off(signal, handler);
      }
    } finally {
      await execa(engine, remove, { reject: false });
    }
  } finally {
    process.off('SIGINT', ignore);
    await removeSecrets(engine, run, secretsDir);
  }
}

/**
 * The first process below `pid` (depth first, in pid order) that leads a
 * session of its own: the container's first process, which runc starts with
 * setsid. Read from /proc (Linux, as buildah is); undefined when there is none.
 */
export async function sessionLeaderBelow(pid: number): Promise<number | undefined> {
  const children = new Map<number, number[]>();
  const session = new Map<number, number>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined);
    // pid (comm) state ppid pgrp session …; comm may hold spaces and parentheses.
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (!fields || fields.length < 4) continue;
    const [ppid, sid] = [Number(fields[1]), Number(fields[3])];
    session.set(Number(entry), sid);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const own = session.get(pid);
  const below = (p: number): number | undefined => {
    for (const c of (children.get(p) ?? []).sort((a, b) => a - b)) {
      if (session.get(c) === c && c !== own) return c;
      const found = below(c);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return below(pid);
}
