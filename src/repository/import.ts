/**
 * `envctl import`: environments and their revisions from the hosted
 * product into git, one commit per product revision, oldest first, each
 * with the revision's author, time and summary, so `envctl revisions`
 * numbers them as the product did.
 *
 * - What is imported is said by trailers (`Product-Environment`,
 *   `Product-Revision`, `Product-Revision-Number`, `Imported-As`) on the
 *   branch's first-parent commits: a re-run imports only later revisions,
 *   and a run that stopped continues where it stopped.
 * - Each commit is whole or absent (git/import-commit.ts: objects, then a
 *   compare-and-swap of the branch, then the work tree).
 * - A revision that cannot be read is still a commit (a gap: the file as
 *   before, with a header comment naming it; see product/map.ts gapFiles),
 *   named in the output and in the next revision's message, so the numbers
 *   after it stay the product's.
 * - Environments built on another come after it (product/order.ts).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pausePoint } from '../files/pause.js';
import { applyToWorkTree, branchTip, commitChanges, filesAt, firstParentMessages, headBranch, lagBehind, type FileChange } from '../git/import-commit.js';
import { getSourceArchive, ProductError, type ProductEndpoint } from '../hosted/client.js';
import { EnvctlError, externalError } from '../model/errors.js';
import { gapFiles, mapRevision, MappingError, type MapContext, type MappedFile } from '../product/map.js';
import { commitMessage, gitAuthor, readTrailers } from '../product/message.js';
import { chooseName } from '../product/names.js';
import { importOrder } from '../product/order.js';
import { revisionsOf, updateRevisions } from '../store/revision-index.js';
import type { Repository } from './index.js';
import { importedState, isGapError, readProduct, type ProductEnvironmentRead } from './import-read.js';

export interface ImportOptions extends ProductEndpoint {
  /** Product environment ids; default every environment the key may see. Their bases come along. */
  environments?: string[];
  dryRun?: boolean;
  /** Told of each step as it happens (the CLI prints them). */
  onEvent?: (event: ImportEvent) => void;
}

export type ImportEvent =
  | { kind: 'version'; version: string }
  | { kind: 'name'; id: string; name: string; collided: string }
  | { kind: 'note'; text: string }
  | { kind: 'revision'; name: string; number: number; summary: string; author: string; date: string; files: string[]; removed: string[]; notes: string[]; commit?: string }
  | { kind: 'gap'; name: string; number: number; reason: string; commit?: string };

export interface ImportResult {
  /** Commits made (or that a dry run would make). */
  revisions: number;
  gaps: number;
  environments: string[];
}

/** The repository refuses an import (input, code `import-refused`; `data.why`: detached, dirty). */
export class ImportRefused extends EnvctlError {
  constructor(why: 'detached' | 'dirty', message: string) {
    super('input', 'import-refused', message, { data: { why } });
  }
}

export async function importFromProduct(repo: Repository, opts: ImportOptions): Promise<ImportResult> {
  const { root, config } = repo;
  const dir = config.environmentsDir;
  const tell = opts.onEvent ?? (() => undefined);
  const branch = await headBranch(root);
  if (branch === undefined) throw new ImportRefused('detached', 'HEAD is detached; check out the branch to import onto');
  if (branch !== config.branch) tell({ kind: 'note', text: `importing onto ${branch}; revisions are numbered on ${config.branch}: fast-forward ${config.branch} to it (a merge commit would count as one revision)` });
  let tip = await branchTip(root, branch);

  const log = firstParentMessages(root, tip);
  const found = await lagBehind(root, dir, tip);
  // Only an import's own commit can have left its work tree behind; otherwise those changes are the user's.
  const fromImport = log[0] !== undefined && readTrailers(log[0].message) !== undefined;
  const lagging = fromImport ? found.lagging : [];
  const own = fromImport ? found.own : [...found.own, ...found.lagging.map((c) => c.path)];
  if (own.length) throw new ImportRefused('dirty', `${dir}/ has uncommitted changes (${own.slice(0, 5).join(', ')}${own.length > 5 ? ', …' : ''}); commit or stash them first`);
  if (lagging.length && !opts.dryRun) {
    await applyToWorkTree(root, lagging);
    tell({ kind: 'note', text: `finished the work tree of the interrupted import (${lagging.map((c) => c.path).join(', ')})` });
  }

  const state = importedState(log);
  const endpoint: ProductEndpoint = { url: opts.url, token: opts.token };
  const read = await readProduct(endpoint, state, opts.environments);
  tell({ kind: 'version', version: read.version });
  for (const [id, why] of read.unavailable) tell({ kind: 'note', text: `base environment ${id} cannot be read (${why}): revisions built on it are gaps` });

  const bases = new Map<string, Set<string>>();
  for (const [id, e] of read.environments) {
    bases.set(id, new Set(e.fresh.flatMap((r) => (r.ok && r.revision.base.kind === 'environment' ? [r.revision.base.environmentId] : [])).filter((b) => read.environments.has(b))));
  }
  const order = importOrder([...read.environments.keys()], bases);
  if (!Array.isArray(order)) throw new ProductError(`product ${new URL(opts.url).host}`, 'product-bad-response', `environments are built on each other in a circle: ${order.cycle.join(' → ')}`);

  // Names: those given before stay; new ones avoid every name the branch ever had and the work tree holds.
  const names = new Map<string, string>([...state].map(([id, s]) => [id, s.name]));
  const taken = new Set<string>([...names.values(), ...(await historyNames(repo, branch)), ...(await workTreeNames(join(root, dir)))]);
  for (const id of order) {
    if (names.has(id) || read.environments.get(id)!.fresh.length === 0) continue;
    const choice = chooseName(read.environments.get(id)!.environment.name, taken);
    names.set(id, choice.name);
    if (choice.collided !== undefined) tell({ kind: 'name', id, name: choice.name, collided: choice.collided });
  }

  const done = new Map<string, number>();
  /** A base revision's imported name and number, once its environment is imported. */
  const baseOf = (environmentId: string, revisionId: string) => {
    const name = names.get(environmentId);
    if (name === undefined || read.unavailable.has(environmentId)) return undefined;
    const number = read.environments.get(environmentId)?.refs.find((r) => r.id === revisionId)?.number
      ?? [...(state.get(environmentId)?.ids ?? [])].find(([, id]) => id === revisionId)?.[0];
    const imported = Math.max(state.get(environmentId)?.last ?? 0, done.get(environmentId) ?? 0);
    return number !== undefined && number <= imported ? { environment: name, revision: number } : undefined;
  };
  const result: ImportResult = { revisions: 0, gaps: 0, environments: [] };

  for (const id of order) {
    const e = read.environments.get(id)!;
    if (e.fresh.length === 0) continue;
    const name = names.get(id)!;
    result.environments.push(name);
    const ctx: MapContext = { dir, name, baseOf };
    let previous: MappedFile[] = await filesAt(root, tip, [`${dir}/${name}.yaml`, `${dir}/${name}/`]);
    const prior = state.get(id);
    let gaps = [...(prior?.trailingGaps ?? [])];
    let lastTime = prior?.lastTime;
    let admin: string[] = [];
    for (const [i, r] of e.fresh.entries()) {
      const step = await revisionFiles(endpoint, e, r, previous, ctx, read.unavailable);
      const when = Math.floor(step.ok ? step.created / 1000 : lastTime ?? nextReadable(e.fresh.slice(i)) ?? 0);
      const changes = diffFiles(previous, step.files);
      const message = commitMessage({
        name, environmentId: id, revisionId: r.ref.id, number: r.ref.number, summary: step.ok ? step.summary : '',
        ...(step.ok ? { gapsBefore: gaps, notes: step.notes } : { unreadable: step.reason }),
      });
      const author = step.ok ? { ...step.author, timestamp: when } : { name: 'envctl import', email: 'import@product.invalid', timestamp: when };
      let commit: string | undefined;
      if (!opts.dryRun) {
        commit = await commitChanges(root, branch, tip, changes, message, author);
        tip = commit;
        await pausePoint('import-committed'); // tests kill here: the branch moved, the work tree not yet
        await applyToWorkTree(root, changes);
      }
      const commitField = commit !== undefined ? { commit } : {};
      if (step.ok) {
        tell({
          kind: 'revision', name, number: r.ref.number, summary: message.split('\n')[0]!, author: author.name, date: new Date(when * 1000).toISOString(),
          files: changes.filter((c) => c.bytes !== null).map((c) => c.path), removed: changes.filter((c) => c.bytes === null).map((c) => c.path), notes: step.notes, ...commitField,
        });
        admin = step.admin;
        gaps = [];
      } else {
        tell({ kind: 'gap', name, number: r.ref.number, reason: step.reason, ...commitField });
        gaps.push({ number: r.ref.number, reason: step.reason });
        result.gaps++;
      }
      result.revisions++;
      previous = step.files;
      lastTime = when;
      done.set(id, r.ref.number);
    }
    if (admin.length) tell({ kind: 'note', text: `${name} uses administrator settings (${admin.join(', ')}): validate wants it under policy.administratorFields in envctl.yaml (and risky docker arguments under policy)` });
  }

  if (!opts.dryRun && branch === config.branch) await checkNumbers(repo, names, done);
  return result;
}

/** The time of the first readable revision of `rest` (seconds): a gap before any readable revision takes it. */
function nextReadable(rest: ProductEnvironmentRead['fresh']): number | undefined {
  for (const r of rest) if (r.ok) return r.revision.created / 1000;
  return undefined;
}

type Step =
  | { ok: true; files: MappedFile[]; notes: string[]; admin: string[]; summary: string; created: number; author: { name: string; email: string } }
  | { ok: false; files: MappedFile[]; reason: string };

/** A revision's files: mapped from its definition and source archive, or the gap's. */
async function revisionFiles(endpoint: ProductEndpoint, e: ProductEnvironmentRead, r: ProductEnvironmentRead['fresh'][number], previous: MappedFile[], ctx: MapContext, unavailable: Map<string, string>): Promise<Step> {
  const gap = (reason: string): Step => ({ ok: false, files: gapFiles(e.environment, r.ref.number, r.ref.id, reason, previous, ctx), reason });
  if (!r.ok) return gap(r.reason);
  const base = r.revision.base;
  if (base.kind === 'environment' && unavailable.has(base.environmentId)) return gap(`its base environment ${base.environmentId} cannot be read: ${unavailable.get(base.environmentId)}`);
  let archive;
  try {
    archive = await getSourceArchive(endpoint, r.ref.id);
  } catch (err) {
    if (!isGapError(err)) throw err;
    return gap(err.message);
  }
  try {
    const mapped = mapRevision(e.environment, r.revision, archive, ctx);
    return { ok: true, files: mapped.files, notes: mapped.notes, admin: mapped.adminFields, summary: r.revision.summary, created: r.revision.created, author: gitAuthor(r.revision.author) };
  } catch (err) {
    if (err instanceof MappingError) return gap(err.message);
    throw err;
  }
}

/** The changes that turn `before` into `after`: every file of after, and deletions of the paths only before had. */
function diffFiles(before: MappedFile[], after: MappedFile[]): FileChange[] {
  const keep = new Set(after.map((f) => f.path));
  const same = (a: MappedFile, b: MappedFile) => a.executable === b.executable && Buffer.compare(Buffer.from(a.bytes), Buffer.from(b.bytes)) === 0;
  return [
    ...after.filter((f) => { const b = before.find((x) => x.path === f.path); return b === undefined || !same(b, f); }).map((f) => ({ path: f.path, bytes: f.bytes, executable: f.executable })),
    ...before.filter((f) => !keep.has(f.path)).map((f) => ({ path: f.path, bytes: null })),
  ];
}

async function historyNames(repo: Repository, branch: string): Promise<string[]> {
  if ((await branchTip(repo.root, branch)) === undefined) return [];
  const log = await updateRevisions(repo.root, repo.config, branch);
  return [...new Set((await log.read()).map((r) => r.environment))];
}

async function workTreeNames(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  return entries.map((e) => (e.isDirectory() ? e.name : e.name.replace(/\.ya?ml$/, '')));
}

/** Each imported environment's revision count on the branch equals the product's number of its last revision. */
async function checkNumbers(repo: Repository, names: Map<string, string>, done: Map<string, number>): Promise<void> {
  for (const [id, last] of done) {
    const name = names.get(id)!;
    const count = (await revisionsOf(repo.root, repo.config, name)).length;
    if (count !== last) {
      throw externalError('git', 'import-numbering', `${name} has ${count} revisions on ${repo.config.branch} but the product's last is ${last}: its history there does not start with the import`, { data: { name, count, last } });
    }
  }
}
