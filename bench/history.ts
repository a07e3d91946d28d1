/** Generated git histories for the revisions benchmark, written with `git fast-import`. */
import { execa } from 'execa';
import { mkdir, rm } from 'node:fs/promises';

const ENVIRONMENTS = 500;

function spec(env: number, rev: number): string {
  return `owner: "@acme/team-${env % 17}"\ntitle: Environment ${env}\ninstructions: |\n  RUN echo ${env} ${rev}\n`;
}

function blob(path: string, text: string): string {
  return `M 100644 inline ${path}\ndata ${Buffer.byteLength(text)}\n${text}\n`;
}

/**
 * A repository at `dir` whose main branch has `commits` first-parent commits:
 * the first adds 500 environments, then each changes one of them, except
 * every seventh, which changes only README.md.
 */
export async function generateHistory(dir: string, commits: number): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await execa('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  const parts: string[] = [];
  for (let i = 0; i < commits; i++) {
    const message = i === 0 ? 'Add environments\n' : `Change ${i}\n`;
    parts.push(`commit refs/heads/main\nmark :${i + 1}\ncommitter Dev <dev@example.com> ${1700000000 + i} +0000\ndata ${message.length}\n${message}`);
    if (i > 0) parts.push(`from :${i}\n`);
    if (i === 0) {
      for (let e = 0; e < ENVIRONMENTS; e++) parts.push(blob(`environments/env-${String(e).padStart(4, '0')}.yaml`, spec(e, 0)));
      parts.push(blob('README.md', 'docs\n'));
    } else if (i % 7 === 0) {
      parts.push(blob('README.md', `docs ${i}\n`));
    } else {
      const e = i % ENVIRONMENTS;
      parts.push(blob(`environments/env-${String(e).padStart(4, '0')}.yaml`, spec(e, i)));
    }
    parts.push('\n');
  }
  await execa('git', ['fast-import', '--quiet'], { cwd: dir, input: parts.join('') });
  await execa('git', ['read-tree', 'main'], { cwd: dir });
}

/** One more commit on main changing one environment, as a push after the index was built would. */
export async function addCommit(dir: string, n: number): Promise<void> {
  const message = `Change after index ${n}\n`;
  const text = [
    `commit refs/heads/main\ncommitter Dev <dev@example.com> ${1800000000 + n} +0000\ndata ${message.length}\n${message}`,
    'from refs/heads/main^0\n',
    blob('environments/env-0001.yaml', spec(1, 1_000_000 + n)),
    '\n',
  ].join('');
  await execa('git', ['fast-import', '--quiet', '--force'], { cwd: dir, input: text });
}
