import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { githubClient, upsertStickyComment } from '../github/index.js';
import { COMMON, UsageError, type Command } from './command.js';

export const comment: Command = {
  name: 'comment',
  summary: 'post or update the plan comment on a pull request',
  usage: `envctl comment FILE [--pr N]

Posts FILE (the Markdown from envctl plan --base … --markdown FILE) as the
pull request's plan comment, or updates the one posted before (found by a
hidden marker), so each pull request has exactly one. The pull request is
--pr, or the one in the GitHub event ($GITHUB_EVENT_PATH). Needs
GITHUB_TOKEN with pull-requests: write, and GITHUB_REPOSITORY.`,
  options: { ...COMMON, pr: { type: 'string' } },
  async run(args, io) {
    const [file, ...extra] = args.positionals;
    if (file === undefined || extra.length > 0) throw new UsageError('name one Markdown file');
    const body = await readFile(resolve(io.cwd, file), 'utf8').catch(() => {
      throw new UsageError(`no file ${file}`);
    });
    const pr = args.values.pr !== undefined ? Number(args.values.pr) : await eventPullRequest(io.env.GITHUB_EVENT_PATH);
    if (!Number.isInteger(pr) || (pr as number) < 1) throw new UsageError('give the pull request number with --pr (no pull request in $GITHUB_EVENT_PATH)');
    const result = await upsertStickyComment(githubClient({ env: io.env, log: (m) => io.err(m) }), pr as number, body);
    io.out(`${result.action} ${result.url}`);
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
