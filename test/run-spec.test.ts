/**
 * The run side, pure parts: the lifecycle script (run by a real sh here, to
 * prove the order and post-run on every ending), session paths from the
 * product's own tool definitions, the Kubernetes Pod field by field, and
 * shell quoting.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import fc from 'fast-check';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { passwdEntry } from '../src/registry/files.js';
import { podManifest, PodError } from '../src/render/k8s.js';
import { lifecycleScript, shellQuote } from '../src/render/lifecycle.js';
import { renderRunSpec, withCommand, type RunSpec } from '../src/render/runspec.js';
import { main } from '../src/cli/main.js';
import { recordBuilds } from '../src/git/ledger.js';
import { commit, git } from './fixtures/repo.js';
import { resolveTools, SessionError } from '../src/render/session.js';
import { check, removeDir, tempDir, yaml } from './helpers.js';

// The hosted product's public Jupyter definition, as ../shared/reference/domino-revision-fields.md gives it.
const JUPYTER = [
  '  jupyter:',
  '    title: "Jupyter (Python, R, Julia)"',
  '    iconUrl: "/assets/images/workspace-logos/Jupyter.svg"',
  '    start: [ "/var/opt/workspaces/jupyter/start" ]',
  '    httpProxy:',
  '      port: 8888',
  '      rewrite: false',
  '      internalPath: "/{{ownerUsername}}/{{projectName}}/{{sessionPathComponent}}/{{runId}}/{{#if pathToOpen}}tree/{{pathToOpen}}{{/if}}"',
  '      requireSubdomain: false',
  '    supportedFileExtensions: [ ".ipynb" ]',
];

const append = (line: string) => `echo ${line} >> order.txt`;

function specOf(extra: string[], withBase = false): RunSpec {
  const files = {
    'environments/base.yaml': yaml('owner: "@acme/p"', 'dockerArguments: ["--shm-size=2g"]', 'variables: { FROM_BASE: "1" }'),
    'environments/e.yaml': yaml('owner: "@acme/p"', ...(withBase ? ['base: { environment: base }'] : []), ...extra),
  };
  const run = check(files);
  const all = new Map(run.environments.map((x) => [x.name, x]));
  const env = all.get('e')!;
  return renderRunSpec(env, withBase ? [all.get('base')!] : [], 'registry.example/envctl/e@sha256:' + 'a'.repeat(64), 4);
}

const SCRIPTS = [
  'scripts:',
  `  preSetup: "${append('pre-setup')}"`,
  `  postSetup: "${append('post-setup')}"`,
  `  preRun: "${append('pre-run')}"`,
  `  postRun: "${append('post-run')}"`,
];

describe('lifecycle script', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('envctl-lifecycle-');
    await mkdir(join(dir, 'bin'));
    // A pip that only says it ran, so the order is visible without a network.
    await writeFile(join(dir, 'bin', 'pip'), '#!/bin/sh\necho "requirements installed ($3)" >> order.txt\n', { mode: 0o755 });
  });
  afterEach(() => removeDir(dir));

  const run = (spec: RunSpec, command: string[]) =>
    execa('/bin/sh', ['-c', lifecycleScript(spec, { command, projectDir: dir })], { reject: false, env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}` } });

  it('runs in the product\'s order: pre-setup, requirements, post-setup, pre-run, command, post-run', async () => {
    await writeFile(join(dir, 'requirements.txt'), 'numpy\n');
    const result = await run(specOf(SCRIPTS), ['sh', '-c', append('command')]);
    expect(result.exitCode).to.equal(0);
    expect(await readFile(join(dir, 'order.txt'), 'utf8')).to.equal(['pre-setup', 'requirements installed (requirements.txt)', 'post-setup', 'pre-run', 'command', 'post-run', ''].join('\n'));
  });

  it('skips requirements without a requirements.txt, and runs post-run once when the command fails, keeping its exit code', async () => {
    const result = await run(specOf(SCRIPTS), ['sh', '-c', `${append('command')}; exit 7`]);
    expect(result.exitCode).to.equal(7);
    expect(await readFile(join(dir, 'order.txt'), 'utf8')).to.equal('pre-setup\npost-setup\npre-run\ncommand\npost-run\n');
  });

  it('on SIGTERM stops the command and still runs post-run', async () => {
    const child = execa('/bin/sh', ['-c', lifecycleScript(specOf(SCRIPTS), { command: ['sh', '-c', `${append('command')}; sleep 30; ${append('never')}`], projectDir: dir })], { reject: false });
    for (let i = 0; i < 100 && !(await readFile(join(dir, 'order.txt'), 'utf8').catch(() => '')).includes('command'); i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).to.equal(143);
    expect(await readFile(join(dir, 'order.txt'), 'utf8')).to.equal('pre-setup\npost-setup\npre-run\ncommand\npost-run\n');
  });

  it('a failing setup script stops the run before the command, and post-run still runs', async () => {
    const spec = specOf(['scripts:', '  preSetup: "exit 3"', `  postRun: "${append('post-run')}"`]);
    const result = await run(spec, ['sh', '-c', append('command')]);
    expect(result.exitCode).to.equal(3);
    expect(await readFile(join(dir, 'order.txt'), 'utf8')).to.equal('post-run\n');
  });

  it('quotes any word so sh reads it back unchanged', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')), async (word) => {
      const { stdout } = await execa('/bin/sh', ['-c', `printf %s ${shellQuote(word)}`], { stripFinalNewline: false });
      expect(stdout).to.equal(word);
    }), { numRuns: 60 });
  });
});

describe('workspace tool paths for a session', () => {
  const spec = specOf(['workspaceTools:', ...JUPYTER]);

  it('resolves the product\'s Jupyter path, with and without a file to open', () => {
    const session = { ownerUsername: 'ada', projectName: 'churn', sessionPathComponent: 'notebookSession', runId: 'r42' };
    expect(resolveTools(spec.workspaceTools, { ...session, pathToOpen: 'work/a b.ipynb' }).jupyter!.resolvedPath).to.equal('/ada/churn/notebookSession/r42/tree/work/a%20b.ipynb');
    expect(resolveTools(spec.workspaceTools, session).jupyter!.resolvedPath).to.equal('/ada/churn/notebookSession/r42/');
  });

  it('leaves the path unresolved and names what the session lacks, rather than an empty segment', () => {
    const tool = resolveTools(spec.workspaceTools, { ownerUsername: 'ada', projectName: 'churn' }).jupyter!;
    expect(tool.resolvedPath).to.equal(undefined);
    expect(tool.missing).to.deep.equal(['sessionPathComponent', 'runId']);
  });

  it('keeps a value from adding path segments or HTML', () => {
    const tool = resolveTools(spec.workspaceTools, { ownerUsername: 'x#y', projectName: '<b>', sessionPathComponent: 's', runId: '1?a=b' }).jupyter!;
    expect(tool.resolvedPath).to.equal('/x%23y/%3Cb%3E/s/1%3Fa%3Db/');
    expect(() => resolveTools(spec.workspaceTools, { ownerUsername: '../x', projectName: 'p', sessionPathComponent: 's', runId: '1' })).to.throw(SessionError, 'ownerUsername');
  });
});

describe('Kubernetes Pod manifest', () => {
  const spec = specOf([
    'workspaceTools:', ...JUPYTER,
    'variables: { API_URL: "https://api.example", DB_PASSWORD: { secret: true } }',
    'dockerArguments: ["--cap-add=SYS_PTRACE"]',
    'username: ada',
  ], true);

  it('a session\'s tool serves under the session\'s path, without the file to open; a job gets no tool variables', () => {
    const session = { ownerUsername: 'ada', projectName: 'churn', sessionPathComponent: 's', runId: '7', pathToOpen: 'work/a.ipynb' };
    const resolved = { ...spec, workspaceTools: resolveTools(spec.workspaceTools, session) };
    expect(resolved.workspaceTools.jupyter!.resolvedPath).to.equal('/ada/churn/s/7/tree/work/a.ipynb');
    const env = (podManifest(resolved, { name: 'x', run: { tool: 'jupyter' }, secretName: 's' }).spec.containers[0]! as Record<string, any>).env as { name: string; value?: string }[];
    expect(env.find((e) => e.name === 'ENVCTL_TOOL_BASE_URL')).to.deep.equal({ name: 'ENVCTL_TOOL_BASE_URL', value: '/ada/churn/s/7/' });
    const job = (podManifest(resolved, { name: 'x', run: { command: 'true' }, secretName: 's' }).spec.containers[0]! as Record<string, any>).env as { name: string }[];
    expect(job.map((e) => e.name)).to.not.include('ENVCTL_TOOL_PORT');
  });

  it('a workspace session: image by digest, the lifecycle as command, the tool\'s port, env and secrets, the user', () => {
    const pod = podManifest(spec, { name: 'Churn_Jupyter r42', run: { tool: 'jupyter' }, secretName: 'churn-secrets', user: { uid: 1001, gid: 1002 } });
    expect(pod.apiVersion).to.equal('v1');
    expect(pod.kind).to.equal('Pod');
    expect(pod.metadata.name).to.equal('churn-jupyter-r42');
    expect(pod.metadata.labels).to.deep.equal({ 'app.kubernetes.io/managed-by': 'envctl', 'envctl.io/environment': 'e', 'envctl.io/revision': '4' });
    expect(pod.metadata.annotations['envctl.io/docker-arguments']).to.equal(JSON.stringify(['--shm-size=2g', '--cap-add=SYS_PTRACE']));
    expect(pod.spec.restartPolicy).to.equal('Never');
    const c = pod.spec.containers[0]! as Record<string, any>;
    expect(c.image).to.equal(`registry.example/envctl/e@sha256:${'a'.repeat(64)}`);
    expect(c.command.slice(0, 2)).to.deep.equal(['/bin/sh', '-c']);
    expect(c.command[2]).to.contain('setsid /var/opt/workspaces/jupyter/start &');
    expect(c.workingDir).to.equal('/mnt/project');
    expect(c.ports).to.deep.equal([{ name: 'jupyter', containerPort: 8888, protocol: 'TCP' }]);
    expect(c.env).to.deep.equal([
      { name: 'FROM_BASE', value: '1' },
      { name: 'API_URL', value: 'https://api.example' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'churn-secrets', key: 'DB_PASSWORD' } } },
      // Where the tool listens, as envctl run tells it: all interfaces (the proxy is outside the Pod), its port, and no session: /.
      { name: 'ENVCTL_TOOL_HOST', value: '0.0.0.0' },
      { name: 'ENVCTL_TOOL_PORT', value: '8888' },
      { name: 'ENVCTL_TOOL_BASE_URL', value: '/' },
    ]);
    expect(c.securityContext).to.deep.equal({ capabilities: { add: ['SYS_PTRACE'] }, runAsUser: 1001, runAsGroup: 1002 });
    expect(c.volumeMounts).to.deep.equal([{ name: 'project', mountPath: '/mnt/project' }, { name: 'dshm', mountPath: '/dev/shm' }]);
    expect(pod.spec.volumes).to.deep.equal([{ name: 'project', emptyDir: {} }, { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '2Gi' } }]);
    expect(JSON.stringify(pod)).to.not.contain('secret: true');
  });

  it('reads docker arguments as docker does: --privileged=false is not privileged, a two-word --cap-add is one flag', () => {
    const pod = (dockerArguments: string[]) => podManifest({ ...spec, dockerArguments }, { name: 'x', run: { command: 'true' }, secretName: 's' }).spec.containers[0]! as Record<string, any>;
    expect(pod(['--privileged=false']).securityContext).to.equal(undefined);
    expect(pod(['--privileged=0', '--cap-add', 'cap_net_admin']).securityContext).to.deep.equal({ capabilities: { add: ['NET_ADMIN'] } });
    expect(pod(['--privileged']).securityContext).to.deep.equal({ privileged: true });
    expect(pod(['-e', '--privileged']).securityContext, 'the value of -e, not a flag').to.equal(undefined);
  });

  it('a job runs its command through the lifecycle, with no ports', () => {
    const c = podManifest(spec, { name: 'job', run: { command: 'python train.py' }, secretName: 's' }).spec.containers[0]! as Record<string, any>;
    expect(c.ports).to.equal(undefined);
    expect(c.command[2]).to.contain("sh -c 'python train.py' &");
  });

  it('refuses a tool the environment lacks, and an environment not built yet', () => {
    expect(() => podManifest(spec, { name: 'x', run: { tool: 'vscode' }, secretName: 's' })).to.throw(PodError, 'has no workspace tool "vscode"; it has: jupyter');
    expect(() => podManifest({ ...spec, image: '{{image}}' }, { name: 'x', run: { command: 'true' }, secretName: 's' })).to.throw(PodError, 'sync it first');
  });

  it('finds a user\'s ids in /etc/passwd', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/sh\nada:x:1001:1002::/home/ada:/bin/sh\n';
    expect(passwdEntry(passwd, 'ada')).to.deep.equal({ uid: 1001, gid: 1002 });
    expect(passwdEntry(passwd, 'bob')).to.equal(undefined);
  });
});

describe('run spec: the command step names what runs', function () {
  this.timeout(60_000);

  it('withCommand fills the command step with a job command or a tool, and refuses a tool the spec lacks', () => {
    const spec = specOf(['workspaceTools:', ...JUPYTER]);
    expect(spec.lifecycle.start.at(-1)).to.deep.equal({ step: 'command' });
    expect(withCommand(spec, { command: 'python train.py' }).lifecycle.start.at(-1)).to.deep.equal({ step: 'command', command: 'python train.py' });
    expect(withCommand(spec, { tool: 'jupyter' }).lifecycle.start.at(-1)).to.deep.equal({ step: 'command', tool: 'jupyter' });
    expect(() => withCommand(spec, { tool: 'vscode' })).to.throw('has no workspace tool "vscode"; it has: jupyter');
  });

  describe('envctl run-spec (JSON) on a repository with a ledger', () => {
    let dir: string;
    before(async () => {
      dir = await tempDir('envctl-run-spec-');
      await git(dir, 'init', '-q', '-b', 'main');
      await commit(dir, {
        'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'), '.gitignore': '.envctl/\n',
        'environments/e.yaml': yaml('owner: "@acme/p"', 'base: { image: "127.0.0.1:1/busybox:1" }', 'instructions: |', '  RUN true', 'workspaceTools:', ...JUPYTER),
        'projects/train.yaml': yaml('title: Train', 'owner: "@acme/p"', 'environment: e', 'command: python3 train.py --epochs 2'),
      }, 'e and a project using it');
      await recordBuilds(dir, 'envctl-state', new Map([['e', [{
        id: 'e1', revision: 1, commit: await git(dir, 'rev-parse', 'HEAD'), contentKey: 'sha256:k', status: 'succeeded',
        digest: `sha256:${'d'.repeat(64)}`, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:01Z',
      }]]]), { summary: 'test' });
    });
    after(() => removeDir(dir));

    async function lastStep(...argv: string[]): Promise<unknown> {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['run-spec', ...argv], { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir, env: { ENVCTL_OFFLINE: '1', GITHUB_ACTIONS: 'false' } });
      expect(code, err.join('\n')).to.equal(0);
      return (JSON.parse(out.join('\n')) as RunSpec).lifecycle.start.at(-1);
    }

    it('ends in the project\'s command, the one --command gives, or the tool --tool names', async () => {
      expect(await lastStep('train')).to.deep.equal({ step: 'command', command: 'python3 train.py --epochs 2' });
      expect(await lastStep('train', '--command', 'python3 train.py --epochs 9')).to.deep.equal({ step: 'command', command: 'python3 train.py --epochs 9' });
      expect(await lastStep('e', '--command', 'echo hi')).to.deep.equal({ step: 'command', command: 'echo hi' });
      expect(await lastStep('e', '--tool', 'jupyter')).to.deep.equal({ step: 'command', tool: 'jupyter' });
      expect(await lastStep('e')).to.deep.equal({ step: 'command' });
    });
  });
});
