/** Commit statuses, one context per environment: `envctl/<environment>`. */
import { httpUrl, toId, truncate, type GitHubClient } from './client.js';

/** GitHub refuses longer status (and deployment status) descriptions: 422 Validation Failed. */
export const STATUS_DESCRIPTION_LIMIT = 140;

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface CommitStatus {
  environment: string;
  state: CommitState;
  description: string;
  /** where the details are, e.g. the workflow run; left out unless an http(s) URL (GitHub would refuse the status) */
  targetUrl?: string;
}

export function statusContext(environment: string): string {
  return `envctl/${environment}`;
}

export async function setCommitStatus(client: GitHubClient, sha: string, status: CommitStatus): Promise<{ id: number; context: string }> {
  const context = statusContext(status.environment);
  const targetUrl = httpUrl(status.targetUrl);
  const { data } = await client.call(`set the ${context} status of ${sha.slice(0, 12)}`, 'statuses: write', (o) =>
    o.request('POST /repos/{owner}/{repo}/statuses/{sha}', {
      owner: client.owner,
      repo: client.repo,
      sha,
      state: status.state,
      context,
      description: truncate(status.description, STATUS_DESCRIPTION_LIMIT),
      ...(targetUrl ? { target_url: targetUrl } : {}),
    }));
  return { id: toId(data.id), context };
}
