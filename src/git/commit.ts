/** Work-tree writes through isomorphic-git: status, staging, committing. */
import fs from 'node:fs';
import git from 'isomorphic-git';

/** Tracked files that differ from HEAD in the work tree or the index (untracked files are not counted). */
export async function dirtyFiles(dir: string): Promise<string[]> {
  const rows = await git.statusMatrix({ fs, dir });
  // [path, HEAD, WORKDIR, STAGE]: 1,1,1 is clean; 0,2,0 is untracked.
  return rows.filter(([, h, w, s]) => !(h === 1 && w === 1 && s === 1) && !(h === 0 && s === 0)).map(([p]) => p as string);
}

/** Paths git tracks (in the index) under a prefix. */
export async function trackedFiles(dir: string, prefix: string): Promise<string[]> {
  return (await git.listFiles({ fs, dir })).filter((p) => p.startsWith(prefix));
}

export async function stage(dir: string, add: string[], remove: string[]): Promise<void> {
  for (const filepath of remove) await git.remove({ fs, dir, filepath });
  if (add.length) await git.add({ fs, dir, filepath: add });
}

export interface Person {
  name: string;
  email: string;
}

/** The committer from the environment (GIT_AUTHOR_*) or git config, as git itself would pick. */
export async function whoami(dir: string, env: NodeJS.ProcessEnv): Promise<Person | undefined> {
  const name = env.GIT_AUTHOR_NAME ?? ((await git.getConfig({ fs, dir, path: 'user.name' })) as string | undefined);
  const email = env.GIT_AUTHOR_EMAIL ?? ((await git.getConfig({ fs, dir, path: 'user.email' })) as string | undefined);
  return name && email ? { name, email } : undefined;
}

export async function commit(dir: string, message: string, author: Person): Promise<string> {
  return git.commit({ fs, dir, message, author });
}

/** Drops the files git would ignore; outside a git repository, keeps all. */
export async function withoutIgnored<T extends { path: string }>(dir: string, files: T[]): Promise<T[]> {
  if (!fs.existsSync(`${dir}/.git`)) return files;
  const keep: T[] = [];
  for (const f of files) {
    // Spec files are never build context; only their folders' other files need asking.
    if (f.path.endsWith('.yaml') || !(await git.isIgnored({ fs, dir, filepath: f.path }))) keep.push(f);
  }
  return keep;
}
