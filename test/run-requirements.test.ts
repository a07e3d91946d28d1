/**
 * The requirements step on a Python marked externally managed (PEP 668):
 * the environment's `requirements:` choice (a virtual environment's pip, or
 * pip's --break-system-packages), inherited along the base chain, and a
 * clear refusal when neither is chosen. The lifecycle runs in a real sh;
 * pip and python3 are stand-ins that say how they were called, so no
 * network or Python is needed (test/run-debian.builder.test.ts runs the
 * real ones on a Debian image).
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lifecycleScript } from '../src/render/lifecycle.js';
import { renderRunSpec, type RunSpec } from '../src/render/runspec.js';
import { byRule, check, removeDir, tempDir, yaml } from './helpers.js';

function specOf(files: Record<string, string>, name = 'e'): RunSpec {
  const run = check(files);
  const all = new Map(run.environments.map((x) => [x.name, x]));
  const env = all.get(name)!;
  const base = env.spec.base;
  const chain = typeof base === 'object' && 'environment' in base ? [all.get(base.environment)!] : [];
  return renderRunSpec(env, chain, 'registry.example/envctl/e@sha256:' + 'a'.repeat(64), 1);
}
const env = (...lines: string[]) => yaml('owner: "@acme/p"', ...lines);

describe('requirements on an externally managed Python (PEP 668)', function () {
  this.timeout(30_000);
  let dir: string;
  let project: string;
  beforeEach(async () => {
    dir = await tempDir('envctl-requirements-');
    project = join(dir, 'project');
    await mkdir(join(dir, 'bin'));
    await mkdir(join(dir, 'venv', 'bin'), { recursive: true });
    await mkdir(project);
    await writeFile(join(project, 'requirements.txt'), 'pandas>=1.5\n');
    // The system's pip and the venv's each say which they are and how they were called.
    await writeFile(join(dir, 'bin', 'pip'), '#!/bin/sh\necho "system pip $*" >> log\n', { mode: 0o755 });
    await writeFile(join(dir, 'venv', 'bin', 'pip'), '#!/bin/sh\necho "venv pip $*" >> log\n', { mode: 0o755 });
    await writeFile(join(dir, 'venv', 'bin', 'python3'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  });
  afterEach(() => removeDir(dir));

  /** python3 says the system Python is externally managed (exit 0 from the check) or not. */
  const system = (managed: boolean) => writeFile(join(dir, 'bin', 'python3'), `#!/bin/sh\nexit ${managed ? 0 : 1}\n`, { mode: 0o755 });
  const run = (spec: RunSpec, command = ['sh', '-c', 'command -v python3 >> log']) =>
    execa('/bin/sh', ['-c', lifecycleScript(spec, { command, projectDir: project })], { reject: false, env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin` } });
  const log = () => readFile(join(project, 'log'), 'utf8');

  it('pip: break-system-packages installs with the system pip and pip\'s own override', async () => {
    await system(true);
    const result = await run(specOf({ 'environments/e.yaml': env('requirements: { pip: break-system-packages }') }));
    expect(result.exitCode).to.equal(0, result.stderr);
    expect(await log()).to.equal(`system pip install -r requirements.txt --break-system-packages\n${join(dir, 'bin', 'python3')}\n`);
  });

  it('venv: the virtual environment\'s pip installs, and its bin leads PATH for the command', async () => {
    await system(true);
    const venv = join(dir, 'venv');
    const result = await run(specOf({ 'environments/e.yaml': env(`requirements: { venv: ${venv} }`) }));
    expect(result.exitCode).to.equal(0, result.stderr);
    expect(await log()).to.equal(`venv pip install -r requirements.txt\n${join(venv, 'bin', 'python3')}\n`);
  });

  it('neither chosen on an externally managed Python: stops before the command with a message naming both choices', async () => {
    await system(true);
    const result = await run(specOf({ 'environments/e.yaml': env() }));
    expect(result.exitCode).to.equal(1);
    expect(result.stderr).to.contain('externally managed (PEP 668)');
    expect(result.stderr).to.contain('requirements: { venv: /opt/venv }');
    expect(result.stderr).to.contain('requirements: { pip: break-system-packages }');
    expect(await log().catch(() => 'no log')).to.equal('no log');
  });

  it('neither chosen on a Python not externally managed: the system pip as before', async () => {
    await system(false);
    const result = await run(specOf({ 'environments/e.yaml': env() }));
    expect(result.exitCode).to.equal(0, result.stderr);
    expect(await log()).to.equal(`system pip install -r requirements.txt\n${join(dir, 'bin', 'python3')}\n`);
  });

  it('an environment inherits its base\'s choice, and may make its own', async () => {
    const files = {
      'environments/base.yaml': env('requirements: { venv: /opt/venv }'),
      'environments/e.yaml': env('base: { environment: base }'),
      'environments/own.yaml': env('base: { environment: base }', 'requirements: { pip: break-system-packages }'),
    };
    const step = (name: string) => specOf(files, name).lifecycle.start.find((s) => s.step === 'requirements');
    expect(step('e')).to.deep.equal({ step: 'requirements', file: 'requirements.txt', venv: '/opt/venv' });
    expect(step('own')).to.deep.equal({ step: 'requirements', file: 'requirements.txt', pip: 'break-system-packages' });
    expect(step('base')).to.deep.equal({ step: 'requirements', file: 'requirements.txt', venv: '/opt/venv' });
  });

  it('the schema takes one of the two, and a venv only as a plain absolute path', () => {
    const bad = (value: string) => byRule(check({ 'environments/e.yaml': env(`requirements: ${value}`) }), 'schema-pattern').length
      + check({ 'environments/e.yaml': env(`requirements: ${value}`) }).problems.filter((p) => p.severity === 'error').length;
    expect(bad('{ venv: /opt/venv }')).to.equal(0);
    expect(bad('{ pip: break-system-packages }')).to.equal(0);
    expect(bad('{ venv: /opt/venv, pip: break-system-packages }')).to.be.greaterThan(0);
    expect(bad('{ venv: "opt/venv" }')).to.be.greaterThan(0);
    expect(bad('{ venv: "/opt/$(id)" }')).to.be.greaterThan(0);
    expect(bad('{ pip: user }')).to.be.greaterThan(0);
    expect(bad('{}')).to.be.greaterThan(0);
  });
});
