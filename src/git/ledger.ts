/**
 * The ledger on its state branch: read it, and add records in one commit
 * without touching the work tree (objects written with isomorphic-git).
 *
 * The branch ref is updated by compare-and-swap with git's own lock
 * protocol: `refs/heads/<branch>.lock` is created exclusively (so native git
 * and other envctl processes wait on it too), the ref must still hold the
 * value the new commit was built on, then the lock is renamed over the ref.
 * If another writer got there first, the records are merged onto its commit
 * and the write is tried again, so concurrent syncs keep every record.
 */
import fs from 'node:fs';
import { pausePoint } from '../files/pause.js';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import git from 'isomorphic-git';
import {
  emptyLedger, formatLedgerFile, LEDGER_FORMAT, mergeLedgers, mergePublications, parseLedgerFile,
  type BuildRecord, type EnvironmentLedger, type Ledger, type Publication,
} from '../ledger/model.js';
import { externalError } from '../model/errors.js';
import { gitdirOf } from './history.js';
import { ObjectStore, parseCommit, parseTree } from './objects.js';

export const LEDGER_FOLDER = 'ledger';

export interface LedgerState {
  /** Commit the state branch points at; undefined before the first sync. */
  head: string | undefined;
  ledger: Ledger;
}

async function refValue(gitdir: string, branch: string): Promise<string | undefined> {
  try {
    return await git.resolveRef({ fs, gitdir, ref: `refs/heads/${branch}` });
  } catch {
    return undefined;
  }
}

export async function readLedger(dir: string, branch: string): Promise<LedgerState> {
  const gitdir = gitdirOf(dir);
  const head = await refValue(gitdir, branch);
  return { head, ledger: head === undefined ? new Map() : readLedgerAt(gitdir, head) };
}

export function readLedgerAt(gitdir: string, commit: string): Ledger {
  const store = new ObjectStore(gitdir);
  try {
    const root = parseTree(store.read(parseCommit(store.read(commit).data).tree).data);
    const folder = root.find((e) => e.path === LEDGER_FOLDER && e.type === 'tree');
    const out: Ledger = new Map();
    if (!folder) return out;
    for (const e of parseTree(store.read(folder.oid).data)) {
      if (e.type !== 'blob' || !e.path.endsWith('.json')) continue;
      const ledger = parseLedgerFile(store.read(e.oid).data.toString('utf8'), `${LEDGER_FOLDER}/${e.path}`);
      out.set(ledger.environment, ledger);
    }
    return out;
  } finally {
    store.close();
  }
}

export interface RecordOptions {
  /** First line of the ledger commit's message (or made from the records it adds); the records are listed below it. */
  summary: string | ((added: BuildRecord[]) => string);
  /** Give up waiting for another writer's lock after this long. */
  lockTimeoutMs?: number;
}

export interface LedgerWrite {
  /** The branch's head afterwards: the new commit, or the unchanged head when nothing was new. */
  commit: string;
  /** Whether a commit was made. */
  created: boolean;
  /** The records the commit added (or changed); how many the ledger already held as they are. */
  added: BuildRecord[];
  already: number;
}

const AUTHOR = { name: 'envctl', email: 'envctl@users.noreply.invalid' };

/**
 * Adds `records` (by environment) to the ledger in one commit on `branch`
 * and returns that commit. Safe against concurrent writers. Records the
 * ledger already holds as they are are not written again; when that is all
 * of them, no commit is made and the branch's head is returned.
 */
export async function recordBuilds(dir: string, branch: string, records: Map<string, BuildRecord[]>, opts: RecordOptions): Promise<string> {
  return (await addToLedger(dir, branch, records, opts)).commit;
}

/** recordBuilds, saying whether it made a commit and how many records were new. */
export async function addToLedger(dir: string, branch: string, records: Map<string, BuildRecord[]>, opts: RecordOptions): Promise<LedgerWrite> {
  const gitdir = gitdirOf(dir);
  for (let attempt = 0; ; attempt++) {
    const old = await refValue(gitdir, branch);
    const current = old === undefined ? new Map<string, EnvironmentLedger>() : readLedgerAt(gitdir, old);
    const { fresh, already } = newRecords(current, records);
    // A re-run of the record job: an empty commit would claim builds it did not add.
    if (old !== undefined && fresh.size === 0) return { commit: old, created: false, added: [], already };
    const added = [...fresh.values()].flat();
    const summary = typeof opts.summary === 'string' ? opts.summary : opts.summary(added);
    const commit = await writeLedgerCommit(gitdir, old ? [old] : [], current, fresh, summary);
    await pausePoint('ledger-objects-written');
    if (await compareAndSwap(gitdir, branch, old, commit, opts.lockTimeoutMs ?? 30_000)) return { commit, created: true, added, already };
    if (attempt > 50) throw externalError('git', 'ledger-contended', `could not update ${branch}: it kept changing under us`, { data: { branch } });
  }
}

/**
 * Adds publication attempts (by environment) to the ledger in one commit on
 * `branch`, safe against concurrent writers as addToLedger is; attempts the
 * ledger already holds are not written again. Returns the branch's head.
 */
export async function recordPublications(dir: string, branch: string, publications: Map<string, Publication[]>, summary: string, lockTimeoutMs = 30_000): Promise<string | undefined> {
  const gitdir = gitdirOf(dir);
  for (let attempt = 0; ; attempt++) {
    const old = await refValue(gitdir, branch);
    const current = old === undefined ? new Map<string, EnvironmentLedger>() : readLedgerAt(gitdir, old);
    const fresh = new Map<string, LedgerChange>();
    for (const [name, list] of publications) {
      const held = current.get(name)?.published ?? [];
      const unseen = list.filter((p) => mergePublications(held, [p]).length > held.length);
      if (unseen.length) fresh.set(name, { builds: [], published: unseen });
    }
    if (fresh.size === 0) return old;
    const commit = await writeLedgerCommit(gitdir, old ? [old] : [], current, fresh, summary);
    if (await compareAndSwap(gitdir, branch, old, commit, lockTimeoutMs)) return commit;
    if (attempt > 50) throw externalError('git', 'ledger-contended', `could not update ${branch}: it kept changing under us`, { data: { branch } });
  }
}

/**
 * The records that would change the ledger, by environment, and how many
 * it already holds: the same id with the same fields (compared in a fixed
 * key order), or an id whose merge (mergeLedgers: the further-advanced
 * attempt wins) leaves the environment's file as it is.
 */
function newRecords(current: Ledger, records: Map<string, BuildRecord[]>): { fresh: Map<string, BuildRecord[]>; already: number } {
  const fresh = new Map<string, BuildRecord[]>();
  let already = 0;
  for (const [name, list] of records) {
    const before = current.get(name);
    const held = new Map((before?.builds ?? []).map((r) => [r.id, canonical(r)]));
    const unseen = list.filter((r) => held.get(r.id) !== canonical(r));
    const unchanged = before !== undefined && (unseen.length === 0 || formatLedgerFile(mergeLedgers(before, { ...before, builds: unseen })) === formatLedgerFile(before));
    if (unchanged) already += list.length;
    else {
      fresh.set(name, unseen);
      already += list.length - unseen.length;
    }
  }
  return { fresh, already };
}

/** A record as JSON with its keys sorted: the same record read from a results file or the ledger compares equal. */
function canonical(r: BuildRecord): string {
  const sort = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sort(x)]))
    : v);
  return JSON.stringify(sort(r));
}

/** What one commit adds to an environment's file: build records, and publications. */
interface LedgerChange {
  builds: BuildRecord[];
  published?: Publication[];
}

async function writeLedgerCommit(gitdir: string, parents: string[], current: Ledger, records: Map<string, BuildRecord[] | LedgerChange>, summary: string): Promise<string> {
  const files = new Map<string, string>();
  for (const [name, ledger] of current) files.set(name, formatLedgerFile(ledger));
  const lines: string[] = [];
  for (const [name, given] of [...records].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const change: LedgerChange = Array.isArray(given) ? { builds: given } : given;
    const before = current.get(name) ?? emptyLedger(name);
    files.set(name, formatLedgerFile(mergeLedgers(before, { ...before, builds: change.builds, ...(change.published ? { published: change.published } : {}) })));
    for (const r of change.builds) lines.push(`${name} revision ${r.revision}: ${r.status}${r.digest ? ` ${r.digest}` : ''}${r.reason ? ` (${r.reason})` : ''}`);
    for (const p of change.published ?? []) {
      lines.push(`${name} revision ${p.revision}: ${p.status === 'published' ? `published as product revision ${p.product!.number} (${p.product!.revision})` : `publishing failed (${p.reason ?? p.code ?? 'unknown'})`}`);
    }
  }
  const blob = (text: string) => git.writeBlob({ fs, gitdir, blob: Buffer.from(text) });
  const entries = [];
  for (const [name, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    entries.push({ mode: '100644', path: `${name}.json`, oid: await blob(text), type: 'blob' as const });
  }
  const ledgerTree = await git.writeTree({ fs, gitdir, tree: entries });
  const root = await git.writeTree({
    fs, gitdir,
    tree: [
      { mode: '100644', path: 'README.md', oid: await blob(STATE_README), type: 'blob' },
      { mode: '040000', path: LEDGER_FOLDER, oid: ledgerTree, type: 'tree' },
    ],
  });
  const now = Math.floor(Date.now() / 1000);
  const person = { ...AUTHOR, timestamp: now, timezoneOffset: 0 };
  return git.writeCommit({
    fs, gitdir,
    commit: { message: `${summary}\n\n${lines.join('\n')}\n`, tree: root, parent: parents, author: person, committer: person },
  });
}

/** git's ref lock: create `<ref>.lock` exclusively, check the old value, rename into place. */
export async function compareAndSwap(gitdir: string, branch: string, expected: string | undefined, value: string, timeoutMs: number): Promise<boolean> {
  const ref = join(gitdir, 'refs', 'heads', ...branch.split('/'));
  const lock = `${ref}.lock`;
  await mkdir(dirname(ref), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let handle;
  for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
    try {
      handle = await open(lock, 'wx');
      // Until the new value is written, the lock names its holder, so a killed holder is recognised at once.
      await handle.writeFile(`pid ${process.pid}\n`);
      await pausePoint('ledger-ref-locked');
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await staleLock(lock)) await rm(lock, { force: true });
      else if (Date.now() > deadline) throw externalError('git', 'ref-locked', `${lock} is held by another writer`, { data: { lock }, hint: `if no other envctl or git is running, delete ${lock}` });
      await new Promise((r) => setTimeout(r, wait));
    }
  }
  try {
    if ((await refValue(gitdir, branch)) !== expected) return false;
    await handle.truncate(0);
    await handle.write(`${value}\n`, 0);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(lock, ref);
    return true;
  } finally {
    if (handle) {
      await handle.close();
      await rm(lock, { force: true });
    }
  }
}

/** A lock whose holder (envctl writes its pid first) is gone, or that has sat for a minute (any other writer). */
async function staleLock(lock: string): Promise<boolean> {
  const [text, age] = await Promise.all([
    readFile(lock, 'utf8').catch(() => ''),
    stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0),
  ]);
  const pid = /^pid (\d+)$/m.exec(text)?.[1];
  if (pid !== undefined) {
    try {
      process.kill(Number(pid), 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  return age > 60_000;
}

const STATE_README = `# envctl ledger

This branch is written by envctl; it is never merged into main. It records
what was built and what is active, one JSON file per environment under
\`${LEDGER_FOLDER}/\`, in format \`${LEDGER_FORMAT}\`:

- \`environment\`: the environment's name.
- \`active\`: the active revision: the newest revision whose build (and image tests) succeeded.
- \`builds\`: one record per build attempt, oldest first: \`id\`, \`revision\`,
  \`commit\` (on main), \`contentKey\`, \`status\` (queued, building,
  succeeded, failed, cancelled), \`image\` and \`digest\` (the pushed image),
  \`baseDigest\` (what it was built FROM), \`startedAt\`, \`endedAt\`,
  \`builder\`, \`log\`, \`size\` (compressed bytes of the image), and for
  failures \`reason\` (one line for people), \`failure\` and \`logTail\`;
  \`reusedFrom\` when an identical earlier build's image was tagged instead.
- \`published\` (with \`publish:\` in envctl.yaml; such a file is format
  \`envctl-ledger/3\`, so an envctl that does not know it refuses the file
  rather than dropping them): one entry per attempt to
  publish an active revision to the hosted product: \`revision\`,
  \`contentKey\`, \`digest\`, \`status\` (published, failed), \`at\`, and
  \`product\` (its environment and revision ids and revision number) or
  \`reason\` and \`code\`.
- \`failure\` (failed and cancelled attempts): \`kind\` is one of \`build\` (the
  environment's own build failed; not retried until it changes), \`test\`
  (built and pushed, digest recorded, but an image test failed, so it is not
  active; not retried until it changes), \`registry\`
  (a registry could not be reached or refused; retried), \`skipped\` (its
  base did not build; retried), \`cancelled\` (stopped: superseded or taken
  over by another sync) or \`unexpected\` (anything else; retried); \`code\`
  is the error's stable code and \`host\` who failed, when known.

Files of the previous format, \`envctl-ledger/1\`, are still read (their
records' \`failure\` is derived from \`reason\`) and are rewritten in the
current format by the next write.

Each sync adds one commit whose message lists what it recorded.
`;

/**
 * Joins a ledger fetched from a remote into the local branch: a merge commit
 * whose parents are the remote head and the local head, holding every record
 * of both. Returns the new local head (the merge), or the remote head when the
 * local branch had nothing the remote lacks.
 */
export async function mergeRemoteLedger(dir: string, branch: string, remoteHead: string): Promise<string> {
  const gitdir = gitdirOf(dir);
  for (;;) {
    const local = await refValue(gitdir, branch);
    const theirs = readLedgerAt(gitdir, remoteHead);
    if (local === undefined) {
      if (await compareAndSwap(gitdir, branch, undefined, remoteHead, 30_000)) return remoteHead;
      continue;
    }
    if (local === remoteHead) return local;
    // Nothing here the remote lacks: move up to it instead of merging.
    if (await git.isDescendent({ fs, gitdir, oid: remoteHead, ancestor: local, depth: -1 })) {
      if (await compareAndSwap(gitdir, branch, local, remoteHead, 30_000)) return remoteHead;
      continue;
    }
    const records = new Map([...readLedgerAt(gitdir, local)].map(([name, l]) => [name, { builds: l.builds, ...(l.published ? { published: l.published } : {}) }]));
    const merge = await writeLedgerCommit(gitdir, [remoteHead, local], theirs, records, 'envctl: merge the ledger from the remote');
    if (await compareAndSwap(gitdir, branch, local, merge, 30_000)) return merge;
  }
}
