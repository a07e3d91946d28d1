/**
 * One sticky comment per pull request: found again by a hidden marker and
 * edited in place, so a busy pull request gets one plan comment, not one per push.
 * Only a comment the token's own identity wrote is ever edited: anyone (a
 * person, another app's bot) can paste the marker into a comment of theirs,
 * and editing that would put the plan under their name, for them to change
 * after the review. Theirs is left alone, never edited or deleted.
 */
import { toId, type GitHubClient } from './client.js';
import { COMMENT_LIMIT, cut, PART_MARKER, PLAN_MARKER, partMarker } from '../plan/comment-split.js';
import { bytes } from '../plan/markdown.js';

export { PLAN_MARKER };
/** GitHub refuses issue comment bodies longer than this (one constant, plan/comment-split.ts's). */
export const MAX_COMMENT_LENGTH = COMMENT_LIMIT;

export interface StickyCommentResult {
  action: 'created' | 'updated' | 'unchanged';
  id: number;
  /** the comment's page (html_url) */
  url: string;
}

export async function upsertStickyComment(
  client: GitHubClient, issueNumber: number, body: string, marker: string = PLAN_MARKER,
): Promise<StickyCommentResult> {
  const [existing] = await ownComments(client, issueNumber, marker);
  return putComment(client, issueNumber, existing, stickyBody(body, marker), 'updated') as Promise<StickyCommentResult>;
}

type Listed = { id: number; body?: string | null | undefined; html_url: string; user?: { login?: string } | null };
const WRITE: ['pull-requests: write', 'issues: write'] = ['pull-requests: write', 'issues: write'];

/** The comments on the pull request that carry `marker` and that the token's own identity wrote, in listing order. */
async function ownComments(client: GitHubClient, issueNumber: number, marker: string): Promise<Listed[]> {
  // Every page: on a long-lived pull request the plan comment can sit past the first hundred.
  const comments: Listed[] = await client.call(`list the comments on #${issueNumber}`, ['pull-requests: read', 'issues: read'], (o) =>
    o.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: client.owner, repo: client.repo, issue_number: issueNumber, per_page: 100 }));
  const me = (await client.identity())?.login.toLowerCase();
  // Logins compare case-insensitively on GitHub. Without an identity no comment is ours to edit.
  if (me === undefined) return [];
  return comments.filter((c) => c.body?.includes(marker) && c.user?.login?.toLowerCase() === me);
}

/**
 * `existing` made to say `body` (left alone when it already does), or a new
 * comment when there is none or it was deleted between listing and editing;
 * an emptied part that was deleted stays deleted.
 */
async function putComment(client: GitHubClient, issueNumber: number, existing: Listed | undefined, body: string, changed: 'updated' | 'emptied'): Promise<PlanCommentResult> {
  const on = `#${issueNumber}`;
  const params = { owner: client.owner, repo: client.repo };
  if (existing) {
    const id = toId(existing.id);
    // GitHub may hand the body back with CRLF line ends.
    if (existing.body?.replace(/\r\n/g, '\n') === body.replace(/\r\n/g, '\n')) return { action: 'unchanged', id, url: existing.html_url };
    try {
      const { data } = await client.call(`update comment ${id} on ${on}`, WRITE, (o) =>
        o.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...params, comment_id: id, body }));
      return { action: changed, id: toId(data.id), url: data.html_url };
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
      if (changed === 'emptied') return { action: 'unchanged', id, url: existing.html_url };
    }
  }
  const { data } = await client.call(`comment on ${on}`, WRITE, (o) =>
    o.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...params, issue_number: issueNumber, body }));
  return { action: 'created', id: toId(data.id), url: data.html_url };
}

/**
 * The body as posted: with the marker (prepended unless the body has it),
 * and, past `limit` UTF-8 bytes (GitHub's limit is in characters, and a
 * character is at least a byte), cut at a line end as the split plan is
 * cut (plan/comment-split.ts), closing an open code fence and <details>
 * so the note about the cut stands outside them.
 */
export function stickyBody(body: string, marker: string = PLAN_MARKER, limit: number = MAX_COMMENT_LENGTH): string {
  const full = body.includes(marker) ? body : `${marker}\n${body}`;
  const size = bytes(full);
  if (size <= limit) return full;
  const note = `> **Truncated:** this comment would be ${size} bytes and GitHub allows ${limit}; the workflow log has the whole text.`;
  // Room for the marker, put back in front when the cut took it away.
  const kept = cut(full, limit - bytes(marker) - 1, 'the workflow log', note);
  return kept.includes(marker) ? kept : `${marker}\n${kept}`;
}

export interface PlanCommentResult {
  /** `emptied`: a part of an earlier, longer plan, now a one-line note. */
  action: 'created' | 'updated' | 'unchanged' | 'emptied';
  id: number;
  url: string;
}

/**
 * The plan's comments (commentBodies' parts, in order) on a pull request:
 * the token's own earlier plan comments are found by their markers (a
 * comment with only the plan marker, from before plans were split, counts
 * as part 1) and updated in place, part by part; parts beyond them are
 * posted; own parts beyond the new count are emptied to a one-line note,
 * marked after the last part, so a later longer plan takes them up again.
 * Comments by anyone else are never touched.
 */
export async function upsertPlanComments(client: GitHubClient, issueNumber: number, bodies: string[]): Promise<PlanCommentResult[]> {
  const place = (c: Listed) => Number(PART_MARKER.exec(c.body ?? '')?.[1] ?? 1);
  const mine = (await ownComments(client, issueNumber, PLAN_MARKER)).sort((a, b) => place(a) - place(b) || a.id - b.id);
  const n = bodies.length;
  const results: PlanCommentResult[] = [];
  for (let i = 0; i < n; i++) results.push(await putComment(client, issueNumber, mine[i], bodies[i]!, 'updated'));
  for (let i = n; i < mine.length; i++) {
    const note = `${PLAN_MARKER}\n${partMarker(i + 1, n)}\n_Part of an earlier, longer plan; the plan is now ${n === 1 ? 'one comment' : `${n} comments`}._\n`;
    results.push(await putComment(client, issueNumber, mine[i], note, 'emptied'));
  }
  return results;
}
