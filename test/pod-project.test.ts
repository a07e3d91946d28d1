/**
 * A Pod's project folder (render/k8s.ts): a volume filled before the
 * lifecycle starts, by an init container that fetches the one commit and
 * unpacks the project's folder, or a named volume (a claim). The init
 * container's script is run here by a real sh and git against a local
 * repository, with the values hostile ones; every Pod is checked against
 * Kubernetes' own schema (kubernetes-models).
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { Pod } from 'kubernetes-models/v1';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { recordBuilds } from '../src/git/ledger.js';
import { CLONE_SCRIPT, podManifest, type PodManifest, type ProjectSource } from '../src/render/k8s.js';
import { renderRunSpec, type RunSpec } from '../src/render/runspec.js';
import { commit, git } from './fixtures/repo.js';
import { check, removeDir, tempDir, yaml } from './helpers.js';

function specOf(): RunSpec {
  const run = check({ 'environments/e.yaml': yaml('owner: "@acme/p"', 'username: ada', 'dockerArguments: ["--shm-size=1g"]', 'variables: { A: "1", S: { secret: true } }') });
  return renderRunSpec(run.environments[0]!, [], `registry.example/envctl/e@sha256:${'a'.repeat(64)}`, 2);
}
const pod = (project?: ProjectSource) => podManifest(specOf(), { name: 'p', run: { command: 'python3 forecast.py' }, secretName: 's', user: { uid: 1001, gid: 1002 }, ...(project ? { project } : {}) });
/** What the kubelet hands the process: `$$` read as `$` (the values are written with every `$` doubled). */
const unkube = (value: string) => value.replace(/\$\$/g, '$');
/** Kubernetes' own schema for a Pod: throws on a field of the wrong type or a missing required one. */
const validate = (manifest: PodManifest) => new Pod(manifest as unknown as ConstructorParameters<typeof Pod>[0]).validate();

const HOSTILE = `x'; touch /tmp/pwned-$$; echo "$(id)" \`id\``;

describe('a Pod\'s project folder', () => {
  it('from git: an init container with a fixed script, the URL, commit and path as env values only; the lifecycle\'s container mounts the filled folder', () => {
    const source = { git: { repository: `https://git.example/${HOSTILE}.git`, commit: 'c'.repeat(40), path: `projects/${HOSTILE}`, image: 'docker.io/alpine/git:2.45.2' } };
    const manifest = pod(source);
    validate(manifest);
    const init = (manifest.spec.initContainers as Record<string, any>[])[0]!;
    expect(init.image).to.equal('docker.io/alpine/git:2.45.2');
    expect(init.command.map(unkube)).to.deep.equal(['/bin/sh', '-c', CLONE_SCRIPT]);
    expect(init.command.join(' ')).to.not.contain('git.example').and.to.not.contain('pwned').and.to.not.contain('c'.repeat(40));
    const env = Object.fromEntries((init.env as { name: string; value: string }[]).map((e) => [e.name, unkube(e.value)]));
    expect(env).to.include({ ENVCTL_REPOSITORY: source.git.repository, ENVCTL_COMMIT: source.git.commit, ENVCTL_PATH: source.git.path, ENVCTL_PROJECT_DIR: '/mnt/project' });
    // The kubelet could expand nothing in them: every $ is doubled.
    for (const e of init.env as { value: string }[]) expect(e.value.replace(/\$\$/g, '')).to.not.contain('$');
    expect(init.securityContext).to.deep.equal({ runAsUser: 1001, runAsGroup: 1002 });
    expect(init.volumeMounts).to.deep.include({ name: 'project', mountPath: '/mnt/project' });
    const c = manifest.spec.containers[0] as Record<string, any>;
    expect(c.volumeMounts).to.deep.equal([{ name: 'project', mountPath: '/mnt/project' }, { name: 'dshm', mountPath: '/dev/shm' }]);
    expect(c.workingDir).to.equal('/mnt/project');
    expect((manifest.spec.volumes as { name: string }[]).map((v) => v.name)).to.deep.equal(['project', 'project-clone', 'dshm']);
  });

  it('a named volume: the claim mounted at /mnt/project, no init container', () => {
    const manifest = pod({ claim: 'forecast-data' });
    validate(manifest);
    expect(manifest.spec.initContainers).to.equal(undefined);
    expect((manifest.spec.volumes as unknown[])[0]).to.deep.equal({ name: 'project', persistentVolumeClaim: { claimName: 'forecast-data' } });
  });

  it('neither: an empty folder, so the lifecycle\'s cd still works', () => {
    const manifest = pod();
    validate(manifest);
    expect((manifest.spec.volumes as unknown[])[0]).to.deep.equal({ name: 'project', emptyDir: {} });
  });

  it('the schema check can fail: a Pod with a wrongly typed field is refused', () => {
    const manifest = pod();
    (manifest.spec.containers[0] as Record<string, unknown>).volumeMounts = 'project';
    expect(() => validate(manifest)).to.throw();
  });

  describe('the init container\'s script, run by sh and git', function () {
    this.timeout(60_000);
    let dir: string;
    before(async () => { dir = await tempDir('envctl-pod-clone-'); });
    after(() => removeDir(dir));

    it('unpacks exactly the project\'s folder at the commit given, whatever its path holds', async () => {
      const origin = join(dir, 'origin');
      await mkdir(origin);
      await git(origin, 'init', '-q', '-b', 'main');
      const folder = `projects/${HOSTILE}`;
      await commit(origin, { [`${folder}/forecast.py`]: 'print(1)\n', [`${folder}/data/weeks.csv`]: 'w\n1\n', 'projects/other/x.py': 'other\n' }, 'the project');
      const at = await git(origin, 'rev-parse', 'HEAD');
      await commit(origin, { [`${folder}/forecast.py`]: 'print(2)\n' }, 'later');
      const manifest = pod({ git: { repository: origin, commit: at, path: folder, image: 'git' } });
      const init = (manifest.spec.initContainers as Record<string, any>[])[0]!;
      const project = join(dir, 'project');
      const clone = join(dir, 'clone');
      await mkdir(project);
      await mkdir(clone);
      const env = Object.fromEntries((init.env as { name: string; value: string }[]).map((e) => [e.name, unkube(e.value)]));
      const result = await execa(unkube(init.command[0]), init.command.slice(1).map(unkube), {
        reject: false, cwd: dir,
        env: { ...env, ENVCTL_PROJECT_DIR: project, ENVCTL_CLONE_DIR: clone, HOME: clone, PATH: process.env.PATH!, GIT_CONFIG_NOSYSTEM: '1' },
      });
      expect(result.exitCode, result.stderr).to.equal(0);
      expect(await readFile(join(project, 'forecast.py'), 'utf8')).to.equal('print(1)\n');
      expect(await readFile(join(project, 'data', 'weeks.csv'), 'utf8')).to.equal('w\n1\n');
      expect((await readdir(project)).sort()).to.deep.equal(['data', 'forecast.py']);
      expect(await readdir(clone)).to.deep.equal([]);
      expect((await readdir('/tmp')).some((f) => f.startsWith('pwned-'))).to.equal(false);
    });

    it('fails, leaving the folder empty, when the commit cannot be fetched', async () => {
      const origin = join(dir, 'origin');
      const manifest = pod({ git: { repository: origin, commit: 'f'.repeat(40), path: 'projects/other', image: 'git' } });
      const init = (manifest.spec.initContainers as Record<string, any>[])[0]!;
      const project = join(dir, 'project-2');
      const clone = join(dir, 'clone-2');
      await mkdir(project);
      await mkdir(clone);
      const env = Object.fromEntries((init.env as { name: string; value: string }[]).map((e) => [e.name, unkube(e.value)]));
      const result = await execa('/bin/sh', ['-c', CLONE_SCRIPT], { reject: false, env: { ...env, ENVCTL_PROJECT_DIR: project, ENVCTL_CLONE_DIR: clone, HOME: clone, PATH: process.env.PATH! } });
      expect(result.exitCode).to.not.equal(0);
      expect(await readdir(project)).to.deep.equal([]);
    });
  });

  describe('envctl run-spec --format k8s for a project with a folder', function () {
    this.timeout(60_000);
    let dir: string;
    before(async () => {
      dir = await tempDir('envctl-pod-project-');
      await git(dir, 'init', '-q', '-b', 'main');
      await commit(dir, {
        'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'), '.gitignore': '.envctl/\n',
        'environments/e.yaml': yaml('owner: "@acme/p"', 'base: { image: "127.0.0.1:1/busybox:1" }', 'instructions: |', '  RUN true'),
        'projects/forecast/project.yaml': yaml('owner: "@acme/p"', 'environment: e', 'command: python3 forecast.py'),
        'projects/forecast/forecast.py': 'print(1)\n',
      }, 'e and a project folder');
      await recordBuilds(dir, 'envctl-state', new Map([['e', [{
        id: 'e1', revision: 1, commit: await git(dir, 'rev-parse', 'HEAD'), contentKey: 'sha256:k', status: 'succeeded',
        digest: `sha256:${'d'.repeat(64)}`, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:01Z',
      }]]]), { summary: 'test' });
    });
    after(() => removeDir(dir));

    async function runSpec(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['run-spec', ...argv], { out: (t) => out.push(t), err: (t) => err.push(t), cwd: dir, env: { ENVCTL_OFFLINE: '1', GITHUB_ACTIONS: 'false', ...env } });
      return { code, out: out.join('\n'), err: err.join('\n') };
    }

    it('without a repository to clone from: a usage error naming project.repository and --project-volume', async () => {
      const r = await runSpec({}, 'forecast', '--format', 'k8s');
      expect(r.code).to.equal(2);
      expect(r.err).to.contain('names no repository to clone from');
      expect(r.err).to.contain('project.repository');
      expect(r.err).to.contain('--project-volume');
      expect(r.err).to.not.match(/\n\s+at /);
    });

    it('with envctl.yaml\'s project.repository: the folder at HEAD, by the configured git image', async () => {
      const config = join(dir, 'other.yaml');
      await execa('sh', ['-c', `printf '%s\\n' 'registry: { address: "127.0.0.1:1" }' 'project: { repository: "https://git.example/acme/envs.git", gitImage: "registry.example/git:1" }' > "$1"`, 'sh', config]);
      const r = await runSpec({ ENVCTL_CONFIG: config }, 'forecast', '--format', 'k8s');
      expect(r.code, r.err).to.equal(0);
      const manifest = load(r.out) as PodManifest;
      validate(manifest);
      const init = (manifest.spec.initContainers as Record<string, any>[])[0]!;
      expect(init.image).to.equal('registry.example/git:1');
      expect(init.env).to.deep.include.members([
        { name: 'ENVCTL_REPOSITORY', value: 'https://git.example/acme/envs.git' },
        { name: 'ENVCTL_COMMIT', value: await git(dir, 'rev-parse', 'HEAD') },
        { name: 'ENVCTL_PATH', value: 'projects/forecast' },
      ]);
    });

    it('--project-volume NAME mounts that claim instead; a name no claim can have is a usage error', async () => {
      const r = await runSpec({}, 'forecast', '--format', 'k8s', '--project-volume', 'forecast-data');
      expect(r.code, r.err).to.equal(0);
      const manifest = load(r.out) as PodManifest;
      validate(manifest);
      expect(manifest.spec.initContainers).to.equal(undefined);
      expect((manifest.spec.volumes as unknown[])[0]).to.deep.equal({ name: 'project', persistentVolumeClaim: { claimName: 'forecast-data' } });
      const bad = await runSpec({}, 'forecast', '--format', 'k8s', '--project-volume', 'Bad Name');
      expect(bad.code).to.equal(2);
      expect(bad.err).to.contain('--project-volume Bad Name');
    });
  });
});
