/**
 * The real CLI as a child process: exit codes, problem lines, JSON, GitHub
 * annotations, hostile input and render output, against temporary repositories.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, main } from '../src/cli/main.js';
import { UsageError, type Command } from '../src/cli/command.js';
import { EnvctlError, externalError, inputError, notFound } from '../src/model/errors.js';
import { ShallowHistoryError } from '../src/git/history.js';
import { removeDir, tempDir, writeTree, yaml } from './helpers.js';

/** The repository this test was compiled from (dist/test/ → two levels up). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const BIN = join(ROOT, 'bin', 'envctl.js');

/**
 * A registry address nothing answers on (even without --offline nothing
 * leaves loopback), and the layer count of the image the fixtures build on,
 * so a clean repository has no layer-count-unknown warning offline.
 */
const CONFIG = yaml('registry: { address: "127.0.0.1:1" }', 'imageLayers: { "debian:bookworm": 1 }');

interface Result {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

async function envctl(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Result> {
  const r = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    cwd: opts.cwd,
    env: { ENVCTL_OFFLINE: '1', GITHUB_ACTIONS: 'false', ENVCTL_DEBUG: '', ...opts.env },
    timeout: 15_000,
  });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const PROBLEM_LINE = /^(\S+):(\d+):(\d+): (error|warning): (.+) \[([a-z0-9-]+)\]$/;

interface Line {
  file: string;
  line: number;
  col: number;
  severity: string;
  message: string;
  rule: string;
}

/** Every stdout line must be a problem line; returns them parsed. */
function problemLines(stdout: string): Line[] {
  const lines = stdout.split('\n').filter((l) => l !== '');
  return lines.map((l) => {
    const m = PROBLEM_LINE.exec(l);
    expect(m, `not a problem line: ${l}`).to.not.equal(null);
    return { file: m![1]!, line: Number(m![2]), col: Number(m![3]), severity: m![4]!, message: m![5]!, rule: m![6]! };
  });
}

function noStackTrace(r: Result): void {
  expect(r.stderr.split('\n').filter((l) => /^ {4}at /.test(l)), `stack trace on stderr:\n${r.stderr}`).to.deep.equal([]);
  expect(r.stdout).to.not.match(/^ {4}at /m);
}

const GOOD = yaml(
  'title: Good',
  'owner: "@acme/team"',
  'base: { image: "debian:bookworm" }',
  'instructions: |',
  '  RUN apt-get update',
  'variables:',
  '  FOO: "1"',
);

describe('cli: envctl as a child process', function () {
  this.timeout(60_000);
  const dirs: string[] = [];

  async function repo(files: Record<string, string>): Promise<string> {
    const dir = await tempDir('envctl-cli-');
    dirs.push(dir);
    await writeTree(dir, { 'envctl.yaml': CONFIG, ...files });
    return dir;
  }

  after(async () => {
    for (const d of dirs) await removeDir(d);
  });

  describe('usage', () => {
    let dir: string;
    before(async () => {
      dir = await repo({ 'environments/good.yaml': GOOD });
    });

    it('--help exits 0 and lists validate and render', async () => {
      const r = await envctl(['--help'], { cwd: dir });
      expect(r.exitCode).to.equal(0);
      expect(r.stdout).to.match(/^\s+validate\s/m).and.match(/^\s+render\s/m);
    });

    it('no arguments prints help and exits 2', async () => {
      const r = await envctl([], { cwd: dir });
      expect(r.exitCode).to.equal(2);
      expect(r.stdout).to.contain('Usage: envctl');
    });

    it('an unknown command exits 2 and names it', async () => {
      const r = await envctl(['frobnicate'], { cwd: dir });
      expect(r.exitCode).to.equal(2);
      expect(r.stderr).to.contain('unknown command "frobnicate"');
    });

    it('an unknown flag exits 2 with the command usage on stderr', async () => {
      const r = await envctl(['validate', '--no-such-flag'], { cwd: dir });
      expect(r.exitCode).to.equal(2);
      expect(r.stderr).to.contain('--no-such-flag').and.contain('envctl validate [paths…]');
      const rr = await envctl(['render', '--bogus', 'good'], { cwd: dir });
      expect(rr.exitCode).to.equal(2);
      expect(rr.stderr).to.contain('envctl render [names…]');
      noStackTrace(r);
      noStackTrace(rr);
    });

    it('a command --help exits 0 with its usage', async () => {
      const r = await envctl(['validate', '--help'], { cwd: dir });
      expect(r.exitCode).to.equal(0);
      expect(r.stdout).to.contain('envctl validate [paths…]');
    });

    it('validate of an environment that does not exist exits 2', async () => {
      const r = await envctl(['validate', 'nosuchenv'], { cwd: dir });
      expect(r.exitCode).to.equal(2);
      expect(r.stderr).to.contain('no environment named or at "nosuchenv"');
      noStackTrace(r);
    });
  });

  describe('validate', () => {
    it('exits 0 on a clean repository and prints no problem lines', async () => {
      const dir = await repo({ 'environments/good.yaml': GOOD });
      const r = await envctl(['validate'], { cwd: dir });
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.contain('0 errors, 0 warnings in 1 environment');
    });

    it('works from another folder with -C', async () => {
      const dir = await repo({ 'environments/good.yaml': GOOD });
      const r = await envctl(['validate', '-C', dir], { cwd: ROOT });
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(r.stderr).to.contain('in 1 environment');
    });

    it('exits 1 with `path:line:col: error: message [rule]` at the right place', async () => {
      const dir = await repo({
        'environments/good.yaml': GOOD,
        'environments/bad.yaml': yaml('owner: "@acme/team"', 'title: Bad', 'visibility: nope'),
      });
      const r = await envctl(['validate'], { cwd: dir });
      expect(r.exitCode).to.equal(1);
      const lines = problemLines(r.stdout);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({ file: 'environments/bad.yaml', line: 3, col: 13, severity: 'error', rule: 'schema-enum' });
      expect(r.stdout.trim()).to.equal(
        'environments/bad.yaml:3:13: error: visibility must be one of "private", "organization", "global"; got "nope" [schema-enum]',
      );
      expect(r.stderr).to.contain('1 error, 0 warnings in 2 environments');
    });

    it('locates errors inside the instructions block on their own YAML line and column', async () => {
      const dir = await repo({
        'environments/inst/environment.yaml': yaml(
          'owner: "@acme/team"',
          'base: { image: "debian:bookworm" }',
          'instructions: |',
          '  RUN true',
          '  FROM debian:bookworm',
          '  COPY missing.txt /x',
        ),
        'environments/inst/present.txt': 'x\n',
      });
      const r = await envctl(['validate'], { cwd: dir });
      expect(r.exitCode).to.equal(1);
      const lines = problemLines(r.stdout);
      expect(lines.map((l) => [l.file, l.line, l.col, l.rule])).to.deep.equal([
        ['environments/inst/environment.yaml', 5, 3, 'instructions-from'],
        ['environments/inst/environment.yaml', 6, 3, 'copy-missing'],
      ]);
    });

    it('reports several problems in several files in one run, sorted', async () => {
      const dir = await repo({
        'environments/a.yaml': yaml('owner: 5', 'visibility: nope'),
        'environments/b.yaml': yaml('owner: "@acme/team"', 'base:', '  environment: nosuch'),
        'environments/c.yaml': yaml('owner: "@acme/team"', 'title: x: y'),
        'environments/good.yaml': GOOD,
      });
      const r = await envctl(['validate'], { cwd: dir });
      expect(r.exitCode).to.equal(1);
      // Errors only: b.yaml also draws a layer-count-unknown warning for its missing base.
      const lines = problemLines(r.stdout).filter((l) => l.severity === 'error');
      expect(lines.map((l) => [l.file, l.line, l.col, l.rule])).to.deep.equal([
        ['environments/a.yaml', 1, 8, 'schema-type'],
        ['environments/a.yaml', 2, 13, 'schema-enum'],
        ['environments/b.yaml', 3, 16, 'base-unknown'],
        ['environments/c.yaml', 2, 9, 'yaml-syntax'],
      ]);
      expect(r.stderr).to.match(/^4 errors, \d+ warnings? in 4 environments$/m);
    });

    it('validates only the environments named, by name or path', async () => {
      const dir = await repo({
        'environments/bad.yaml': yaml('owner: 5'),
        'environments/good.yaml': GOOD,
      });
      expect((await envctl(['validate', 'good'], { cwd: dir })).exitCode).to.equal(0);
      expect((await envctl(['validate', 'environments/good.yaml'], { cwd: dir })).exitCode).to.equal(0);
      const r = await envctl(['validate', 'environments/bad.yaml'], { cwd: dir });
      expect(r.exitCode).to.equal(1);
      expect(problemLines(r.stdout).map((l) => l.file)).to.deep.equal(['environments/bad.yaml']);
    });

    it('--json prints the problems array', async () => {
      const dir = await repo({
        'environments/a.yaml': yaml('owner: 5'),
        'environments/good.yaml': GOOD,
      });
      const r = await envctl(['validate', '--json'], { cwd: dir });
      expect(r.exitCode).to.equal(1);
      const out = JSON.parse(r.stdout) as { environments: number; errors: number; problems: Record<string, unknown>[] };
      expect(out.environments).to.equal(2);
      expect(out.errors).to.equal(1);
      expect(out.problems).to.have.length(1);
      expect(out.problems[0]).to.have.all.keys('file', 'line', 'col', 'severity', 'rule', 'message');
      expect(out.problems[0]).to.include({ file: 'environments/a.yaml', line: 1, col: 8, severity: 'error', rule: 'schema-type' });
      expect(out.problems[0]!.message).to.be.a('string').and.contain('owner');

      const clean = await repo({ 'environments/good.yaml': GOOD });
      const c = await envctl(['validate', '--json'], { cwd: clean });
      expect(c.exitCode).to.equal(0);
      expect(JSON.parse(c.stdout)).to.deep.equal({ environments: 1, errors: 0, problems: [] });
    });

    it('with GITHUB_ACTIONS=true also prints ::error annotations titled by rule', async () => {
      const dir = await repo({
        'environments/a.yaml': yaml('owner: 5'),
        'environments/b.yaml': yaml('owner: "@acme/team"', 'visibility: nope'),
      });
      const r = await envctl(['validate'], { cwd: dir, env: { GITHUB_ACTIONS: 'true' } });
      expect(r.exitCode).to.equal(1);
      const out = r.stdout.split('\n');
      const annotations = out.filter((l) => l.startsWith('::'));
      expect(annotations).to.have.length(2);
      const parse = (l: string) => {
        const m = /^::error (.*?)::(.*)$/.exec(l);
        expect(m, l).to.not.equal(null);
        return { props: Object.fromEntries(m![1]!.split(',').map((kv) => kv.split('=') as [string, string])), message: m![2]! };
      };
      const [a, b] = annotations.map(parse);
      expect(a!.props).to.deep.equal({ title: 'schema-type', file: 'environments/a.yaml', line: '1', col: '8' });
      expect(a!.message).to.contain('owner');
      expect(b!.props).to.deep.equal({ title: 'schema-enum', file: 'environments/b.yaml', line: '2', col: '13' });
      // The plain lines are still there.
      expect(problemLines(out.filter((l) => !l.startsWith('::')).join('\n'))).to.have.length(2);
    });

    it('prints no annotations without GITHUB_ACTIONS', async () => {
      const dir = await repo({ 'environments/a.yaml': yaml('owner: 5') });
      const r = await envctl(['validate'], { cwd: dir });
      expect(r.stdout).to.not.contain('::error');
    });
  });

  describe('validate of named environments', () => {
    it('also shows envctl.yaml problems and the problems of their bases', async () => {
      const dir = await repo({
        'envctl.yaml': `${CONFIG}registery: {}\n`,
        'environments/base.yaml': yaml('owner: "@acme/team"', 'visibility: nope'),
        'environments/child.yaml': yaml('owner: "@acme/team"', 'base: { environment: base }'),
        'environments/other.yaml': yaml('owner: "@acme/team"', 'titel: x'),
      });
      const r = await envctl(['validate', 'child'], { cwd: dir });
      expect(r.exitCode).to.equal(1);
      expect(problemLines(r.stdout).map((l) => [l.file, l.rule])).to.deep.equal([
        ['envctl.yaml', 'schema-unknown-field'],
        ['environments/base.yaml', 'schema-enum'],
      ]);
    });

    it('a folder that does not exist is a usage error', async () => {
      const r = await envctl(['validate', '-C', '/nonexistent/envctl'], { cwd: ROOT });
      expect(r.exitCode).to.equal(2);
      expect(r.stderr).to.contain('no folder /nonexistent/envctl');
    });
  });

  describe('bad input: located errors, exit 1, no stack trace', () => {
    async function expectLocated(files: Record<string, string>, file: string, rule: string, at?: [number, number]) {
      const dir = await repo(files);
      return expectLocatedIn(dir, file, rule, at);
    }

    async function expectLocatedIn(dir: string, file: string, rule: string, at?: [number, number]) {
      const started = Date.now();
      const r = await envctl(['validate'], { cwd: dir });
      noStackTrace(r);
      expect(r.exitCode, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).to.equal(1);
      const lines = problemLines(r.stdout);
      const hit = lines.find((l) => l.file === file && l.rule === rule);
      expect(hit, `no ${rule} on ${file} in:\n${r.stdout}`).to.not.equal(undefined);
      expect(hit!.severity).to.equal('error');
      if (at) expect([hit!.line, hit!.col]).to.deep.equal(at);
      else expect(hit!.line).to.be.at.least(1);
      expect(Date.now() - started).to.be.below(15_000);
      return lines;
    }

    it('malformed YAML', async () => {
      await expectLocated({ 'environments/m.yaml': yaml('owner: "@acme/team"', 'title: x: y') }, 'environments/m.yaml', 'yaml-syntax', [2, 9]);
      await expectLocated({ 'environments/t.yaml': 'owner: a\n\ttitle: x\n' }, 'environments/t.yaml', 'yaml-syntax', [2, 1]);
    });

    it('a YAML alias bomb (billion laughs, 9 levels)', async () => {
      const levels = 'abcdefghi'.split('');
      const lines = ['owner: "@acme/team"', 'lol:', `  ${levels[0]}: &${levels[0]} ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`];
      for (let i = 1; i < levels.length; i++) {
        const prev = levels[i - 1]!;
        lines.push(`  ${levels[i]}: &${levels[i]} [${Array(9).fill(`*${prev}`).join(',')}]`);
      }
      const lines2 = await expectLocated({ 'environments/bomb.yaml': yaml(...lines) }, 'environments/bomb.yaml', 'yaml-alias-bomb');
      expect(lines2.filter((l) => l.file === 'environments/bomb.yaml')).to.have.length(1);
    });

    it('bytes that are not UTF-8', async () => {
      const dir = await repo({});
      await mkdir(join(dir, 'environments'), { recursive: true });
      const bytes = Buffer.concat([Buffer.from('owner: "@acme/team"\ntitle: caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
      await writeFile(join(dir, 'environments', 'latin1.yaml'), bytes);
      const lines = await expectLocatedIn(dir, 'environments/latin1.yaml', 'encoding', [2, 11]);
      expect(lines[0]!.message).to.contain('0xe9');
    });

    it('a 2 MiB file', async () => {
      const big = `owner: "@acme/team"\ndescription: "${'a'.repeat(2 * 1024 * 1024)}"\n`;
      const lines = await expectLocated({ 'environments/big.yaml': big }, 'environments/big.yaml', 'file-too-large', [1, 1]);
      expect(lines[0]!.message).to.contain(String(Buffer.byteLength(big)));
    });

    it('a symlink from environments/ to /etc/passwd is refused, never read', async () => {
      const dir = await repo({ 'environments/good.yaml': GOOD });
      await symlink('/etc/passwd', join(dir, 'environments', 'passwd.yaml'));
      await mkdir(join(dir, 'environments', 'folder'));
      await writeFile(join(dir, 'environments', 'folder', 'environment.yaml'), GOOD);
      await symlink('/etc/passwd', join(dir, 'environments', 'folder', 'secret.txt'));
      const lines = await expectLocatedIn(dir, 'environments/passwd.yaml', 'symlink-escape', [1, 1]);
      expect(lines.find((l) => l.file === 'environments/folder/secret.txt')?.rule).to.equal('symlink-escape');
      const r = await envctl(['validate', '--json'], { cwd: dir });
      expect(r.stdout).to.not.contain('root:x:0:0');
    });

    it('wrong types', async () => {
      const lines = await expectLocated({
        'environments/types.yaml': yaml('owner: 5', 'variables: [1]', 'archived: "yes"'),
      }, 'environments/types.yaml', 'schema-type', [1, 8]);
      expect(lines.map((l) => [l.line, l.col, l.rule])).to.deep.equal([
        [1, 8, 'schema-type'],
        [2, 12, 'schema-type'],
        [3, 11, 'schema-type'],
      ]);
    });

    it('a top-level list or scalar instead of a mapping', async () => {
      await expectLocated({ 'environments/list.yaml': yaml('- owner: a') }, 'environments/list.yaml', 'schema-type');
      await expectLocated({ 'environments/scalar.yaml': yaml('just text') }, 'environments/scalar.yaml', 'schema-type');
    });

    it('a broken envctl.yaml', async () => {
      const dir = await repo({ 'environments/good.yaml': GOOD });
      await writeFile(join(dir, 'envctl.yaml'), yaml('registry: { address: "127.0.0.1:1" }', 'layers: { limit: "many" }'));
      await expectLocatedIn(dir, 'envctl.yaml', 'schema-type', [2, 18]);
    });
  });

  describe('render', () => {
    const TOOL = yaml(
      'title: Tool',
      'owner: "@acme/team"',
      'base: { image: "debian:bookworm" }',
      'instructions: |',
      '  COPY bin/ /opt/bin/',
      '  COPY notes.txt /opt/notes.txt',
      '  RUN /opt/bin/run',
      'variables:',
      '  GREETING: hello',
    );

    async function toolRepo(extra: Record<string, string> = {}): Promise<string> {
      const dir = await repo({
        'environments/tool/environment.yaml': TOOL,
        'environments/tool/bin/run': '#!/bin/sh\necho hi\n',
        'environments/tool/notes.txt': 'notes\n',
        ...extra,
      });
      await chmod(join(dir, 'environments/tool/bin/run'), 0o755);
      return dir;
    }

    it('prints the Dockerfile of one environment', async () => {
      const dir = await toolRepo();
      const r = await envctl(['render', 'tool'], { cwd: dir });
      expect(r.exitCode, r.stderr).to.equal(0);
      const lines = r.stdout.split('\n');
      expect(lines[0]).to.match(/^# Rendered by envctl from environments\/tool\/environment\.yaml\b/);
      expect(lines[1]).to.equal('FROM debian:bookworm');
      expect(r.stdout).to.contain('ENV GREETING="hello"').and.contain('COPY bin/ /opt/bin/').and.contain('RUN /opt/bin/run');
    });

    it('--key and --run-spec print the content key and run spec', async () => {
      const dir = await toolRepo();
      const key = await envctl(['render', 'tool', '--key'], { cwd: dir });
      expect(key.stdout.trim()).to.match(/^sha256:[0-9a-f]{64}$/);
      const spec = await envctl(['render', 'tool', '--run-spec'], { cwd: dir });
      expect(JSON.parse(spec.stdout)).to.include({ environment: 'tool' });
    });

    it('render with neither one name nor --out is a usage error', async () => {
      const dir = await toolRepo();
      expect((await envctl(['render'], { cwd: dir })).exitCode).to.equal(2);
    });

    it('--out DIR writes Dockerfile, run-spec.json, content-key and context/ with the executable bit', async () => {
      const dir = await toolRepo();
      const r = await envctl(['render', '--out', 'out', 'tool'], { cwd: dir });
      expect(r.exitCode, r.stderr).to.equal(0);
      const target = join(dir, 'out', 'tool');
      expect(r.stdout).to.match(new RegExp(`^tool\\tsha256:[0-9a-f]{64}\\t${target}$`));
      expect((await readdir(target)).sort()).to.deep.equal(['Dockerfile', 'content-key', 'context', 'run-spec.json']);

      const dockerfile = await readFile(join(target, 'Dockerfile'), 'utf8');
      expect(dockerfile).to.match(/^# Rendered by envctl/).and.contain('\nFROM debian:bookworm\n');
      const printed = await envctl(['render', 'tool'], { cwd: dir });
      expect(dockerfile).to.equal(`${printed.stdout}\n`);

      const runSpec = JSON.parse(await readFile(join(target, 'run-spec.json'), 'utf8')) as { environment: string; variables: unknown[] };
      expect(runSpec.environment).to.equal('tool');
      expect(runSpec.variables).to.deep.equal([{ name: 'GREETING', value: 'hello' }]);

      const key = await readFile(join(target, 'content-key'), 'utf8');
      expect(key).to.match(/^sha256:[0-9a-f]{64}\n$/);
      expect(r.stdout).to.contain(key.trim());

      const run = join(target, 'context', 'bin', 'run');
      expect(await readFile(run, 'utf8')).to.equal('#!/bin/sh\necho hi\n');
      expect((await stat(run)).mode & 0o111, 'bin/run keeps its executable bit').to.not.equal(0);
      const notes = join(target, 'context', 'notes.txt');
      expect(await readFile(notes, 'utf8')).to.equal('notes\n');
      expect((await stat(notes)).mode & 0o111, 'notes.txt stays non-executable').to.equal(0);
      expect(await readdir(join(target, 'context'))).to.not.include('environment.yaml');
    });

    it('--out without names renders every environment', async () => {
      const dir = await toolRepo({ 'environments/good.yaml': GOOD });
      const r = await envctl(['render', '--out', join(dir, 'all')], { cwd: dir });
      expect(r.exitCode, r.stderr).to.equal(0);
      expect((await readdir(join(dir, 'all'))).sort()).to.deep.equal(['good', 'tool']);
    });

    it('an environment with errors exits 1 and writes nothing', async () => {
      const dir = await toolRepo({ 'environments/bad.yaml': yaml('owner: "@acme/team"', 'visibility: nope') });
      const r = await envctl(['render', '--out', 'out', 'bad'], { cwd: dir });
      expect(r.exitCode).to.equal(1);
      noStackTrace(r);
      expect(problemLines(r.stdout).map((l) => [l.file, l.line, l.col, l.rule])).to.deep.equal([['environments/bad.yaml', 2, 13, 'schema-enum']]);
      expect(r.stderr).to.contain('not rendered');
      expect(await readdir(dir)).to.not.include('out');

      const printed = await envctl(['render', 'bad'], { cwd: dir });
      expect(printed.exitCode).to.equal(1);
      expect(printed.stdout).to.not.contain('FROM');

      // Rendering everything writes what is valid and refuses the rest.
      const all = await envctl(['render', '--out', 'out'], { cwd: dir });
      expect(all.exitCode).to.equal(1);
      expect(all.stderr).to.contain('not rendered: bad');
      expect(await readdir(join(dir, 'out'))).to.deep.equal(['tool']);
    });

    it('an environment whose instructions have errors is not rendered', async () => {
      const dir = await repo({
        'environments/from.yaml': yaml('owner: "@acme/team"', 'base: { image: "debian:bookworm" }', 'instructions: |', '  FROM ubuntu'),
      });
      const r = await envctl(['render', '--out', 'out', 'from'], { cwd: dir });
      expect(r.exitCode).to.equal(1);
      expect(problemLines(r.stdout).map((l) => l.rule)).to.deep.equal(['instructions-from']);
      expect(await readdir(dir)).to.not.include('out');
    });

    it('an environment whose base has schema errors is not rendered, and its folder is world-readable when rendered', async () => {
      const dir = await repo({
        'environments/bad.yaml': yaml('owner: "@acme/team"', 'visibility: nope'),
        'environments/child.yaml': yaml('owner: "@acme/team"', 'base: { environment: bad }'),
        'environments/fine.yaml': yaml('owner: "@acme/team"'),
      });
      const r = await envctl(['render', '--out', 'out', 'child'], { cwd: dir });
      expect(r.exitCode).to.equal(1);
      expect(problemLines(r.stdout).map((l) => [l.file, l.rule])).to.deep.equal([['environments/bad.yaml', 'schema-enum']]);
      expect(await readdir(dir)).to.not.include('out');
      const ok = await envctl(['render', '--out', 'out', 'fine'], { cwd: dir });
      expect(ok.exitCode, ok.stderr).to.equal(0);
      expect((await stat(join(dir, 'out', 'fine'))).mode & 0o777).to.equal(0o755);
    });

    it('re-running render --out replaces the folder: a stale file disappears', async () => {
      const dir = await toolRepo();
      const out = join(dir, 'rendered');
      expect((await envctl(['render', '--out', out, 'tool'], { cwd: dir })).exitCode).to.equal(0);
      const stale = join(out, 'tool', 'stale.txt');
      await writeFile(stale, 'left over\n');
      await writeFile(join(out, 'tool', 'context', 'old-context-file'), 'old\n');
      await writeFile(join(out, 'keep-me.txt'), 'not envctl\'s\n');
      const firstKey = await readFile(join(out, 'tool', 'content-key'), 'utf8');

      const r = await envctl(['render', '--out', out, 'tool'], { cwd: dir });
      expect(r.exitCode, r.stderr).to.equal(0);
      expect((await readdir(join(out, 'tool'))).sort()).to.deep.equal(['Dockerfile', 'content-key', 'context', 'run-spec.json']);
      expect((await readdir(join(out, 'tool', 'context'))).sort()).to.deep.equal(['bin', 'notes.txt']);
      expect(await readFile(join(out, 'tool', 'content-key'), 'utf8')).to.equal(firstKey);
      // Only DIR/<name>/ is replaced; nothing else in DIR is touched, and no temporary folders stay.
      expect((await readdir(out)).sort()).to.deep.equal(['keep-me.txt', 'tool']);
    });
  });

  describe('error kinds and exit codes', () => {
    it('external: a registry that cannot be reached exits 1 naming it, and envctl base makes nothing', async () => {
      const dir = await repo({ 'environments/good.yaml': GOOD });
      const r = await envctl(['base'], { cwd: dir });
      expect(r.exitCode, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/^envctl base: registry 127\.0\.0\.1:1: not reachable: \S/m);
      expect(r.stderr).to.not.contain('debootstrap').and.not.contain('Usage').and.not.contain('bug in envctl');
      expect(r.stdout).to.equal('');
      // Nothing was started towards a new base: no work folder for it.
      expect(await readdir(dir)).to.not.include('.envctl');
      noStackTrace(r);
    });

    it('input: a config file that is a folder exits 2 saying so, not as a bug', async () => {
      const dir = await repo({ 'environments/good.yaml': GOOD, 'other-config/keep': '' });
      const r = await envctl(['validate'], { cwd: dir, env: { ENVCTL_CONFIG: 'other-config' } });
      expect(r.exitCode).to.equal(2);
      expect(r.stderr).to.contain('envctl validate: cannot read the config file other-config (EISDIR)').and.not.contain('bug in envctl');
      noStackTrace(r);
    });

    it('external: GitHub trouble exits 1 naming GitHub, with the hint on the next line', async () => {
      const dir = await repo({ 'environments/good.yaml': GOOD, 'plan.md': '# plan\n' });
      const r = await envctl(['comment', 'plan.md', '--pr', '3'], { cwd: dir, env: { GITHUB_TOKEN: '', GITHUB_REPOSITORY: 'acme/envs' } });
      expect(r.exitCode).to.equal(1);
      const lines = r.stderr.split('\n');
      expect(lines[0]).to.equal('envctl comment: GitHub: no GitHub token: set GITHUB_TOKEN or pass a token');
      expect(lines[1]).to.match(/^ {2}in a workflow step add `env: \{ GITHUB_TOKEN/);
      expect(r.stderr).to.not.contain('Usage').and.not.contain('bug in envctl');
      noStackTrace(r);
    });
  });

  describe('the real repository', () => {
    it('validate --offline exits 0', async () => {
      const r = await envctl(['validate', '--offline'], { cwd: ROOT });
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).to.equal(0);
      noStackTrace(r);
      for (const l of problemLines(r.stdout)) expect(l.severity).to.equal('warning');
    });

    it('renders every shipped environment to a temporary folder', async () => {
      const out = await tempDir('envctl-cli-out-');
      dirs.push(out);
      const r = await envctl(['render', '--offline', '--out', out], { cwd: ROOT });
      expect(r.exitCode, r.stderr).to.equal(0);
      const names = (await readdir(join(ROOT, 'environments'))).map((n) => n.replace(/\.yaml$/, '')).sort();
      expect((await readdir(out)).sort()).to.deep.equal(names);
      for (const n of names) expect(await readFile(join(out, n, 'Dockerfile'), 'utf8')).to.match(/^# Rendered by envctl[^\n]*\nFROM \S+\n/);
    });
  });
});

describe('cli: error kinds to exit codes (main, in process)', () => {
  /** Runs `envctl probe` whose run throws `err`; the command is registered only for the call. */
  async function failing(err: unknown, env: Record<string, string> = {}): Promise<{ code: number; out: string[]; err: string[] }> {
    const probe: Command = { name: 'probe', summary: 'throws', usage: 'envctl probe (usage text)', options: {}, run: () => Promise.reject(err) };
    COMMANDS.push(probe);
    const out: string[] = [];
    const errs: string[] = [];
    try {
      const code = await main(['probe'], { out: (t) => out.push(t), err: (t) => errs.push(t), cwd: '/', env });
      return { code, out, err: errs.join('\n').split('\n') };
    } finally {
      COMMANDS.splice(COMMANDS.indexOf(probe), 1);
    }
  }

  it('input and not-found exit 2 with the usage; data.option is said as its flag', async () => {
    const input = await failing(inputError('owner-invalid', '"x y" is not an owner', { data: { option: 'owner' } }));
    expect(input.code).to.equal(2);
    expect(input.err).to.deep.equal(['envctl probe: --owner: "x y" is not an owner', '', 'envctl probe (usage text)']);
    const missing = await failing(notFound('ref-unknown', 'no such branch, tag or commit nope', { data: { option: 'against' }, hint: 'git fetch origin nope' }));
    expect(missing.code).to.equal(2);
    expect(missing.err).to.deep.equal(['envctl probe: --against: no such branch, tag or commit nope', '  git fetch origin nope', '', 'envctl probe (usage text)']);
    const given = await failing(notFound('ref-unknown', 'no such branch, tag or commit', { data: { option: 'against', value: 'nope' } }));
    expect(given.err[0]).to.equal('envctl probe: --against nope: no such branch, tag or commit');
    const usage = await failing(new UsageError('name one environment'));
    expect(usage.code).to.equal(2);
    expect(usage.err[0]).to.equal('envctl probe: name one environment');
  });

  it('input about the clone, not the command line, exits 1 with its hint and no usage', async () => {
    const r = await failing(new ShallowHistoryError());
    expect(r.code).to.equal(1);
    expect(r.err).to.deep.equal(['envctl probe: this clone is shallow, so revision numbers would be wrong: fetch the full history', '  git fetch --unshallow, or fetch-depth: 0 in actions/checkout']);
  });

  it('external exits 1 naming the host, the hint on the next line, no usage', async () => {
    const r = await failing(externalError('registry 127.0.0.1:5000', 'registry-unreachable', 'not reachable: ECONNREFUSED', { hint: 'start the registry' }));
    expect(r.code).to.equal(1);
    expect(r.err).to.deep.equal(['envctl probe: registry 127.0.0.1:5000: not reachable: ECONNREFUSED', '  start the registry']);
  });

  it('anything else is internal: exit 1, the message and a request to report it; the stack only with ENVCTL_DEBUG=1', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'digest')");
    const r = await failing(bug);
    expect(r.code).to.equal(1);
    expect(r.err[0]).to.equal("envctl probe: Cannot read properties of undefined (reading 'digest')");
    expect(r.err[1]).to.match(/this is a bug in envctl; please report it/);
    expect(r.err.some((l) => /^ {4}at /.test(l))).to.equal(false);
    expect(r.err.join('\n')).to.not.contain('envctl probe (usage text)');
    const debug = await failing(bug, { ENVCTL_DEBUG: '1' });
    expect(debug.code).to.equal(1);
    expect(debug.err.some((l) => /^ {4}at /.test(l))).to.equal(true);
    // An EnvctlError of kind internal is a bug too; so is a thrown non-Error.
    const internal = await failing(new EnvctlError('internal', 'yaml-edit-mismatch', 'could not edit x in place'));
    expect([internal.code, internal.err[1]]).to.deep.equal([1, '  this is a bug in envctl; please report it (ENVCTL_DEBUG=1 shows where it happened)']);
    const odd = await failing('a string');
    expect([odd.code, odd.err[0]]).to.deep.equal([1, 'envctl probe: a string']);
  });
});
