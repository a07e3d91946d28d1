/**
 * The package as npm installs it: `npm pack` of this repository, the tarball
 * installed with production dependencies only (`npm install --omit=dev`)
 * into an empty folder, then the installed `envctl` run on a small git
 * repository. A module src/ imports at run time but package.json lists
 * under devDependencies, or a file the CLI needs that `files` leaves out of
 * the tarball, fails here. Needs npm and its cache or registry (hence
 * `.npm.` in the name); runs on the compiled dist/ (scripts/test.sh builds
 * it first), so `npm pack` skips the prepare script.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, writeTree, yaml } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The environment without the npm_* variables `npm test` sets, which would steer the inner npm (its prefix, its omit list). */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

describe('package: npm pack, installed with production dependencies only', function () {
  this.timeout(120_000);
  let work: string;
  let installed: string;
  let bin: string;
  let files: string[];

  before(async () => {
    work = await tempDir('envctl-package-');
    const packed = await execa('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, env: cleanEnv(), extendEnv: false });
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    files = info!.files.map((f) => f.path);
    const into = join(work, 'install');
    await writeTree(into, { 'package.json': JSON.stringify({ name: 'envctl-installed', version: '0.0.0', private: true }) });
    // From the npm cache when it has the packages (npm ci filled it), else the registry.
    await execa('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(work, info!.filename)],
      { cwd: into, env: cleanEnv(), extendEnv: false });
    installed = join(into, 'node_modules', 'envctl');
    bin = join(into, 'node_modules', '.bin', 'envctl');
  });

  after(async () => {
    if (work) await removeDir(work);
  });

  it('ships the compiled CLI and the schemas, and no tests or sources', () => {
    expect(files).to.include.members(['package.json', 'bin/envctl.js', 'dist/src/cli/main.js', 'dist/src/index.js', 'schemas/environment.schema.json', 'dist/schemas/environment.schema.json']);
    expect(files.filter((f) => /^(test|bench|src|dist\/test|dist\/bench)\/|(?<!\.d)\.ts$/.test(f)), 'tests, benchmarks or TypeScript sources').to.deep.equal([]);
  });

  it('loads every module of dist/src with production dependencies only', async () => {
    const modules: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(dir, e.name));
        else if (e.name.endsWith('.js')) modules.push(join(dir, e.name));
      }
    };
    await walk(join(installed, 'dist', 'src'));
    expect(modules.length).to.be.greaterThan(50);
    const script = `const failed = [];
for (const m of ${JSON.stringify(modules)}) { try { await import(m); } catch (e) { failed.push(m + ': ' + e.message.split('\\n')[0]); } }
console.log(JSON.stringify(failed));`;
    const r = await execa(process.execPath, ['--input-type=module', '-e', script], { cwd: installed, env: cleanEnv(), extendEnv: false });
    const failed = (JSON.parse(r.stdout) as string[]).map((f) => relative(installed, f));
    expect(failed, failed.join('\n')).to.deep.equal([]);
  });

  it('the installed envctl prints its help and its version', async () => {
    const r = await execa(bin, ['--help'], { env: cleanEnv(), extendEnv: false, reject: false });
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout).to.include('validate').and.include('render').and.include('sync');
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = await execa(bin, ['--version'], { env: cleanEnv(), extendEnv: false, reject: false });
    expect([v.exitCode, v.stdout.trim()], v.stderr).to.deep.equal([0, pkg.version]);
  });

  it('the installed envctl validates a repository', async () => {
    const dir = join(work, 'repo');
    await git(work, 'init', '-q', '-b', 'main', dir);
    await commit(dir, {
      // A registry nothing answers on: nothing leaves loopback, offline or not.
      'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }', 'imageLayers: { "debian:bookworm": 1 }'),
      'environments/good.yaml': yaml('title: Good', 'owner: "@acme/team"', 'base: { image: "debian:bookworm" }', 'instructions: |', '  RUN apt-get update'),
    }, 'one environment');
    const ok = await execa(bin, ['validate', '--offline'], { cwd: dir, env: cleanEnv(), extendEnv: false, reject: false });
    expect(ok.exitCode, `${ok.stdout}\n${ok.stderr}`).to.equal(0);
    expect(ok.stderr).to.match(/1 environment/);
    // The schemas travel with the package: a schema error is found and located.
    await writeFile(join(dir, 'environments', 'bad.yaml'), yaml('title: Bad', 'owner: "@acme/team"', 'visibility: nope'));
    const bad = await execa(bin, ['validate', '--offline'], { cwd: dir, env: cleanEnv(), extendEnv: false, reject: false });
    expect(bad.exitCode, `${bad.stdout}\n${bad.stderr}`).to.equal(1);
    expect(`${bad.stdout}\n${bad.stderr}`).to.match(/environments\/bad\.yaml:3:\d+: error: .*\[schema-enum\]/);
  });
});
