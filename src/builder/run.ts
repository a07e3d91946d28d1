/** Runs one builder command through execa (argument array, no shell), its output appended to the build log. */
import { execa } from 'execa';
import { createWriteStream } from 'node:fs';
import { BuildCancelled, BuildFailed } from './types.js';

export async function runLogged(command: string, args: string[], opts: { logFile: string; stage: 'build' | 'push'; env?: Record<string, string>; signal?: AbortSignal }): Promise<void> {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  log.write(`$ ${command} ${args.join(' ')}\n`);
  const child = execa(command, args, {
    reject: false, all: true, env: opts.env ?? {},
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  child.all?.pipe(log, { end: false });
  const result = await child;
  await new Promise<void>((r) => log.end(r));
  if (result.isCanceled) throw new BuildCancelled(`${opts.stage} stopped: ${String(opts.signal?.reason ?? 'cancelled')}`, command);
  if (result.exitCode !== 0) {
    const tail = String(result.all ?? '').split('\n').slice(-25).join('\n');
    const last = tail.split('\n').filter((l) => l.trim()).pop() ?? result.shortMessage;
    throw new BuildFailed(command, `${opts.stage} failed: ${last}`, tail, opts.stage);
  }
}
