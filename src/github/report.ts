/**
 * Build results onto GitHub: per environment a commit status
 * `envctl/<name>` on the commit that was synced, and for each image built
 * or reused a deployment of `envctl/<name>` whose environment URL is the
 * image by digest, so GitHub's Deployments view shows the active revision.
 * When the ledger could not be updated (its push was refused), both still
 * go out, each description ending with a note saying so: the images are in
 * the registry, and this is where people look.
 */
import { outcomeLabel, type BuildRecord } from '../ledger/model.js';
import type { BuildResult } from '../ledger/results.js';
import { truncate, type GitHubClient } from './client.js';
import { recordDeployment } from './deployments.js';
import { setCommitStatus, STATUS_DESCRIPTION_LIMIT, type CommitState } from './status.js';

export interface Reported {
  statuses: number;
  deployments: number;
}

export interface ReportOptions {
  logUrl?: string;
  /** Set when the ledger does not hold these builds (`push refused`, `push failed`): said at the end of every description. */
  ledgerNotUpdated?: string;
}

export async function reportBuilds(client: GitHubClient, sha: string, builds: BuildResult[], opts: ReportOptions = {}): Promise<Reported> {
  let deployments = 0;
  const note = opts.ledgerNotUpdated === undefined ? undefined : `ledger not updated: ${opts.ledgerNotUpdated}`;
  for (const { environment, record } of builds) {
    const state = commitState(record);
    const description = withNote(describe(record), note);
    await setCommitStatus(client, sha, {
      environment, state, description,
      ...(opts.logUrl ? { targetUrl: opts.logUrl } : {}),
    });
    if (record.status === 'succeeded' && record.digest && record.image) {
      await recordDeployment(client, {
        environment, ref: sha, revision: record.revision, state: 'success',
        imageReference: `${record.image.replace(/:[^:/@]+$/, '')}@${record.digest}`,
        description,
        ...(opts.logUrl ? { logUrl: opts.logUrl } : {}),
      });
      deployments++;
    }
  }
  return { statuses: builds.length, deployments };
}

/**
 * `failure` when the commit's build failed (failure.kind `build`: the
 * environment's own steps) or its image failed a test (`test`); `error`
 * when it could not be built for another reason (a registry, a base that
 * did not build, an unexpected fault, cancelled), which the next sync
 * retries and the commit did not cause.
 */
export function commitState(r: BuildRecord): CommitState {
  if (r.status === 'succeeded') return 'success';
  if (r.status === 'failed' && (r.failure === undefined || r.failure.kind === 'build' || r.failure.kind === 'test')) return 'failure';
  return 'error';
}

/** The description with the note last, the description cut (not the note) to fit GitHub's 140 characters. */
export function withNote(description: string, note: string | undefined): string {
  if (note === undefined) return description;
  return `${truncate(description, STATUS_DESCRIPTION_LIMIT - note.length - 2)}; ${note}`;
}

function describe(r: BuildRecord): string {
  if (r.status === 'succeeded') return r.reusedFrom !== undefined ? `revision ${r.revision}: reused revision ${r.reusedFrom}'s image` : `revision ${r.revision} built`;
  return `revision ${r.revision} ${outcomeLabel(r)}: ${r.reason ?? 'see the log'}`;
}

/** The Actions run's page, from the variables GitHub sets. */
export function runUrl(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
}
