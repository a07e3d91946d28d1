/**
 * `envctl record`: the final job of a CI matrix. Each matrix job wrote its
 * builds to a results file (sync with `record: false`); this writes them all
 * into the ledger in one commit, optionally pushes the state branch, and
 * reports them on GitHub (commit statuses, deployments).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { recordBuilds } from '../git/ledger.js';
import { pushLedger } from '../git/remote.js';
import { githubClient, reportBuilds, runUrl } from '../github/index.js';
import { parseResults, recordsByEnvironment, summaryOf, type Results } from '../ledger/results.js';
import { inputError } from '../model/errors.js';
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
  | { step: 'recorded'; builds: number; failed: number; branch: string; commit: string }
  | { step: 'pushed'; branch: string; remote: string }
  | { step: 'reported'; statuses: number; deployments: number };

export interface RecordResult {
  builds: number;
  failed: number;
  /** The ledger commit; absent when the results held no builds. */
  commit?: string;
}

export async function recordResults(repo: Repository, opts: RecordOptions): Promise<RecordResult> {
  const progress = opts.progress ?? (() => undefined);
  const all: Results[] = [];
  for (const file of await resultsFiles(opts.cwd, opts.files)) {
    all.push(parseResults(await readFile(resolve(opts.cwd, file), 'utf8'), file));
  }
  const builds = all.flatMap((r) => r.builds);
  const head = all.find((r) => r.head)?.head ?? null;
  const failed = builds.filter((b) => b.record.status === 'failed').length;
  if (builds.length === 0) return { builds: 0, failed: 0 };
  const branch = repo.config.stateBranch;
  const commit = await recordBuilds(repo.root, branch, recordsByEnvironment(all), { summary: summaryOf(builds.map((b) => b.record), head) });
  progress({ step: 'recorded', builds: builds.length, failed, branch, commit });
  if (opts.push !== undefined) {
    await pushLedger(repo.root, branch, opts.push);
    progress({ step: 'pushed', branch, remote: opts.push });
  }
  if (opts.github) {
    const { env, log } = opts.github;
    const sha = env.GITHUB_SHA ?? head;
    if (!sha) throw inputError('github-sha-missing', 'reporting to GitHub needs the synced commit: set GITHUB_SHA', { data: { option: 'github' } });
    const logUrl = runUrl(env);
    const done = await reportBuilds(githubClient({ env, log }), sha, builds, logUrl ? { logUrl } : {});
    progress({ step: 'reported', statuses: done.statuses, deployments: done.deployments });
  }
  return { builds: builds.length, failed, commit };
}

/** Files as given; a folder stands for its .json files (a CI job's downloaded artifacts). */
async function resultsFiles(cwd: string, given: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const name of given) {
    const info = await stat(resolve(cwd, name)).catch(() => undefined);
    if (!info) throw inputError('results-missing', `no results file or folder ${name}`, { data: { path: name } });
    if (!info.isDirectory()) out.push(name);
    else out.push(...(await readdir(resolve(cwd, name))).filter((f) => f.endsWith('.json')).sort().map((f) => join(name, f)));
  }
  return out;
}
