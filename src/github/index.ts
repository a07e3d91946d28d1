/** GitHub: pull-request plan comments, commit statuses and deployments over the REST API. */
export { githubClient, GitHubError, DEFAULT_API_URL, type GitHubClient, type GitHubClientOptions, type GitHubOctokit, type Permission } from './client.js';
export { upsertStickyComment, upsertPlanComments, stickyBody, PLAN_MARKER, MAX_COMMENT_LENGTH, type StickyCommentResult, type PlanCommentResult } from './comment.js';
export { setCommitStatus, statusContext, STATUS_DESCRIPTION_LIMIT, type CommitState, type CommitStatus } from './status.js';
export { recordDeployment, type DeploymentRecord, type DeploymentState, type RecordedDeployment } from './deployments.js';
export { reportBuilds, runUrl, type Reported } from './report.js';
export { pullRequestHead, checkPullRequestHead, planIsStale } from './pulls.js';
