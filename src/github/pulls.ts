/** A pull request's head commit: what a plan comment must have been made for. */
import { GitHubError, type GitHubClient } from './client.js';

export async function pullRequestHead(client: GitHubClient, number: number): Promise<string> {
  const { data } = await client.call(`read pull request #${number}`, 'pull-requests: read', (o) =>
    o.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner: client.owner, repo: client.repo, pull_number: number }));
  return data.head.sha;
}

/** Refuses a plan made for another commit than the pull request's head: a stale run, or an artifact naming someone else's pull request. */
export async function checkPullRequestHead(client: GitHubClient, number: number, sha: string): Promise<void> {
  const head = await pullRequestHead(client, number);
  if (head !== sha) {
    throw new GitHubError('github-head-moved', `pull request #${number} is at ${head.slice(0, 12)}, not ${sha.slice(0, 12)}: this plan is not for its head; not posted`,
      'a newer push has its own run, or the plan names a pull request it was not made for');
  }
}

/**
 * The pull request's head when a plan was made for another commit (a push
 * since: a newer run has its own plan; or an artifact naming another pull
 * request), else undefined. `made` holds every commit the plan is said to
 * be for (the run's, the plan's own); each must be the head.
 */
export async function planIsStale(client: GitHubClient, number: number, made: string[]): Promise<string | undefined> {
  if (made.length === 0) return undefined;
  const head = await pullRequestHead(client, number);
  return made.every((sha) => sha === head) ? undefined : head;
}
