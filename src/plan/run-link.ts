/**
 * The link to the workflow run a plan was made in, from GitHub Actions'
 * environment. Built only from values that pass a strict check (an https
 * origin, `owner/name`, a run number), so nothing in them can break out of
 * a Markdown link or a hidden HTML comment; any other value leaves the link out.
 */

export interface RunVariables {
  GITHUB_SERVER_URL?: string | undefined;
  GITHUB_REPOSITORY?: string | undefined;
  GITHUB_RUN_ID?: string | undefined;
}

const SERVER = /^https:\/\/[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?$/;
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;
const RUN_ID = /^[1-9]\d{0,19}$/;
/** A run URL as workflowRunUrl makes it: what a plan's hidden meta line may carry. */
export const RUN_URL = /^https:\/\/[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?\/[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}\/actions\/runs\/[1-9]\d{0,19}$/;

export function workflowRunUrl(env: RunVariables): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: run } = env;
  if (!server || !repository || !run) return undefined;
  if (!SERVER.test(server) || !REPOSITORY.test(repository) || !RUN_ID.test(run)) return undefined;
  const name = repository.split('/')[1]!;
  if (name === '.' || name === '..') return undefined;
  return `${server}/${repository}/actions/runs/${run}`;
}
