import * as core from '@actions/core';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { githubClient, planIsStale, upsertPlanComments } from '../github/index.js';
import { commentBodies } from '../plan/comment-split.js';
import { bytes, planMeta } from '../plan/markdown.js';
import { COMMON, UsageError, type Command, type Io } from './command.js';
import { guardLine, printable } from '../model/text.js';

export const comment: Command = {
  name: 'comment',
  summary: 'post or update the plan comment on a pull request',
  usage: `envctl comment FILE [--pr N] [--head-sha SHA] [--dry-run]

Posts FILE (the Markdown from envctl plan --base … --markdown FILE) as the
pull request's plan comment, or updates the one posted before (found by a
hidden marker). A plan longer than GitHub allows in one comment (65,536
characters; measured in bytes) is split across several, found and updated
together on the next run; parts an earlier, longer plan left are emptied to
a note. The pull request is --pr, or the one in the GitHub event
($GITHUB_EVENT_PATH). When the pull request's head is not the commit the
plan was made for (the head FILE names, and --head-sha if given), nothing
is posted: a notice says the plan is stale and the command succeeds (the
newer push has its own run). Needs GITHUB_TOKEN with pull-requests: write,
and GITHUB_REPOSITORY.
  --dry-run   print the bodies it would post, each after a line
              "--- comment N: B bytes"; GitHub is not asked`,
  options: { ...COMMON, pr: { type: 'string' }, 'head-sha': { type: 'string' }, 'dry-run': { type: 'boolean' } },
  async run(args, io) {
    const [file, ...extra] = args.positionals;
    if (file === undefined || extra.length > 0) throw new UsageError('name one Markdown file');
    const markdown = await readFile(resolve(io.cwd, file), 'utf8').catch(() => {
      throw new UsageError(`no file ${printable(file)}`);
    });
    const head = args.values['head-sha'];
    if (typeof head === 'string' && !/^[0-9a-f]{40}$/.test(head)) throw new UsageError('--head-sha takes a full commit id');
    const bodies = commentBodies(markdown);
    if (args.values['dry-run']) {
      bodies.forEach((body, i) => io.out(`--- comment ${i + 1}: ${bytes(body)} bytes\n${body.replace(/\n$/, '')}`));
      return 0;
    }
    const pr = args.values.pr !== undefined ? Number(args.values.pr) : await eventPullRequest(io.env.GITHUB_EVENT_PATH);
    if (!Number.isInteger(pr) || (pr as number) < 1) throw new UsageError('give the pull request number with --pr (no pull request in $GITHUB_EVENT_PATH)');
    const client = githubClient({ env: io.env, log: (m) => io.err(printable(m)) });
    const made = [...new Set([...typeof head === 'string' ? [head] : [], ...planMeta(markdown).head ? [planMeta(markdown).head!] : []])];
    const moved = await planIsStale(client, pr as number, made);
    if (moved !== undefined) {
      notice(`pull request #${pr as number} is at ${moved.slice(0, 12)}, not ${made.map((s) => s.slice(0, 12)).join(' / ')}: this plan is not for its head; not posted (a newer push has its own run)`, io);
      return 0;
    }
    for (const result of await upsertPlanComments(client, pr as number, bodies)) {
      io.out(`${result.action} ${printable(result.url)}`); // the URL is GitHub's answer
    }
    return 0;
  },
};

/** A line on stdout; under GitHub Actions also a notice, written by @actions/core (which escapes the command) from a printable, guarded value. */
function notice(message: string, io: Io): void {
  io.out(`envctl comment: ${message}`);
  if (io.env.GITHUB_ACTIONS === 'true') core.notice(guardLine(printable(message)));
}

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
