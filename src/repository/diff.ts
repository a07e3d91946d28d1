/**
 * `envctl diff`: an environment between two revisions, or a revision and the
 * work tree: unified diffs of its YAML, its rendered Dockerfile (bases named
 * as the ledger knows them) and its build-context files. The work tree side
 * is the repository's sources (read once, git's ignore rules applied), so a
 * file git ignores, which no build would see, is no difference.
 * `diff --packages`: the two revisions' images instead, package by package
 * (packages.ts reads them), and the image size's change.
 */
import { createTwoFilesPatch } from 'diff';
import type { Revision } from '../revisions/number.js';
import { environmentAt, renderLoaded, type ContextFile, type EnvironmentAt } from './history.js';
import type { Repository } from './index.js';
import { keyContext } from './keys.js';
import { diffPackages, type EcosystemDiff } from '../packages/index.js';
import { packagesAt, type RevisionPackages } from './packages.js';

/** The patches, spec first, then the Dockerfile, then context files by path; empty when nothing differs. */
export async function environmentDiff(repo: Repository, name: string, from: Revision, to: Revision | 'worktree'): Promise<string[]> {
  const ctx = await keyContext(repo);
  const a = await environmentAt(repo.root, repo.config, from, ctx);
  const b: EnvironmentAt = to === 'worktree'
    ? renderLoaded((await repo.sources()).loaded.find((e) => e.name === name), repo.config, ctx)
    : await environmentAt(repo.root, repo.config, to, ctx);
  const fromLabel = `${name}@revision ${from.number}`;
  const toLabel = to === 'worktree' ? `${name}@working tree` : `${name}@revision ${to.number}`;
  const patch = (what: string, x: string, y: string) =>
    x === y ? '' : createTwoFilesPatch(`${fromLabel} ${what}`, `${toLabel} ${what}`, x, y, undefined, undefined, { context: 3 });
  const out = [
    patch('spec', a.spec, b.spec),
    patch('Dockerfile', a.rendered?.dockerfile ?? '', b.rendered?.dockerfile ?? ''),
  ];
  const before = new Map(a.context.map((f) => [f.path, f]));
  const after = new Map(b.context.map((f) => [f.path, f]));
  for (const path of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const x = before.get(path);
    const y = after.get(path);
    const what = `context/${path}`;
    const [tx, ty] = [textOf(x), textOf(y)];
    if (tx === null || ty === null) {
      if (!sameBytes(x, y)) out.push(`Binary ${what} differs: ${fromLabel} ${sizeOf(x)}, ${toLabel} ${sizeOf(y)}\n`);
    } else {
      out.push(patch(what, tx, ty));
    }
    if (x && y && x.executable !== y.executable) out.push(`${what}: executable bit ${y.executable ? 'set' : 'cleared'} (${fromLabel} → ${toLabel})\n`);
  }
  return out.filter((p) => p !== '');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The file's text; '' when absent; null when it is not text (invalid UTF-8, or a NUL byte). */
function textOf(f: ContextFile | undefined): string | null {
  if (!f) return '';
  if (f.bytes.includes(0)) return null;
  try {
    return UTF8.decode(f.bytes);
  } catch {
    return null;
  }
}

function sameBytes(x: ContextFile | undefined, y: ContextFile | undefined): boolean {
  return x !== undefined && y !== undefined && Buffer.from(x.bytes).equals(Buffer.from(y.bytes));
}

const sizeOf = (f: ContextFile | undefined) => (f ? `${f.bytes.length} bytes` : 'absent');

export interface PackageDiff {
  environment: string;
  from: Omit<RevisionPackages, 'packages' | 'environment'>;
  to: Omit<RevisionPackages, 'packages' | 'environment'>;
  /** Per ecosystem with any difference: added, removed and changed packages with their versions. */
  packages: EcosystemDiff[];
  /** Bytes B's image is larger (negative: smaller) than A's; null when either size is not recorded. */
  sizeChange: number | null;
}

/** The packages of `name`'s image at revision `from` → at `to`, and the image size's change. */
export async function packageDiff(repo: Repository, name: string, from: Revision, to: Revision): Promise<PackageDiff> {
  const [x, y] = await packagesAt(repo, name, [from.number, to.number]) as [RevisionPackages, RevisionPackages];
  const side = ({ packages: _p, environment: _e, ...rest }: RevisionPackages) => rest;
  return {
    environment: name, from: side(x), to: side(y), packages: diffPackages(x.packages, y.packages),
    sizeChange: x.size !== undefined && y.size !== undefined ? y.size - x.size : null,
  };
}
