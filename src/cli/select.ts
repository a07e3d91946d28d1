/** Command-line names or paths → environment names. */
import { relative, resolve, sep } from 'node:path';
import type { LoadedEnvironment } from '../load/environments.js';
import { UsageError } from './command.js';

/** Accepts `name`, `environments/name.yaml`, `environments/name/` or any file inside its folder. */
export function selectEnvironments(args: string[], loaded: LoadedEnvironment[], root: string, cwd: string): Set<string> {
  const byName = new Map(loaded.map((e) => [e.name, e]));
  const out = new Set<string>();
  for (const arg of args) {
    if (byName.has(arg)) {
      out.add(arg);
      continue;
    }
    const rel = relative(root, resolve(cwd, arg)).split(sep).join('/').replace(/\/$/, '');
    const hit = loaded.find((e) => e.file === rel || (e.folder !== undefined && (rel === e.folder || rel.startsWith(`${e.folder}/`))));
    if (!hit) throw new UsageError(`no environment named or at "${arg}"`);
    out.add(hit.name);
  }
  return out;
}
