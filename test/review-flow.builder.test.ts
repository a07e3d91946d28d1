/**
 * pull-request.yml's build job as GitHub runs it (played by
 * test/fixtures/actions.ts), with real buildah and a real registry: after
 * validate, it builds the pull request's change without pushing, and the
 * plan artifact it leaves says what the build found; a change whose RUN
 * fails turns the job red.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { sync } from '../src/sync/index.js';
import { loadWorkflow, runWorkflow, type JobResult, type Workflow } from './fixtures/actions.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PORT = await freePort();
const REGISTRY = `127.0.0.1:${PORT}`;
const CONFIG_TEXT = yaml(`registry: { address: "${REGISTRY}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }', 'administrators: ["@acme/platform-admins"]');
const A = (run: string) => yaml('owner: "@acme/data"', 'instructions: |', `  RUN ${run}`);
const logOf = (runs: JobResult[] | undefined) => (runs ?? []).flatMap((r) => r.log).join('\n');

describe('pull-request.yml: the review build job', function () {
  this.timeout(600_000);
  let registry: RunningRegistry;
  let registryData: string;
  let origin: string;
  let work: string;
  let workflow: Workflow;
  const scratch: string[] = [];

  async function play(branch: string, number: number): Promise<{ jobs: Record<string, JobResult[]>; plan: string }> {
    await git(work, 'push', '-q', '-f', 'origin', branch);
    const head = await git(work, 'rev-parse', branch);
    const main = await git(origin, 'rev-parse', 'main');
    const artifacts = await tempDir('envctl-review-artifacts-');
    scratch.push(artifacts);
    const jobs = await runWorkflow(workflow, {
      actionPath: ROOT, origin, artifacts, envOverrides: { ENVCTL_REGISTRY: REGISTRY },
      github: {
        event_name: 'pull_request', sha: head, ref: `refs/pull/${number}/merge`, base_ref: 'main', head_ref: branch,
        repository: 'acme/environments', repository_owner: 'acme', actor: 'contributor', token: 'ghs_readonly',
        event: { number, pull_request: { number, head: { ref: branch, sha: head }, base: { ref: 'main', sha: main } } },
      },
      env: { GITHUB_REPOSITORY: 'acme/environments', GITHUB_SHA: head, GITHUB_EVENT_NAME: 'pull_request', GITHUB_SERVER_URL: 'https://github.example', GITHUB_RUN_ID: String(number) },
    });
    return { jobs, plan: await readFile(join(artifacts, 'envctl-plan', 'plan.md'), 'utf8') };
  }

  before(async () => {
    registryData = await tempDir('envctl-registry-');
    registry = await startRegistry(registryData, PORT);
    await pushBusybox(`${REGISTRY}/test/busybox:1`);
    workflow = await loadWorkflow(join(ROOT, '.github', 'workflows', 'pull-request.yml'));
    origin = await tempDir('envctl-review-origin-');
    await git(origin, 'init', '-q', '--bare', '-b', 'main');
    work = await tempDir('envctl-review-work-');
    await git(work, 'init', '-q', '-b', 'main');
    await git(work, 'remote', 'add', 'origin', origin);
    await commit(work, { 'envctl.yaml': CONFIG_TEXT, '.gitignore': '.envctl/\n', 'environments/a.yaml': A('echo one > /a') }, 'a');
    await execa(process.execPath, [join(ROOT, 'bin', 'envctl.js'), 'codeowners'], { cwd: work });
    await commit(work, {}, 'CODEOWNERS');
    expect((await sync(work, loadConfig(new TextEncoder().encode(CONFIG_TEXT)).config)).failed).to.equal(0);
    await git(work, 'push', '-q', 'origin', 'main', 'envctl-state');
  });
  after(async () => {
    await registry.stop();
    for (const d of [origin, work, registryData, ...scratch]) await removeDir(d);
  });

  it('builds the change after validate and the plan artifact says it builds, with its size against the active revision', async () => {
    await git(work, 'checkout', '-q', '-b', 'grow', 'main');
    await commit(work, { 'environments/a.yaml': A('echo two > /a') }, 'a: two');
    const { jobs, plan } = await play('grow', 3);
    expect(jobs.validate!.map((r) => r.result)).to.deep.equal(['success'], logOf(jobs.validate));
    expect(jobs.build!.map((r) => r.result)).to.deep.equal(['success'], logOf(jobs.build));
    expect(plan).to.contain('| a | 1 → 2 | build ✅ |');
    expect(plan).to.match(/- Review build: ✅ builds and passes its tests, [\d.]+ MB \([+−][\d.]+ MB against revision 1\)/);
    // Nothing pushed: the registry still has only main's revision.
    const tags = await (await fetch(`http://${REGISTRY}/v2/envctl/a/tags/list`)).json() as { tags: string[] };
    expect(tags.tags.filter((t) => /^\d+$/.test(t))).to.deep.equal(['1']);
  });

  it('a change whose RUN fails turns the build job red, and the plan shows the log tail', async () => {
    await git(work, 'checkout', '-q', '-b', 'broken', 'main');
    await commit(work, { 'environments/a.yaml': A('echo no such package >&2 && exit 100') }, 'a: broken');
    const { jobs, plan } = await play('broken', 4);
    expect(jobs.validate!.map((r) => r.result)).to.deep.equal(['success'], logOf(jobs.validate));
    expect(jobs.build!.map((r) => r.result)).to.deep.equal(['failure']);
    expect(plan).to.contain('**1 review build fails**: `a`');
    expect(plan).to.contain('no such package');
  });
});
