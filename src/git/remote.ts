/**
 * Publishing the ledger: push the state branch to a remote. A push refused
 * as non-fast-forward (another sync pushed first) fetches the remote's
 * branch, merges it record by record into the local one and pushes again.
 * Uses the git binary, which CI runners have; numbering never needs it.
 */
import { execa } from 'execa';
import { EnvctlError } from '../model/errors.js';
import { mergeRemoteLedger } from './ledger.js';

const REJECTED = /\[rejected\]|non-fast-forward|fetch first|stale info|cannot lock ref/;

/** Publishing the state branch failed (external, host `git remote <name>`, code `push-failed`). */
export class PushFailed extends EnvctlError {
  constructor(remote: string, message: string) {
    super('external', 'push-failed', message, { host: `git remote ${remote}`, data: { remote } });
  }
}

export async function pushLedger(dir: string, branch: string, remote: string, attempts = 10): Promise<void> {
  const tracking = `refs/envctl/remotes/${branch}`;
  for (let i = 0; i < attempts; i++) {
    const push = await execa('git', ['push', '--porcelain', remote, `refs/heads/${branch}:refs/heads/${branch}`], { cwd: dir, reject: false });
    if (push.exitCode === 0) return;
    const said = `${push.stdout}\n${push.stderr}`;
    if (!REJECTED.test(said)) throw new PushFailed(remote, `git push ${remote} ${branch} failed: ${push.stderr.trim().split('\n').pop() ?? ''}`);
    const fetch = await execa('git', ['fetch', '--quiet', remote, `+refs/heads/${branch}:${tracking}`], { cwd: dir, reject: false });
    if (fetch.exitCode !== 0) throw new PushFailed(remote, `git fetch ${remote} ${branch} failed: ${fetch.stderr.trim().split('\n').pop() ?? ''}`);
    const theirs = (await execa('git', ['rev-parse', tracking], { cwd: dir })).stdout.trim();
    await mergeRemoteLedger(dir, branch, theirs);
  }
  throw new PushFailed(remote, `could not push ${branch} to ${remote}: it kept moving`);
}
