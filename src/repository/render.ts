/** Render environments of a validated repository, and write them out for a builder. */
import { writeFile, mkdir, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CheckedEnvironment } from '../check/index.js';
import { rawBaseEnvironment } from '../check/raw.js';
import type { LoadedEnvironment } from '../load/environments.js';
import type { Problem } from '../model/problem.js';
import { replaceDir } from '../files/write.js';
import type { Config } from '../model/config.js';
import { renderEnvironment, type Rendered, type RenderOptions } from '../render/index.js';

export function renderAll(envs: CheckedEnvironment[], config: Config, names?: Set<string>, extra: Partial<RenderOptions> = {}): Rendered[] {
  const all = new Map(envs.map((e) => [e.name, e]));
  return envs.filter((e) => !names || names.has(e.name)).map((e) => renderEnvironment(e, { config, all, ...extra }));
}

/**
 * `<out>/<name>/`: Dockerfile, run-spec.json, content-key, and context/ with
 * the build-context files. Each folder is swapped in whole.
 */
export async function writeRendered(out: string, rendered: Rendered, env: CheckedEnvironment): Promise<string> {
  const target = join(out, rendered.name);
  await replaceDir(target, async (dir) => {
    await writeFile(join(dir, 'Dockerfile'), rendered.dockerfile);
    await writeFile(join(dir, 'run-spec.json'), `${JSON.stringify(rendered.runSpec, null, 2)}\n`);
    await writeFile(join(dir, 'content-key'), `${rendered.contentKey}\n`);
    const context = join(dir, 'context');
    await mkdir(context, { recursive: true });
    for (const f of env.context) {
      const path = join(context, f.path.slice((env.folder ?? '').length + 1));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, f.bytes);
      if (f.executable) await chmod(path, 0o755);
    }
  });
  return target;
}

/**
 * The environments `render --out` without names can write: each whose own
 * file and whose bases' files hold no error and whose spec (and theirs) is
 * valid. `blocked` are the others, `errors` every error (each keeps one of
 * them back). An error in a file no environment owns (envctl.yaml, a file
 * that is no environment) may touch any of them, so it blocks them all.
 * Each base chain is walked once (a verdict is shared down the chain).
 */
export function renderableAll(loaded: LoadedEnvironment[], valid: CheckedEnvironment[], problems: Problem[]): { ready: Set<string>; blocked: Set<string>; errors: Problem[] } {
  const errors = problems.filter((p) => p.severity === 'error');
  const files = new Set(loaded.map((e) => e.file));
  const everywhere = errors.some((p) => !files.has(p.file));
  const broken = new Set(errors.map((p) => p.file));
  const validNames = new Set(valid.map((e) => e.name));
  const byName = new Map(loaded.map((e) => [e.name, e]));
  const verdict = new Map<string, boolean>(); // name → blocked
  for (const start of loaded) {
    const path: string[] = [];
    const onPath = new Set<string>();
    let name: string | undefined = start.name;
    let blocked = everywhere;
    while (!blocked && name !== undefined && !verdict.has(name)) {
      const env = byName.get(name);
      // An unknown base or a loop: their own errors, and nothing on them can be built.
      if (!env || onPath.has(name)) { blocked = true; break; }
      path.push(name);
      onPath.add(name);
      if (!validNames.has(name) || broken.has(env.file)) { blocked = true; break; }
      name = rawBaseEnvironment(env);
    }
    if (!blocked && name !== undefined) blocked = verdict.get(name)!;
    for (const p of path) verdict.set(p, blocked);
    if (!verdict.has(start.name)) verdict.set(start.name, blocked);
  }
  const ready = new Set<string>();
  const blocked = new Set<string>();
  for (const [name, b] of verdict) (b ? blocked : ready).add(name);
  // Every error keeps something back: one in an environment's file blocks that environment.
  return { ready, blocked, errors };
}
