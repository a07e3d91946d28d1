/** Render environments of a validated repository, and write them out for a builder. */
import { writeFile, mkdir, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CheckedEnvironment } from '../check/index.js';
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
