/**
 * The ledger push refused by the remote's rules (issue 15): a bare remote
 * whose pre-receive hook refuses the state branch with GitHub's GH013
 * words, record driven through the CLI against the GitHub stand-in.
 * Statuses and deployments still go out (ledger not updated), git's lines
 * are shown guarded, the exit is 1 with what to change; once the hook lets
 * the branch through, the same record publishes exactly one ledger commit.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readLedger } from '../src/git/ledger.js';
import { pushLedger, pushOutcome, PushRefused } from '../src/git/remote.js';
import type { BuildRecord } from '../src/ledger/model.js';
import { formatResults } from '../src/ledger/results.js';
import { runEnvctl } from './fixtures/cli.js';
import { startFakeGitHub, type FakeGitHub } from './fixtures/github-server.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';
import { gh013Hook } from './fixtures/rulesets.js';

const TOKEN = 'ghs_fakeinstallationtoken';
const REPO = 'acme/environments';

/** GitHub's answer to a push a ruleset covers (main is let through). */
const GH013_HOOK = gh013Hook(REPO);

/** A hostile remote: a terminal escape, a workflow command and a carriage return in what it says. */
const HOSTILE_HOOK = `#!/bin/sh
printf 'error: \\033]0;owned\\007title\\n' >&2
printf '::error::forged by the remote\\n' >&2
printf 'overwrite\\rme\\n' >&2
exit 1
`;

describe('ledger push refused by the remote\'s rules', function () {
  this.timeout(120_000);
  let dir: string;
  let remote: string;
  let gh: FakeGitHub;
  let added: string;

  const rec = (id: string, revision: number): BuildRecord => ({
    id, revision, commit: added, contentKey: `sha256:${String(revision).repeat(64)}`, status: 'succeeded', startedAt: `2026-01-01T00:00:0${revision}Z`,
    image: `127.0.0.1:1/envs/${id.split('-')[0]}:${revision}`, digest: `sha256:${String(revision).repeat(64)}`,
  });
  const hook = async (text: string | undefined) => {
    const path = join(remote, 'hooks', 'pre-receive');
    if (text === undefined) return rm(path, { force: true });
    await writeFile(path, text);
    await chmod(path, 0o755);
  };
  const env = () => ({ GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: REPO, GITHUB_API_URL: gh.url, GITHUB_SHA: added });
  const record = (cwd = dir) => runEnvctl(cwd, ['record', 'results', '--push', 'origin', '--github'], env());
  const remoteHas = async (ref: string) => (await execa('git', ['ls-remote', remote, ref])).stdout.trim() !== '';

  beforeEach(async () => {
    dir = await tempDir('envctl-refused-');
    remote = await tempDir('envctl-refused-remote-');
    await execa('git', ['init', '-q', '--bare', remote]);
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'),
      'environments/a.yaml': yaml('title: A', 'owner: "@o"', 'instructions: RUN true'),
      'environments/b.yaml': yaml('title: B', 'owner: "@o"', 'instructions: RUN true'),
    }, 'initial');
    added = await git(dir, 'rev-parse', 'HEAD');
    await git(dir, 'remote', 'add', 'origin', remote);
    await git(dir, 'push', '-q', 'origin', 'main');
    await mkdir(join(dir, 'results'));
    await writeFile(join(dir, 'results', 'group-0.json'), formatResults(added, [{ environment: 'a', record: rec('a-1', 1) }, { environment: 'b', record: rec('b-2', 2) }]));
    gh = await startFakeGitHub({ token: TOKEN, repository: REPO });
  });
  afterEach(async () => {
    await gh.close();
    await removeDir(dir);
    await removeDir(remote);
  });

  it('still reports statuses and deployments marked "ledger not updated", shows git\'s lines, keeps the results, exits 1 saying what to change', async () => {
    await hook(GH013_HOOK);
    const r = await record();
    expect(r.code, r.err).to.equal(1);
    const lines = r.err.split('\n');
    expect(lines[0]).to.match(/^recorded 2 builds \(0 failed\) in envctl-state [0-9a-f]{7}$/);
    expect(lines).to.include('envctl-state not pushed to origin: the remote refused it; reporting anyway');
    expect(lines).to.include('GitHub: 2 commit statuses, 2 deployments');
    expect(lines).to.include('envctl record: envctl-state on origin does not have these results; they stay in results: run this record again once the push is allowed');
    expect(lines).to.include('envctl record: git remote origin: the remote refused the push of envctl-state (pre-receive hook declined)');
    // git's own lines, in order, after the error.
    const said = lines.map((l) => l.trim());
    const at = (text: string) => said.indexOf(text);
    expect(at('remote: error: GH013: Repository rule violations found for refs/heads/envctl-state.')).to.be.greaterThan(0);
    expect(at('remote: - Cannot update this protected ref.')).to.be.greaterThan(at('remote: error: GH013: Repository rule violations found for refs/heads/envctl-state.'));
    expect(at('! [remote rejected] envctl-state -> envctl-state (pre-receive hook declined)')).to.be.greaterThan(at('remote: - Cannot update this protected ref.'));
    expect(r.err).to.contain('exclude envctl-state from the ruleset or branch protection that covers it, or give this workflow a bypass');
    expect(r.err).to.not.match(/^\s+at /m);

    // GitHub was told, each description saying the ledger was not updated, within GitHub's 140.
    const descriptions = gh.requestsTo('create-status').map((q) => (q.body as { description: string }).description);
    expect(descriptions).to.deep.equal(['revision 1 built; ledger not updated: push refused', 'revision 2 built; ledger not updated: push refused']);
    expect(gh.requestsTo('create-deployment').map((q) => (q.body as { description: string }).description)).to.deep.equal(descriptions);
    expect(gh.requestsTo('create-deployment-status')).to.have.length(2);

    // The remote has no ledger; the local commit and the results file stay.
    expect(await remoteHas('refs/heads/envctl-state')).to.equal(false);
    expect(await git(dir, 'rev-list', '--count', 'envctl-state')).to.equal('1');
    expect((await stat(join(dir, 'results', 'group-0.json'))).isFile()).to.equal(true);

    // The ruleset fixed: the same record run again publishes the one commit, and says nothing was new.
    await hook(undefined);
    const again = await record();
    expect(again.code, again.err).to.equal(0);
    expect(again.err.split('\n')).to.include.members(['nothing new to record (2 builds already recorded in envctl-state)', 'pushed envctl-state to origin', 'GitHub: 2 commit statuses, 2 deployments']);
    expect(await git(remote, 'rev-list', '--count', 'envctl-state')).to.equal('1');
    expect(await git(remote, 'rev-parse', 'envctl-state')).to.equal(await git(dir, 'rev-parse', 'envctl-state'));
    const { ledger } = await readLedger(remote, 'envctl-state');
    expect([...ledger.keys()].sort()).to.deep.equal(['a', 'b']);
    expect(gh.requestsTo('create-status').slice(2).map((q) => (q.body as { description: string }).description)).to.deep.equal(['revision 1 built', 'revision 2 built']);
  });

  it('a fresh clone re-running record after the fix (a CI re-run) makes exactly one ledger commit on the remote', async () => {
    await hook(GH013_HOOK);
    expect((await record()).code).to.equal(1);
    await hook(undefined);
    const fresh = await tempDir('envctl-refused-rerun-');
    try {
      await execa('git', ['clone', '-q', remote, fresh]);
      await execa('cp', ['-r', join(dir, 'results'), fresh]);
      const r = await record(fresh);
      expect(r.code, r.err).to.equal(0);
      expect(r.err).to.match(/^recorded 2 builds \(0 failed\) in envctl-state [0-9a-f]{7}$/m);
      expect(await git(remote, 'rev-list', '--count', 'envctl-state')).to.equal('1');
    } finally {
      await removeDir(fresh);
    }
  });

  it('a hostile remote\'s lines reach the terminal escaped: no terminal escape, no workflow command, no carriage return', async () => {
    await hook(HOSTILE_HOOK);
    const r = await record();
    expect(r.code).to.equal(1);
    // eslint-disable-next-line no-control-regex
    expect(r.err).to.not.match(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(r.err).to.not.match(/^\s*::/m);
    expect(r.err).to.contain('remote: error: \\u001b]0;owned\\u0007title');
    // Not first on its line (the runner trims only white space), so no workflow command.
    expect(r.err).to.contain('    remote: ::error::forged by the remote');
    expect(r.err).to.match(/remote: overwrite *\\u000dremote: me/);
  });

  it('a push that fails for another reason (no such remote) is reported as "push failed" and exits 1', async () => {
    const r = await runEnvctl(dir, ['record', 'results', '--push', 'nowhere', '--github'], env());
    expect(r.code, r.err).to.equal(1);
    expect(r.err).to.contain('envctl-state not pushed to nowhere: the push failed; reporting anyway');
    expect(r.err).to.match(/envctl record: git remote nowhere: git push nowhere envctl-state failed: /);
    expect(gh.requestsTo('create-status').map((q) => (q.body as { description: string }).description)[0]).to.equal('revision 1 built; ledger not updated: push failed');
  });

  it('pushLedger throws PushRefused with the remote\'s lines as data, without retrying', async () => {
    await hook(GH013_HOOK.replace('exit 1', 'echo refused >> "$GIT_DIR/attempts"; exit 1'));
    expect((await runEnvctl(dir, ['record', 'results'])).code).to.equal(0);
    let err: unknown;
    await pushLedger(dir, 'envctl-state', 'origin').catch((e: unknown) => { err = e; });
    expect(err).to.be.instanceOf(PushRefused);
    const refused = err as PushRefused;
    expect([refused.kind, refused.code, refused.host]).to.deep.equal(['external', 'ledger-push-refused', 'git remote origin']);
    expect(refused.data.reason).to.equal('pre-receive hook declined');
    expect(refused.data.lines[0]).to.equal('remote: error: GH013: Repository rule violations found for refs/heads/envctl-state.');
    expect(refused.data.lines.at(-1)).to.equal(' ! [remote rejected] envctl-state -> envctl-state (pre-receive hook declined)');
    // The hook ran once: a refusal is not retried as a race would be.
    expect((await readFile(join(remote, 'attempts'), 'utf8')).trim().split('\n')).to.deep.equal(['refused']);
  });
});

describe('pushOutcome: git push --porcelain status lines', () => {
  const line = (summary: string) => `To origin\n!\trefs/heads/envctl-state:refs/heads/envctl-state\t${summary}\nDone`;
  it('tells the remote moving (retried) from its rules refusing (not retried)', () => {
    expect(pushOutcome(line('[rejected] (fetch first)'), 'envctl-state')).to.deep.equal({ kind: 'race' });
    expect(pushOutcome(line('[rejected] (non-fast-forward)'), 'envctl-state')).to.deep.equal({ kind: 'race' });
    expect(pushOutcome(line('[remote rejected] (cannot lock ref \'refs/heads/envctl-state\': is at 1 but expected 2)'), 'envctl-state')).to.deep.equal({ kind: 'race' });
    expect(pushOutcome(line('[remote rejected] (push declined due to repository rule violations)'), 'envctl-state'))
      .to.deep.equal({ kind: 'refused', reason: 'push declined due to repository rule violations' });
    // Another ref's line, or none (no connection), is neither.
    expect(pushOutcome(line('[rejected] (fetch first)'), 'other')).to.deep.equal({ kind: 'other' });
    expect(pushOutcome('', 'envctl-state')).to.deep.equal({ kind: 'other' });
  });
});
