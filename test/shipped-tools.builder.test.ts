/**
 * The shipped environments for real: this repository's environments/,
 * projects/ and envctl.yaml copied into a fresh repository, built once by
 * `envctl sync` on the debootstrap default base into its embedded registry
 * (on a free port), then every workspace tool of every shipped environment
 * started with `envctl run ENV --tool T --port P` (a free port: the tool is
 * told to listen there) until it answers HTTP under the base URL its
 * internalPath gives for the session, and stopped with Ctrl-C (SIGINT to
 * the run's process group, as a terminal sends it). Every sample project
 * runs too: its command, or, without one, its environment's tools.
 *
 * The tools and projects are read from the shipped files, so a tool
 * declared later is started here without a change to this test.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { chmod, cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from '../src/git/ledger.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { openRepository, validateRepository } from '../src/repository/index.js';
import { renderAll } from '../src/repository/render.js';
import { toolPlace } from '../src/repository/run.js';
import type { RunSpec } from '../src/render/runspec.js';
import { environmentOf } from '../src/model/project.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'envctl.js');
// A port of this run's own: two test runs on one machine never share a registry.
const PORT = await freePort();

const repo = await openRepository(ROOT);
const validation = await validateRepository(repo, { offline: true });
const shipped = renderAll(validation.environments, repo.config);
const specs = new Map(shipped.map((r) => [r.name, r.runSpec]));
const tools = shipped.flatMap((r) => Object.keys(r.runSpec.workspaceTools).map((tool) => ({ environment: r.name, tool })));
const projects = validation.consumers.filter((c) => c.kind === 'project');

/** The kernels each environment's Jupyter must offer: what its description promises. */
const KERNELS: Record<string, string[]> = { 'jupyter-vscode': ['project', 'python3'], 'r-rstudio': ['ir'] };

/** What a sample project's command prints: its result, not only a clean exit. */
const PRINTS: Record<string, RegExp> = { 'demand-forecast': /^week \+4: \d+$/m };

/** What the product's session would give; the tool's internalPath takes what it uses. */
const SESSION = { ownerUsername: 'ada', projectName: 'churn', sessionPathComponent: 'notebookSession', runId: '7' };
const sessionArgs = Object.entries(SESSION).flatMap(([k, v]) => ['--session', `${k}=${v}`]);
/** A value for every secret variable of the environment: the run refuses without them. */
const secretsOf = (spec: RunSpec) => Object.fromEntries(spec.variables.filter((v) => 'secret' in v).map((v) => [v.name, `test-${v.name.toLowerCase()}`]));

/** Polls (every second, up to `bound` ms) until `url` answers over HTTP or the run has ended; the answer, or why there is none. */
async function firstAnswer(url: string, run: { exited: boolean }, bound: number): Promise<Response | string> {
  const until = Date.now() + bound;
  let last = 'no attempt';
  while (Date.now() < until) {
    if (run.exited) return `the run ended before ${url} answered`;
    try {
      return await fetch(url, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      last = String((err as { cause?: unknown }).cause ?? err);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return `${url} did not answer within ${bound / 1000} s: ${last}`;
}

/** Nothing listens on the port any more: the connection is refused. */
async function refused(port: number): Promise<string | undefined> {
  return fetch(`http://127.0.0.1:${port}/`).then(() => 'answered', (err: { cause?: { code?: string } }) => err.cause?.code);
}

describe('shipped environments: every workspace tool starts and answers HTTP, every sample project runs', function () {
  // Four images on two cores, the debootstrap base first: minutes, once for the whole file.
  this.timeout(3_600_000);
  let dir: string;
  let registry: RunningRegistry;
  const envctl = (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [BIN, ...args], { cwd: dir, reject: false, all: true, env });
  /** A run in a process group of its own, as a terminal's foreground job is, so Ctrl-C can be sent to it. */
  const background = (args: string[], env: Record<string, string>) =>
    execa(process.execPath, [BIN, ...args], { cwd: dir, reject: false, all: true, env, detached: true });

  before(async () => {
    expect(tools.length, 'the shipped environments declare workspace tools').to.be.greaterThan(0);
    expect(projects.map((p) => p.name)).to.include.members(['churn-analysis', 'demand-forecast']);
    dir = await tempDir('envctl-shipped-');
    // A clone's usual mode: an environment's user (not root) can enter the folder it is run from.
    await chmod(dir, 0o755);
    await git(dir, 'init', '-q', '-b', 'main');
    const config = await readFile(join(ROOT, 'envctl.yaml'), 'utf8');
    const ours = config.replace(/^(\s*embeddedPort:\s*)\d+/m, `$1${PORT}`);
    expect(ours, 'envctl.yaml names the embedded port').to.not.equal(config);
    // Pinned revisions exist in the copy's history too: earlier revisions of the pinned environment first.
    for (const p of projects) {
      const env = environmentOf(p.spec);
      if (env.revision === 'active') continue;
      const file = validation.environments.find((e) => e.name === env.name)!.source.file;
      const text = await readFile(join(ROOT, file), 'utf8');
      for (let n = 1; n < env.revision; n++) await commit(dir, { [file]: `${text}# revision ${n} of the test's history\n` }, `${env.name} ${n}`);
    }
    await cp(join(ROOT, 'environments'), join(dir, 'environments'), { recursive: true });
    await cp(join(ROOT, 'projects'), join(dir, 'projects'), { recursive: true });
    await commit(dir, { 'envctl.yaml': ours, '.gitignore': '.envctl/\n' }, 'the shipped environments and projects');
    registry = await startRegistry(dir, PORT);
    const synced = await envctl(['sync']);
    expect(synced.exitCode, synced.all).to.equal(0);
    const { ledger } = await readLedger(dir, 'envctl-state');
    for (const r of shipped) expect(ledger.get(r.name)?.active, `${r.name} is built and active`).to.be.a('number');
  });
  after(async () => {
    await registry?.stop();
    if (dir) await removeDir(dir);
  });

  /**
   * Starts `args` (a run of a tool), waits for the tool's answer under its base
   * URL on a free port, then stops the run with SIGINT to its process group.
   */
  async function startAndStop(name: string, environment: string, tool: string): Promise<void> {
    const spec = specs.get(environment)!;
    const port = await freePort();
    const base = toolPlace(tool, spec.workspaceTools[tool]!, { port, session: SESSION }).baseUrl!;
    const child = background(['run', name, '--tool', tool, '--port', String(port), ...sessionArgs], secretsOf(spec));
    const state = { exited: false };
    const done = child.then((r) => { state.exited = true; return r; });
    try {
      const answer = await firstAnswer(`http://127.0.0.1:${port}${base}`, state, 600_000);
      if (typeof answer === 'string') {
        process.kill(-child.pid!, 'SIGINT');
        expect.fail(`${answer}\n${(await done).all}`);
      }
      expect(answer.status, `${environment} ${tool}: GET ${base} → ${answer.url}`).to.equal(200);
      expect(new URL(answer.url).pathname.startsWith(base)).to.equal(true);
      const kernels = KERNELS[environment];
      if (kernels && tool === 'jupyter') {
        const specs = await (await fetch(`http://127.0.0.1:${port}${base}api/kernelspecs`)).json() as { kernelspecs: Record<string, unknown> };
        expect(Object.keys(specs.kernelspecs), `${environment}'s Jupyter kernels`).to.include.members(kernels);
      }
      if (base !== '/') {
        // Served under the session's path, not beside it: the proxy forwards the path unchanged.
        const root = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' });
        expect(root.status, `GET / on ${tool}`).to.equal(404);
      }
    } finally {
      if (!state.exited) process.kill(-child.pid!, 'SIGINT');
    }
    const result = await done;
    // The lifecycle's answer to SIGINT: the tool stopped, post-run ran, exit 130.
    expect(result.exitCode, result.all).to.equal(130);
    expect(await refused(port)).to.equal('ECONNREFUSED');
  }

  for (const { environment, tool } of tools) {
    it(`${environment}: envctl run --tool ${tool} --port answers HTTP under the session's path, and stops on Ctrl-C`, async () => {
      await startAndStop(environment, environment, tool);
    });
  }

  for (const project of projects) {
    const environment = environmentOf(project.spec).name;
    if (project.spec.command !== undefined) {
      it(`project ${project.name}: envctl run runs its command on ${environment} (exit 0)`, async () => {
        const result = await envctl(['run', project.name], secretsOf(specs.get(environment)!));
        expect(result.exitCode, result.all).to.equal(0);
        expect(String(result.stdout), 'the command printed its result').to.match(PRINTS[project.name] ?? /\S/);
      });
    } else {
      for (const tool of Object.keys(specs.get(environment)!.workspaceTools)) {
        it(`project ${project.name}: envctl run --tool ${tool} on ${environment} answers HTTP, and stops on Ctrl-C`, async () => {
          await startAndStop(project.name, environment, tool);
        });
      }
    }
  }
});
