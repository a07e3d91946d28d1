/**
 * `envctl record`: the final job of a CI matrix. Each matrix job wrote its
 * builds to a results file (sync with `record: false`); this writes them all
 * into the ledger in one commit, optionally pushes the state branch, and
 * reports them on GitHub (commit statuses, deployments).
 *
 * A push that fails (a ruleset refusing the state branch, say) does not
 * stop the report: the images are in the registry, so the statuses and
 * deployments still go out, saying the ledger was not updated, and the
 * push's error is handed back for the caller to end with. The local ledger
 * commit stays; results the ledger already holds are not recorded again,
 * so the same record run once the push is allowed pushes that one commit.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { addToLedger } from '../git/ledger.js';
import { pushLedger, PushFailed, PushRefused } from '../git/remote.js';
import { githubClient, reportBuilds, runUrl } from '../github/index.js';
import { entriesAt, openObjects } from '../git/history.js';
import { ObjectStoreError } from '../git/objects.js';
import {
  parseResults, recordsByEnvironment, refuseDuplicates, refuseWhere, ResultsFormatError, RESULTS_MAX_BYTES, safePath, summaryOf,
  type ReadResults, type RefusedBuild,
} from '../ledger/results.js';
import { EnvctlError, errorLine, inputError } from '../model/errors.js';
import type { Repository } from '../repository/index.js';

export interface RecordOptions {
  /** Results files, or folders standing for the .json files in them; relative to `cwd`. */
  files: string[];
  cwd: string;
  /** Push the state branch to this remote afterwards. */
  push?: string;
  /** Report on GitHub: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_SHA (else the results' head) from `env`. */
  github?: { env: NodeJS.ProcessEnv; log: (message: string) => void };
  /** Told as each step is done, so a later step's failure does not hide an earlier one's success. */
  progress?: (step: RecordStep) => void;
}

export type RecordStep =
  /** `builds` new records in a new commit; `already` were in the ledger as they are. */
  | { step: 'recorded'; builds: number; failed: number; already: number; branch: string; commit: string }
  /** Every result was in the ledger as it is: no commit. */
  | { step: 'unchanged'; already: number; branch: string }
  | { step: 'pushed'; branch: string; remote: string }
  | { step: 'push-failed'; branch: string; remote: string; refused: boolean }
  | { step: 'reported'; statuses: number; deployments: number }
  /** Reporting failed after the push did: the push's error is the one handed back, this one is told. */
  | { step: 'report-failed'; message: string };

export interface RecordResult {
  builds: number;
  failed: number;
  /** The ledger's head after recording (the existing head when nothing was new); absent when the results held no builds. */
  commit?: string;
  /** Whether a ledger commit was made, and how many of the builds the ledger already held as they are. */
  created?: boolean;
  already?: number;
  /** The push failed (PushRefused: the remote's rules refused it); the ledger commit is local only, GitHub was still told. */
  pushError?: PushFailed;
  /** Entries not recorded, each with its reason (refusedLine words it); the rest were. */
  refused: RefusedBuild[];
  /** Results files not read at all, with the reason. */
  unreadable: { path: string; message: string }[];
}

export async function recordResults(repo: Repository, opts: RecordOptions): Promise<RecordResult> {
  const progress = opts.progress ?? (() => undefined);
  const all: ReadResults[] = [];
  const unreadable: RecordResult['unreadable'] = [];
  for (const file of await resultsFiles(opts.cwd, opts.files)) {
    try {
      all.push(parseResults(await readResultsFile(resolve(opts.cwd, file), file), file));
    } catch (err) {
      // One unreadable file does not lose the others' results; it is named and the exit says so.
      if (!(err instanceof ResultsFormatError)) throw err;
      unreadable.push({ path: file, message: err.message });
    }
  }
  refuseDuplicates(all);
  refuseUnknown(repo, all);
  const refused = all.flatMap((r) => r.refused);
  const builds = all.flatMap((r) => r.builds);
  const head = all.find((r) => r.head)?.head ?? null;
  const failed = builds.filter((b) => b.record.status === 'failed').length;
  if (builds.length === 0) return { builds: 0, failed: 0, refused, unreadable };
  const branch = repo.config.stateBranch;
  const write = await addToLedger(repo.root, branch, recordsByEnvironment(all), { summary: (added) => summaryOf(added, head) });
  const { commit, created, already } = write;
  if (created) progress({ step: 'recorded', builds: write.added.length, failed: write.added.filter((r) => r.status === 'failed').length, already, branch, commit });
  else progress({ step: 'unchanged', already, branch });
  let pushError: PushFailed | undefined;
  if (opts.push !== undefined) {
    try {
      await pushLedger(repo.root, branch, opts.push);
      progress({ step: 'pushed', branch, remote: opts.push });
    } catch (err) {
      if (!(err instanceof PushFailed)) throw err;
      pushError = err;
      progress({ step: 'push-failed', branch, remote: opts.push, refused: err instanceof PushRefused });
    }
  }
  if (opts.github) {
    const { env, log } = opts.github;
    const sha = env.GITHUB_SHA ?? head;
    if (!sha) throw inputError('github-sha-missing', 'reporting to GitHub needs the synced commit: set GITHUB_SHA', { data: { option: 'github' } });
    const logUrl = runUrl(env);
    const ledgerNote = pushError === undefined ? {} : { ledgerNotUpdated: pushError instanceof PushRefused ? 'push refused' : 'push failed' };
    try {
      const done = await reportBuilds(githubClient({ env, log }), sha, builds, { ...(logUrl ? { logUrl } : {}), ...ledgerNote });
      progress({ step: 'reported', statuses: done.statuses, deployments: done.deployments });
    } catch (err) {
      // The push's failure is the one to end with; GitHub's is told, not lost.
      if (pushError === undefined || !(err instanceof EnvctlError)) throw err;
      progress({ step: 'report-failed', message: `${errorLine(err)}${err.hint ? `; ${err.hint}` : ''}` });
    }
  }
  return { builds: builds.length, failed, commit, created, already, refused, unreadable, ...(pushError ? { pushError } : {}) };
}

/**
 * Refuses entries whose environment did not exist at the record's commit
 * (or whose commit is not in this repository): a results file is data from
 * another job, and only environments of this repository get ledger files.
 */
function refuseUnknown(repo: Repository, all: ReadResults[]): void {
  const src = { dir: repo.root, folder: repo.config.environmentsDir };
  const wanted = new Map<string, Set<string>>();
  for (const b of all.flatMap((r) => r.builds)) wanted.set(b.record.commit, (wanted.get(b.record.commit) ?? new Set()).add(b.environment));
  // Per commit, only the environments named at it are looked up: a tree read per commit, not a listing of thousands.
  const found = new Map<string, Set<string> | undefined>();
  const store = openObjects(repo.root);
  try {
    for (const [commit, names] of wanted) {
      try {
        found.set(commit, store.read(commit).type === 'commit' ? new Set(entriesAt(src, commit, names, store).keys()) : undefined);
      } catch (err) {
        if (!(err instanceof ObjectStoreError)) throw err;
        found.set(commit, undefined);
      }
    }
  } finally {
    store.close();
  }
  for (const r of all) {
    refuseWhere(r, (b) => {
      const names = found.get(b.record.commit);
      if (names === undefined) return `commit ${b.record.commit.slice(0, 12)} is not a commit of this repository`;
      return names.has(b.environment) ? undefined : `no such environment in ${repo.config.environmentsDir}/ at commit ${b.record.commit.slice(0, 12)}`;
    });
  }
}

/** A results file's text: a plain file (not a FIFO or device, which would block or never end) of a bounded size. */
async function readResultsFile(abs: string, path: string): Promise<string> {
  const info = await stat(abs);
  if (!info.isFile()) throw new ResultsFormatError('results-not-a-file', path, 'not a plain file');
  if (info.size > RESULTS_MAX_BYTES) throw new ResultsFormatError('results-too-large', path, `${info.size} bytes, more than a results file holds (${RESULTS_MAX_BYTES})`);
  const text = await readFile(abs);
  // Read again: a file that grew after the look is cut off as too large rather than read unbounded.
  if (text.length > RESULTS_MAX_BYTES) throw new ResultsFormatError('results-too-large', path, `more than ${RESULTS_MAX_BYTES} bytes`);
  return text.toString('utf8');
}

/** Files as given; a folder stands for its plain .json files (a CI job's downloaded artifacts). */
async function resultsFiles(cwd: string, given: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const name of given) {
    const info = await stat(resolve(cwd, name)).catch(() => undefined);
    if (!info) throw inputError('results-missing', `no results file or folder ${safePath(name)}`, { data: { path: name } });
    if (!info.isDirectory()) out.push(name);
    else {
      const entries = await readdir(resolve(cwd, name), { withFileTypes: true });
      out.push(...entries.filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => e.name).sort().map((f) => join(name, f)));
    }
  }
  return out;
}
