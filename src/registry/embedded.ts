/**
 * The embedded registry: CNCF Distribution (Debian's `docker-registry`)
 * on 127.0.0.1, its data under `.envctl/registry/`. Each repository's
 * registry has an id (random, made once in `.envctl/registry/id`) and
 * answers every request with it and its data folder as response headers
 * (Distribution's `http.headers`). A registry already answering on the port
 * with both is this repository's and is reused and left running; anything
 * else on the port (another clone's registry, any other server) is refused,
 * because pushing there would record digests this repository's own
 * registry never holds. One envctl started is stopped when the caller is
 * done with it.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { link, mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../model/config.js';
import { EnvctlError } from '../model/errors.js';
import { repositoryOfRegistry, statePaths } from '../store/paths.js';

export interface RunningRegistry {
  address: string;
  /** True when this process started it (and stop() ends it). */
  started: boolean;
  stop(): Promise<void>;
}

/** The setting that moves the embedded registry to another port, named by the port-taken error. */
export const PORT_SETTING = 'registry.embeddedPort';

/** Response headers the embedded registry sends: its id, and its data folder (URI-encoded, so any path is a valid header value). */
export const ID_HEADER = 'X-Envctl-Registry';
export const ROOT_HEADER = 'X-Envctl-Registry-Root';

/**
 * The embedded registry cannot run here (external, host `embedded registry`):
 * code `registry-binary-missing` (Debian's docker-registry is not installed),
 * `registry-start-failed`, or `registry-port-taken` (something that is not
 * this repository's registry answers on the port; data: port, setting,
 * and `answeredBy`: `envctl` with the other `repository`, or `other`);
 * the hint says what to do.
 */
export class RegistryUnavailable extends EnvctlError {
  constructor(code: string, message: string, hint: string, data: Record<string, unknown> = {}) {
    super('external', code, message, { host: 'embedded registry', hint, data });
  }
}

/** Who is on the port: nobody, this repository's registry, an HTTP server that is not (maybe another clone's), or something that took the connection but gave no HTTP answer. */
type Answer = { kind: 'free' } | { kind: 'ours' } | { kind: 'foreign'; root?: string } | { kind: 'unclear'; why: string };

interface Identity { id: string; dir: string }

async function whoAnswers(address: string, own: Identity): Promise<Answer> {
  try {
    const res = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(3000) });
    await res.body?.cancel();
    const id = res.headers.get(ID_HEADER);
    const root = res.headers.get(ROOT_HEADER);
    const theirRoot = root === null ? undefined : safeDecode(root);
    // The folder too, not the id alone: a copied clone (cp -a) copies .envctl/registry/id, but its registry keeps data elsewhere.
    if (id === own.id && theirRoot === own.dir) return { kind: 'ours' };
    return { kind: 'foreign', ...(id !== null && theirRoot !== undefined ? { root: theirRoot } : {}) };
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') return { kind: 'free' };
    return { kind: 'unclear', why: code ?? (err instanceof Error ? err.message : String(err)) };
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function portTaken(port: number, answer: Exclude<Answer, { kind: 'free' | 'ours' }>): RegistryUnavailable {
  // The other registry sends its data folder, .envctl/registry inside its repository: name the repository.
  const other = answer.kind === 'foreign' && answer.root !== undefined ? repositoryOfRegistry(answer.root) : undefined;
  const what = other !== undefined ? `the embedded registry of another repository (${other})`
    : answer.kind === 'foreign' ? 'a server that is not this repository\'s embedded registry'
    : `something that is not this repository's embedded registry (it gave no HTTP answer: ${answer.why})`;
  return new RegistryUnavailable('registry-port-taken', `127.0.0.1:${port} is taken by ${what}; envctl will not use it for this repository's images`,
    `set ${PORT_SETTING} in envctl.yaml to a free port, or stop what listens on port ${port}`,
    { port, setting: PORT_SETTING, answeredBy: other !== undefined ? 'envctl' : 'other', ...(other !== undefined ? { repository: other } : {}) });
}

/**
 * This repository's registry id: read, or made once. Made beside the file
 * and hard-linked into place, which fails if another envctl made it first
 * (then its id wins), so two processes starting at once agree on one id
 * and nobody reads half a file. A file that is not an id is replaced.
 */
async function registryId(root: string): Promise<string> {
  const path = await statePaths.registryId(root);
  const valid = (text: string | undefined) => (text !== undefined && /^[0-9a-f]{32}$/.test(text.trim()) ? text.trim() : undefined);
  const read = async () => valid(await readFile(path, 'utf8').catch(() => undefined));
  const existing = await read();
  if (existing) return existing;
  const id = randomBytes(16).toString('hex');
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${id}\n`);
  try {
    await link(tmp, path);
    return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = await read();
    if (theirs) return theirs;
    await rename(tmp, path);
    return id;
  } finally {
    await rm(tmp, { force: true });
  }
}

export async function ensureEmbeddedRegistry(root: string, port: number): Promise<RunningRegistry> {
  const address = `127.0.0.1:${port}`;
  const paths = await statePaths.registry(root); // checked: no link on the way (store/paths.ts)
  await mkdir(paths.data, { recursive: true });
  // Absolute and resolved: the registry's config names its data folder so, whatever folder envctl was started in.
  const dir = await realpath(paths.dir);
  const own: Identity = { id: await registryId(root), dir };
  const before = await whoAnswers(address, own);
  if (before.kind === 'ours') return { address, started: false, stop: async () => undefined };
  if (before.kind !== 'free') throw portTaken(port, before);
  const binary = ['/usr/bin/docker-registry', '/usr/local/bin/docker-registry', '/usr/bin/registry'].find((p) => existsSync(p));
  if (!binary) throw new RegistryUnavailable('registry-binary-missing', 'it needs Debian\'s docker-registry package, which is not installed', 'run scripts/ensure.sh apt docker-registry (or set registry.address in envctl.yaml)');
  const config = paths.config;
  await writeFile(config, [
    'version: 0.1',
    'log: { level: warn }',
    `storage: { filesystem: { rootdirectory: ${JSON.stringify(join(dir, 'data'))} }, delete: { enabled: true } }`,
    `http: { addr: "${address}", headers: { ${ID_HEADER}: [${JSON.stringify(own.id)}], ${ROOT_HEADER}: [${JSON.stringify(encodeURIComponent(dir))}] } }`,
    '',
  ].join('\n'));
  const log = openSync(paths.log, 'a');
  // A daemon outliving this call: node's spawn (argument array, no shell) detached from our process group.
  const child = spawn(binary, ['serve', config], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  for (let i = 0; i < 100; i++) {
    const now = await whoAnswers(address, own);
    // Ours answering after our child exited: another envctl of this repository started it a moment earlier (ours lost the port to it).
    if (now.kind === 'ours' && child.exitCode !== null) return { address, started: false, stop: async () => undefined };
    if (now.kind === 'ours') {
      return {
        address, started: true,
        stop: async () => {
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        },
      };
    }
    // A server that is not ours took the port between the first look and the start.
    if (now.kind === 'foreign') {
      child.kill('SIGKILL');
      throw portTaken(port, now);
    }
    if (child.exitCode !== null) {
      // It could not bind: whatever holds the port (not speaking HTTP, or not yet) is not ours.
      if (now.kind === 'unclear') throw portTaken(port, now);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new RegistryUnavailable('registry-start-failed', `it did not start on ${address}`, `see ${join(dir, 'registry.log')}`);
}

/**
 * Runs `fn` with the embedded registry up when envctl.yaml names it
 * (`address: embedded`), started only if it is not running and stopped
 * afterwards if this call started it; other registries are the caller's to
 * reach.
 */
export async function withEmbeddedRegistry<T>(root: string, registry: Config['registry'], fn: () => Promise<T>): Promise<T> {
  const running = registry.embedded ? await ensureEmbeddedRegistry(root, registry.embeddedPort) : undefined;
  try {
    return await fn();
  } finally {
    await running?.stop();
  }
}
