/**
 * Publishing the ledger: push the state branch to a remote. A push refused
 * as non-fast-forward (another sync pushed first) fetches the remote's
 * branch, merges it record by record into the local one and pushes again.
 * A push the remote itself refuses (a pre-receive hook, a GitHub ruleset or
 * branch protection: `[remote rejected]`) is not a race and is not retried:
 * it throws PushRefused with the remote's own words, since only a change on
 * the remote's side lets it through.
 * Uses the git binary, which CI runners have; numbering never needs it.
 */
import { execa } from 'execa';
import { EnvctlError } from '../model/errors.js';
import { mergeRemoteLedger } from './ledger.js';

/** Publishing the state branch failed (external, host `git remote <name>`, code `push-failed`). */
export class PushFailed extends EnvctlError {
  constructor(remote: string, message: string, code = 'push-failed', details: { hint?: string; data?: Record<string, unknown> } = {}) {
    super('external', code, message, { host: `git remote ${remote}`, data: { remote, ...details.data }, ...(details.hint ? { hint: details.hint } : {}) });
  }
}

/**
 * The remote refused the state branch by its own rules (code
 * `ledger-push-refused`): `data.reason` is the reason git's status line
 * gives, `data.lines` what the remote said (its `remote:` lines) and git's
 * rejection line, as sent: a remote may be hostile, so print them through
 * model/text.ts like any value (the hint carries them made printable).
 */
export class PushRefused extends PushFailed {
  declare readonly data: { remote: string; branch: string; reason: string; lines: string[] };

  constructor(remote: string, branch: string, reason: string, lines: string[]) {
    super(remote, `the remote refused the push of ${branch} (${printableLine(reason)})`, 'ledger-push-refused', {
      data: { branch, reason, lines },
      hint: [
        ...(lines.length > 0 ? ['git said:', ...lines.map((l) => `  ${printableLine(l)}`)] : []),
        `a rule on the remote refuses ${branch}: exclude ${branch} from the ruleset or branch protection that covers it, or give this workflow a bypass; then run the push again`,
      ].join('\n'),
    });
  }
}

/** At most this many of the remote's lines are kept, each cut to LINE_MAX: a remote may say a great deal. */
const LINES_MAX = 30;
const LINE_MAX = 300;
// C0/C1 controls, DEL and the bidi marks: a hint line must not move the cursor or reorder what follows.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const printableLine = (text: string) => text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const REMOTE_RACE = /^(cannot lock ref|failed to update ref|incorrect old value)/;

/** How git's porcelain status line for the pushed ref reads. */
type Outcome = { kind: 'race' } | { kind: 'refused'; reason: string } | { kind: 'other' };

/**
 * git push --porcelain prints, per ref, `<flag>\t<from>:<to>\t<summary>`
 * on stdout. `[rejected] (non-fast-forward | fetch first | stale info)` is
 * git's own refusal before sending: the remote moved. `[remote rejected]
 * (<reason>)` is the remote's; the reasons of receive-pack's own ref update
 * (REMOTE_RACE) are a race on the remote (another push held or moved the
 * ref), anything else its rules.
 */
export function pushOutcome(stdout: string, branch: string): Outcome {
  const ref = `refs/heads/${branch}:refs/heads/${branch}`;
  const line = stdout.split('\n').find((l) => l.startsWith('!\t') && l.split('\t')[1] === ref);
  const summary = line?.split('\t').slice(2).join('\t') ?? '';
  if (summary.startsWith('[rejected]')) return { kind: 'race' };
  const remote = /^\[remote rejected\] \((.*)\)$/s.exec(summary);
  if (remote) return REMOTE_RACE.test(remote[1]!) ? { kind: 'race' } : { kind: 'refused', reason: remote[1]! };
  return { kind: 'other' };
}

/** The remote's own lines from git push's stderr (`remote: …`), blank ones dropped, bounded. */
export function remoteLines(stderr: string): string[] {
  return stderr.split(/\r?\n/)
    .filter((l) => l.startsWith('remote:'))
    // git pads each sideband line with spaces (to clear a progress line); they say nothing.
    .map((l) => l.replace(/[ \t]+$/, ''))
    .filter((l) => l !== 'remote:')
    .slice(0, LINES_MAX)
    .map((l) => (l.length > LINE_MAX ? `${l.slice(0, LINE_MAX - 1)}…` : l));
}

export async function pushLedger(dir: string, branch: string, remote: string, attempts = 10): Promise<void> {
  const tracking = `refs/envctl/remotes/${branch}`;
  for (let i = 0; i < attempts; i++) {
    const push = await execa('git', ['push', '--porcelain', remote, `refs/heads/${branch}:refs/heads/${branch}`], { cwd: dir, reject: false });
    if (push.exitCode === 0) return;
    const outcome = pushOutcome(push.stdout, branch);
    if (outcome.kind === 'refused') {
      // git's rejection line as git prints it without --porcelain, after what the remote said.
      const lines = [...remoteLines(push.stderr), ` ! [remote rejected] ${branch} -> ${branch} (${outcome.reason})`];
      throw new PushRefused(remote, branch, outcome.reason.slice(0, LINE_MAX), lines);
    }
    if (outcome.kind === 'other') throw new PushFailed(remote, `git push ${remote} ${branch} failed: ${printableLine(lastLine(push.stderr))}`);
    const fetch = await execa('git', ['fetch', '--quiet', remote, `+refs/heads/${branch}:${tracking}`], { cwd: dir, reject: false });
    if (fetch.exitCode !== 0) throw new PushFailed(remote, `git fetch ${remote} ${branch} failed: ${printableLine(lastLine(fetch.stderr))}`);
    const theirs = (await execa('git', ['rev-parse', tracking], { cwd: dir })).stdout.trim();
    await mergeRemoteLedger(dir, branch, theirs);
  }
  throw new PushFailed(remote, `could not push ${branch} to ${remote}: it kept moving`);
}

const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';
