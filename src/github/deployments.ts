/**
 * A built revision recorded as a GitHub deployment of `envctl/<environment>`,
 * so the repository's Environments page shows which image each one runs.
 */
import { GitHubError, httpUrl, toId, truncate, type GitHubClient } from './client.js';
import { STATUS_DESCRIPTION_LIMIT } from './status.js';

export type DeploymentState = 'success' | 'failure' | 'in_progress';

export interface DeploymentRecord {
  environment: string;
  /** the commit that was built */
  ref: string;
  revision: number;
  /** the pushed image, `…@sha256:<digest>` */
  imageReference: string;
  state: DeploymentState;
  description?: string;
  logUrl?: string;
}

export interface RecordedDeployment {
  deploymentId: number;
  statusId: number;
  /** the GitHub environment name, `envctl/<environment>` */
  environment: string;
}

export async function recordDeployment(client: GitHubClient, d: DeploymentRecord): Promise<RecordedDeployment> {
  // The environment URL is what people copy from the Environments page: it must pin the bytes.
  if (!/@sha256:[0-9a-f]{64}$/.test(d.imageReference)) {
    throw new GitHubError('github-image-undigested', `image reference "${d.imageReference}" has no @sha256 digest`,
      'record a deployment with the pushed image’s reference by digest');
  }
  const environment = `envctl/${d.environment}`;
  const params = { owner: client.owner, repo: client.repo };
  const description = d.description === undefined ? undefined : truncate(d.description, STATUS_DESCRIPTION_LIMIT);
  const what = `record revision ${d.revision} of ${d.environment} as a deployment`;

  const created = await client.call(what, 'deployments: write', (o) =>
    o.request('POST /repos/{owner}/{repo}/deployments', {
      ...params,
      ref: d.ref,
      environment,
      auto_merge: false,
      required_contexts: [],
      payload: { revision: d.revision, image: d.imageReference },
      ...(description === undefined ? {} : { description }),
      transient_environment: false,
      production_environment: false,
    }));
  // 202 means GitHub merged or wants to merge the default branch into ref instead of creating anything.
  if (!('id' in created.data)) {
    throw new GitHubError('github-deployment-not-created', `GitHub did not create a deployment to ${what}: ${created.data.message ?? `answered ${created.status}`}`,
      'deployments are created with auto_merge off; check that the ref is a commit', created.status);
  }
  const deploymentId = toId(created.data.id);

  const { data: status } = await client.call(`${what} (status of deployment ${deploymentId})`, 'deployments: write', (o) =>
    o.request('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
      ...params,
      deployment_id: deploymentId,
      state: d.state,
      ...(environmentUrl(d.imageReference) ? { environment_url: environmentUrl(d.imageReference) } : {}),
      ...(httpUrl(d.logUrl) ? { log_url: httpUrl(d.logUrl) } : {}),
      ...(description === undefined ? {} : { description }),
      auto_inactive: true,
    }));
  return { deploymentId, statusId: toId(status.id), environment };
}

/**
 * GitHub wants an http(s) URL here; the image reference behind https:// is
 * one, keeps the digest, and on ghcr.io leads to the package page. Undefined
 * (the field left out) when that would not be a URL GitHub takes.
 */
export function environmentUrl(imageReference: string): string | undefined {
  return httpUrl(/^[a-z][a-z0-9+.-]*:\/\//i.test(imageReference) ? imageReference : `https://${imageReference}`);
}
