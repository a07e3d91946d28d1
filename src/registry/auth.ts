/**
 * Registry credentials, looked up the way buildah and docker look them up,
 * so a `buildah login`, `docker login` or CI login step also serves
 * envctl's own API calls (tagging, digests, layer counts):
 *   1. ENVCTL_REGISTRY_USERNAME / ENVCTL_REGISTRY_PASSWORD, for the
 *      configured registry only (never sent to a base image's registry);
 *   2. REGISTRY_AUTH_FILE, then containers' auth.json, then docker's
 *      config.json (`auths.<host>.auth`, base64 of `user:password`).
 * Credential helpers (`credsStore`) are not run.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Credentials {
  username: string;
  password: string;
}

export type CredentialLookup = (registry: string) => Credentials | undefined;

/** The registry host[:port] of `host[:port][/namespace]`. */
export function registryHost(address: string): string {
  return address.split('/')[0]!;
}

const DOCKER_HUB = 'registry-1.docker.io';

/** Docker Hub under the name parseReference gives it (buildah and podman write `docker.io`, docker `index.docker.io`). */
function canonicalHost(host: string): string {
  return host === 'docker.io' || host === 'index.docker.io' ? DOCKER_HUB : host;
}

/** The key an auth file holds a host's login under: Docker Hub's is docker's legacy key, which containers/image also reads. */
function authFileKey(host: string): string {
  return host === DOCKER_HUB ? 'https://index.docker.io/v1/' : host;
}

export function credentialLookup(configuredRegistry: string, env: NodeJS.ProcessEnv = process.env): CredentialLookup {
  const configured = canonicalHost(registryHost(configuredRegistry));
  const fromEnv = env.ENVCTL_REGISTRY_USERNAME && env.ENVCTL_REGISTRY_PASSWORD !== undefined
    ? { username: env.ENVCTL_REGISTRY_USERNAME, password: env.ENVCTL_REGISTRY_PASSWORD }
    : undefined;
  let files: Record<string, Credentials>[] | undefined;
  return (registry) => {
    if (fromEnv && registry === configured) return fromEnv;
    files ??= authFiles(env).map(readAuthFile);
    for (const auths of files) if (auths[registry]) return auths[registry];
    return undefined;
  };
}

/** Where buildah, podman and docker keep logins, in the order they read them. */
export function authFiles(env: NodeJS.ProcessEnv): string[] {
  const home = env.HOME ?? homedir();
  return [
    env.REGISTRY_AUTH_FILE,
    env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json') : undefined,
    join(env.XDG_CONFIG_HOME ?? join(home, '.config'), 'containers', 'auth.json'),
    join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json'),
  ].filter((p): p is string => p !== undefined);
}

function readAuthFile(path: string): Record<string, Credentials> {
  let auths: Record<string, { auth?: string; username?: string; password?: string }>;
  try {
    auths = (JSON.parse(readFileSync(path, 'utf8')) as { auths?: typeof auths }).auths ?? {};
  } catch {
    return {}; // missing or unreadable: the next file may have it
  }
  const out: Record<string, Credentials> = {};
  for (const [key, entry] of Object.entries(auths)) {
    // Keys may be `host`, `https://host` or `https://host/v1/` (docker hub's legacy key).
    const host = canonicalHost(key.replace(/^https?:\/\//, '').split('/')[0]!);
    const decoded = entry.auth ? Buffer.from(entry.auth, 'base64').toString('utf8') : undefined;
    const colon = decoded?.indexOf(':') ?? -1;
    if (decoded && colon > 0) out[host] ??= { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    else if (entry.username && entry.password !== undefined) out[host] ??= { username: entry.username, password: entry.password };
  }
  return out;
}

/**
 * A containers auth.json holding the environment's login for the
 * configured registry plus every login the usual files hold, for builders
 * that read exactly one file (buildah --authfile, docker's DOCKER_CONFIG).
 * Undefined when no login comes from the environment: builders then read
 * their usual files themselves.
 */
export function authFileText(configuredRegistry: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env.ENVCTL_REGISTRY_USERNAME || env.ENVCTL_REGISTRY_PASSWORD === undefined) return undefined;
  const auths: Record<string, { auth: string }> = {};
  for (const path of authFiles(env).reverse()) {
    for (const [host, c] of Object.entries(readAuthFile(path))) auths[authFileKey(host)] = { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') };
  }
  auths[authFileKey(canonicalHost(registryHost(configuredRegistry)))] = { auth: Buffer.from(`${env.ENVCTL_REGISTRY_USERNAME}:${env.ENVCTL_REGISTRY_PASSWORD}`).toString('base64') };
  return `${JSON.stringify({ auths }, null, 2)}\n`;
}

/**
 * authFileText written to a 0600 file in a private temporary folder, outside
 * the repository and any build context (a RUN step sees neither), for one
 * builder or engine call; `remove` deletes it as soon as that call ends.
 * Undefined when envctl is given no login.
 */
export async function writeLoginFile(configuredRegistry: string, env: NodeJS.ProcessEnv = process.env): Promise<{ file: string; remove: () => Promise<void> } | undefined> {
  const text = authFileText(configuredRegistry, env);
  if (!text) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'envctl-auth-'));
  const file = join(dir, 'auth.json');
  await writeFile(file, text, { mode: 0o600 });
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}
