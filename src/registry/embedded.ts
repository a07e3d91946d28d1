/**
 * The embedded registry: CNCF Distribution (Debian's `docker-registry`)
 * on 127.0.0.1, its data under `.envctl/registry/`. A registry already
 * answering on the port is reused and left running; one envctl started is
 * stopped when the caller is done with it.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvctlError } from '../model/errors.js';
import { statePaths } from '../store/paths.js';

export interface RunningRegistry {
  address: string;
  /** True when this process started it (and stop() ends it). */
  started: boolean;
  stop(): Promise<void>;
}

/**
 * The embedded registry cannot run here (external, host `embedded registry`):
 * code `registry-binary-missing` (Debian's docker-registry is not installed)
 * or `registry-start-failed`; the hint says what to do.
 */
export class RegistryUnavailable extends EnvctlError {
  constructor(code: string, message: string, hint: string) {
    super('external', code, message, { host: 'embedded registry', hint });
  }
}

async function answers(address: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(1000) });
    return res.status === 200 || res.status === 401;
  } catch {
    return false;
  }
}

export async function ensureEmbeddedRegistry(root: string, port: number): Promise<RunningRegistry> {
  const address = `127.0.0.1:${port}`;
  if (await answers(address)) return { address, started: false, stop: async () => undefined };
  const binary = ['/usr/bin/docker-registry', '/usr/local/bin/docker-registry', '/usr/bin/registry'].find((p) => existsSync(p));
  if (!binary) throw new RegistryUnavailable('registry-binary-missing', 'it needs Debian\'s docker-registry package, which is not installed', 'run scripts/ensure.sh apt docker-registry (or set registry.address in envctl.yaml)');
  const dir = statePaths.registry(root);
  await mkdir(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'config.yml');
  await writeFile(config, [
    'version: 0.1',
    'log: { level: warn }',
    `storage: { filesystem: { rootdirectory: ${JSON.stringify(join(dir, 'data'))} }, delete: { enabled: true } }`,
    `http: { addr: "${address}" }`,
    '',
  ].join('\n'));
  const log = openSync(join(dir, 'registry.log'), 'a');
  // A daemon outliving this call: node's spawn (argument array, no shell) detached from our process group.
  const child = spawn(binary, ['serve', config], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  for (let i = 0; i < 100; i++) {
    if (await answers(address)) {
      return {
        address, started: true,
        stop: async () => {
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        },
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new RegistryUnavailable('registry-start-failed', `it did not start on ${address}`, `see ${join(dir, 'registry.log')}`);
}
