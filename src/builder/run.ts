/** Runs one builder command through execa (argument array, no shell), its output appended to the build log. */
import { execa } from 'execa';
import { createWriteStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { BuildCancelled, BuildFailed } from './types.js';

/**
 * What a builder process sees of envctl's environment: what it needs to find
 * its tools, storage, user namespace and proxies, and nothing else. The
 * registry password (ENVCTL_REGISTRY_PASSWORD, a CI token) and the GitHub
 * token stay with envctl; the builder reads the login from its auth file.
 */
const PASSED = /^(PATH|HOME|USER|LOGNAME|SHELL|TMPDIR|LANG|LC_[A-Z]+|TZ|TERM|XDG_[A-Z_]+|CONTAINERS_[A-Z_]+|BUILDAH_[A-Z_]+|STORAGE_[A-Z_]+|DOCKER_(CONFIG|HOST|CONTEXT|CERT_PATH|TLS_VERIFY)|BUILDX_[A-Z_]+|BUILDKIT_[A-Z_]+|(HTTP|HTTPS|NO|ALL)_PROXY|(http|https|no|all)_proxy)$/;

export function builderEnv(extra: Record<string, string> = {}, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) if (value !== undefined && PASSED.test(name)) env[name] = value;
  return { ...env, ...extra };
}

export async function runLogged(command: string, args: string[], opts: { logFile: string; stage: 'build' | 'push'; env?: Record<string, string>; signal?: AbortSignal; mask?: (text: string) => string }): Promise<void> {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  log.write(`$ ${command} ${args.join(' ')}\n`);
  const child = execa(command, args, {
    reject: false, all: true, env: builderEnv(opts.env), extendEnv: false,
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  const flush = opts.mask ? maskedInto(log, opts.mask, child.all) : (child.all?.pipe(log, { end: false }), () => undefined);
  const result = await child;
  flush();
  await new Promise<void>((r) => log.end(r));
  if (result.isCanceled) throw new BuildCancelled(`${opts.stage} stopped: ${String(opts.signal?.reason ?? 'cancelled')}`, command);
  if (result.exitCode !== 0) {
    const tail = (opts.mask ?? String)(String(result.all ?? '')).split('\n').slice(-25).join('\n');
    const last = tail.split('\n').filter((l) => l.trim()).pop() ?? result.shortMessage;
    throw new BuildFailed(command, `${opts.stage} failed: ${last}`, tail, opts.stage);
  }
}

/**
 * The output into the log with build secrets masked, a whole line at a time
 * (a value split across two chunks is still found); returns what writes the
 * last, unterminated line.
 */
function maskedInto(log: NodeJS.WritableStream, mask: (text: string) => string, from: NodeJS.ReadableStream | undefined): () => void {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  from?.on('data', (chunk: Buffer) => {
    pending += decoder.write(chunk);
    const nl = pending.lastIndexOf('\n');
    if (nl === -1) return;
    log.write(mask(pending.slice(0, nl + 1)));
    pending = pending.slice(nl + 1);
  });
  return () => {
    pending += decoder.end();
    if (pending) log.write(mask(pending));
  };
}
