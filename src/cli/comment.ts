import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { checkPullRequestHead, githubClient, upsertStickyComment } from '../github/index.js';
import { COMMON, UsageError, type Command } from './command.js';
import { printable } from '../model/text.js';

export const comment: Command = {
  name: 'comment',
  summary: 'post or update the plan comment on a pull request',
  usage: `envctl comment FILE [--pr N] [--head-sha SHA]

Posts FILE (the Markdown from envctl plan --base … --markdown FILE) as the
pull request's plan comment, or updates the one posted before (found by a
hidden marker), so each pull request has exactly one. The pull request is
--pr, or the one in the GitHub event ($GITHUB_EVENT_PATH). With
--head-sha, nothing is posted unless the pull request's head is that commit
(the plan is stale, or names a pull request it was not made for). Needs
GITHUB_TOKEN with pull-requests: write, and GITHUB_REPOSITORY.`,
  options: { ...COMMON, pr: { type: 'string' }, 'head-sha': { type: 'string' } },
  async run(args, io) {
    const [file, ...extra] = args.positionals;
    if (file === undefined || extra.length > 0) throw new UsageError('name one Markdown file');
    const body = await readFile(resolve(io.cwd, file), 'utf8').catch(() => {
      throw new UsageError(`no file ${printable(file)}`);
    });
    const pr = args.values.pr !== undefined ? Number(args.values.pr) : await eventPullRequest(io.env.GITHUB_EVENT_PATH);
    if (!Number.isInteger(pr) || (pr as number) < 1) throw new UsageError('give the pull request number with --pr (no pull request in $GITHUB_EVENT_PATH)');
    const client = githubClient({ env: io.env, log: (m) => io.err(printable(m)) });
    const head = args.values['head-sha'];
    if (typeof head === 'string') {
      if (!/^[0-9a-f]{40}$/.test(head)) throw new UsageError('--head-sha takes a full commit id');
      await checkPullRequestHead(client, pr as number, head);
    }
    const result = await upsertStickyComment(client, pr as number, body);
    io.out(`${result.action} ${printable(result.url)}`); // the URL is GitHub's answer
    return 0;
  },
};

/** The pull request number of a pull_request or issue_comment event payload. */
async function eventPullRequest(path: string | undefined): Promise<number | undefined> {
  if (!path) return undefined;
  try {
    const event = JSON.parse(await readFile(path, 'utf8')) as { pull_request?: { number?: number }; number?: number };
    return event.pull_request?.number ?? event.number;
  } catch {
    return undefined;
  }
}
