/**
 * What envctl prints, against hostile values: commit subjects and authors,
 * YAML keys and values, file names, owners, arguments. Nothing printed may
 * reach a terminal as a control character or be read by the GitHub Actions
 * runner as a workflow command; envctl's own annotations are the only
 * commands, each well formed. The runner is modelled in `runnerCommand` after
 * actions/runner's ActionCommand.TryParseV2 and TryParse (cited in
 * src/model/text.ts).
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progressFor, progressLine } from '../src/cli/progress.js';
import { guardLine, outputText, printable } from '../src/model/text.js';
import type { SyncEvent } from '../src/sync/index.js';
import { removeDir, tempDir, yaml } from './helpers.js';
import { runEnvctl } from './fixtures/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const BIN = join(ROOT, 'bin', 'envctl.js');
const CONFIG = yaml('registry: { address: "127.0.0.1:1" }', 'imageLayers: { "debian:bookworm": 1 }');

/** Everything a terminal or log viewer could act on, but newline and tab (which outputText keeps). */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * The command the runner would read from one line, or undefined. V2: after
 * trimming leading white space the line starts with `::` and has a second
 * `::`; V1: `##[` anywhere with a `]` after it. Every name counts (the runner
 * takes only registered ones, and `stop-commands` registers any token).
 * Azure's `##vso[` is held to the same.
 */
function runnerCommand(line: string): { name: string; props: string; data: string } | undefined {
  const trimmed = line.replace(/^\s+/, '');
  if (trimmed.startsWith('::')) {
    const end = trimmed.indexOf('::', 2);
    if (end >= 0) {
      const info = trimmed.slice(2, end);
      const space = info.indexOf(' ');
      return { name: space < 0 ? info : info.slice(0, space), props: space < 0 ? '' : info.slice(space + 1), data: trimmed.slice(end + 2) };
    }
  }
  for (const prefix of ['##[', '##vso[']) {
    const at = line.indexOf(prefix);
    if (at >= 0 && line.indexOf(']', at) >= 0) return { name: line.slice(at + prefix.length, line.indexOf(']', at)), props: '', data: '' };
  }
  return undefined;
}

/** Lines as the runner splits a stream (StreamReader.ReadLine: `\r\n`, `\r` or `\n`). */
const runnerLines = (text: string) => text.split(/\r\n|\r|\n/);

/** No raw control character, no `##[`, no line a runner reads as a command. */
function expectSafe(text: string, what: string): void {
  expect(RAW_CONTROL.exec(text), `${what}: raw control character in ${JSON.stringify(text)}`).to.equal(null);
  expect(text, what).to.not.contain('##[');
  for (const line of runnerLines(text)) expect(runnerCommand(line), `${what}: a workflow command: ${JSON.stringify(line)}`).to.equal(undefined);
}

/** The runner's property and data unescaping (ActionCommand.UnescapeProperty, UnescapeData). */
const unescapeProperty = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
const unescapeData = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

const HOSTILE = ['::add-mask::x', '\n::error::pwned', '##[set-output name=x]', '\x1b]0;title\x07', 'a\rb', '\u202eevil', '  ::stop-commands::t'];

describe('text: printable values and guarded lines', () => {
  it('printable shows control characters, separators and bidi controls as JSON escapes and leaves text alone', () => {
    expect(printable('a\nb\rc\td')).to.equal('a\\nb\\rc\\td');
    expect(printable('\x1b]0;title\x07')).to.equal('\\u001b]0;title\\u0007');
    expect(printable('\x00\x7f\x85\x9f')).to.equal('\\u0000\\u007f\\u0085\\u009f');
    expect(printable('\u2028\u2029')).to.equal('\\u2028\\u2029');
    expect(printable('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069')).to.equal('\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069');
    expect(printable('\ud800x\udc00')).to.equal('\\ud800x\\udc00');
    const plain = 'Grüße, 日本語, 😀, C:\\path, "quoted", ::not-first';
    expect(printable(plain)).to.equal(plain);
    expect(printable(42)).to.equal('42');
  });

  it('every code point: printable leaves nothing raw, decodes as JSON to the same character, and is stable', () => {
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      const shown = printable(ch);
      expect(RAW_CONTROL.test(shown) || /[\n\t]/.test(shown), `U+${c.toString(16)}`).to.equal(false);
      expect(printable(shown)).to.equal(shown);
      if (ch !== '"' && ch !== '\\') expect(JSON.parse(`"${shown}"`), `U+${c.toString(16)}`).to.equal(ch);
    }
  });

  it('guardLine breaks a leading :: after any white space and ##[ anywhere, visibly and stably', () => {
    const cases: [string, string][] = [
      ['::error::pwned', '\\u003a:error::pwned'],
      ['  \t::add-mask::x', '  \t\\u003a:add-mask::x'],
      ['\u3000\u00a0::set-env name=A::1', '\u3000\u00a0\\u003a:set-env name=A::1'],
      ['::::', '\\u003a:::'],
      ['text ##[set-output name=x]v', 'text ##\\u005bset-output name=x]v'],
      ['###[a] ##[b]', '###\\u005ba] ##\\u005bb]'],
      ['##vso[task.setvariable variable=x]1', '##vso\\u005btask.setvariable variable=x]1'],
    ];
    for (const [line, guarded] of cases) {
      expect(runnerCommand(line), line).to.not.equal(undefined);
      expect(guardLine(line)).to.equal(guarded);
      expect(runnerCommand(guardLine(line)), guarded).to.equal(undefined);
      expect(guardLine(guardLine(line))).to.equal(guarded);
    }
    for (const harmless of ['a::b::c', 'file:1:2: error: x', '#[x]', '## [x]', ': :x::']) expect(guardLine(harmless)).to.equal(harmless);
  });

  it('outputText keeps newline and tab, escapes the rest, guards each line, and keeps JSON valid with the same values', () => {
    expect(outputText('a\tb\n::error::x\r::warning::y\n##[group]z')).to.equal('a\tb\n\\u003a:error::x\\r::warning::y\n##\\u005bgroup]z');
    const value = { subjects: HOSTILE, names: ['\u2028::x', '\x7f\x85', '##vso[x]'], nested: { '##[k]': '::v' } };
    const json = outputText(JSON.stringify(value, null, 2));
    expect(JSON.parse(json)).to.deep.equal(value);
    expectSafe(json, 'JSON');
    for (const text of HOSTILE) expectSafe(outputText(text), JSON.stringify(text));
  });

  it('progress lines, live and plain, show hostile names and messages printable', () => {
    const e: SyncEvent = { environment: 'py\x1b[2J', revision: 3, state: 'failed', message: 'build failed: \r\x1b[1A::error::pwned ##[x]' } as SyncEvent;
    const line = progressLine(e, 0, 200);
    expect(line).to.contain('\\r\\u001b[1A::error::pwned');
    expect(RAW_CONTROL.exec(line)).to.equal(null);
    const out: string[] = [];
    const plain = progressFor({ out: (t) => out.push(outputText(t)), err: () => undefined, cwd: '/', env: {} });
    plain.event(e);
    plain.end();
    expect(out).to.have.length(1);
    expectSafe(out.join('\n'), 'plain progress');
  });
});

const envctl = (dir: string, ...argv: string[]) => runEnvctl(dir, argv, { ENVCTL_DEBUG: '' });

/** Native git with the author given (any bytes git keeps in a name) and a fixed date. */
async function git(cwd: string, args: string[], author = 'A'): Promise<string> {
  const env = {
    GIT_AUTHOR_NAME: author, GIT_AUTHOR_EMAIL: 'a@example.com', GIT_COMMITTER_NAME: 'C', GIT_COMMITTER_EMAIL: 'c@example.com',
    GIT_AUTHOR_DATE: '@1700000000 +0000', GIT_COMMITTER_DATE: '@1700000000 +0000', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1',
  };
  return String((await execa('git', args, { cwd, env })).stdout);
}

async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

async function commit(dir: string, files: Record<string, string>, message: string, author?: string): Promise<void> {
  await write(dir, files);
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '--cleanup=verbatim', '-m', message], author);
}

const ENV = (extra: string[] = []) => yaml('title: T', 'owner: "@acme/team"', 'base: { image: "debian:bookworm" }', 'instructions: |', '  RUN true', ...extra);

describe('output channels: real commands with hostile values', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  async function repo(files: Record<string, string>): Promise<string> {
    const dir = await tempDir('envctl-channels-');
    dirs.push(dir);
    await git(dir, ['init', '-q', '-b', 'main']);
    await commit(dir, { 'envctl.yaml': CONFIG, ...files }, 'initial');
    return dir;
  }
  after(async () => {
    for (const d of dirs) await removeDir(d);
  });

  it('revisions: hostile commit subjects and authors stay in their cells, visible; --json keeps them exact', async () => {
    const dir = await repo({});
    const subjects = ['::add-mask::x', '##[set-output name=x]1', '\x1b]0;title\x07 retitled', 'over\rwritten', 'trojan \u202eevil', 'mask ::add-mask::x ##vso[task.complete]'];
    const author = 'Eve \x1b[2J\u202e::error::pwned';
    for (const [i, subject] of subjects.entries()) await commit(dir, { 'environments/py.yaml': ENV([`description: "${i}"`]) }, `${subject}\n\n::error::in the body`, author);
    const r = await envctl(dir, 'revisions', 'py');
    expect(r.code, r.err).to.equal(0);
    expectSafe(`${r.out}\n${r.err}`, 'revisions');
    const lines = r.out.split('\n');
    expect(lines).to.have.length(subjects.length + 1);
    for (const [i, subject] of subjects.entries()) {
      expect(lines[i + 1]).to.match(new RegExp(`^${i + 1} `));
      // As a value inside a line: printable, `##[` broken (a leading `::` is not leading there).
      expect(lines[i + 1]).to.contain(guardLine(`x ${printable(subject)}`).slice(2)).and.contain(guardLine(`x ${printable(author)}`).slice(2));
    }
    const json = JSON.parse((await envctl(dir, 'revisions', 'py', '--json')).out) as { subject: string; author: string }[];
    expect(json.map((row) => row.subject)).to.deep.equal(subjects);
    expect(json[0]!.author).to.equal(author);
  });

  it('validate: hostile YAML keys, values and file names make one problem line each, and no command', async () => {
    const dir = await repo({
      'environments/py.yaml': ENV(['"a\\n::error::pwned\\r##[add-mask]x": 1', 'visibility: "##[set-output name=x]\\e]0;t\\a\\u202e"']),
      'environments/x::error::pwned,title=x%0A.yaml': 'owner: 5\n',
      'environments/n\n::warning::pwned\x1b[2J.yaml': 'owner: 5\n',
    });
    const r = await envctl(dir, 'validate');
    expect(r.code).to.equal(1);
    expectSafe(`${r.out}\n${r.err}`, 'validate');
    const lines = r.out.split('\n');
    expect(lines.every((l) => /^environments\/\S.*:\d+:\d+: (error|warning): .* \[[a-z0-9-]+\]$/.test(l)), r.out).to.equal(true);
    expect(lines.filter((l) => l.startsWith('environments/n\\n::warning::pwned\\u001b[2J.yaml:'))).to.have.length.above(0);
    expect(r.err.split('\n')).to.have.length(1);
  });

  it('validate under GITHUB_ACTIONS: annotations are the only commands, one well-formed line per problem, carrying the printable values', async () => {
    const file = 'environments/x::error::pwned,title=x%0A.yaml';
    const dir = await repo({
      [file]: 'owner: 5\n',
      'environments/n\n::warning::pwned\x1b[2J.yaml': 'owner: 5\n',
      'environments/py.yaml': ENV(['"k\\r::error::pwned": 1', 'visibility: "%0A::add-mask::x ##[endgroup]\\e[2J"']),
    });
    const r = await execa(process.execPath, [BIN, 'validate'], { cwd: dir, reject: false, env: { ENVCTL_OFFLINE: '1', GITHUB_ACTIONS: 'true', ENVCTL_DEBUG: '' }, timeout: 15_000 });
    const [stdout, stderr] = [String(r.stdout), String(r.stderr)];
    expect(r.exitCode, stderr).to.equal(1);
    expectSafe(stderr, 'stderr');
    expect(RAW_CONTROL.exec(stdout)).to.equal(null);
    expect(stdout).to.not.contain('##[');
    const lines = runnerLines(stdout);
    const problemLines = lines.filter((l) => l.startsWith('environments/'));
    const commands = lines.map(runnerCommand).filter((c) => c !== undefined);
    expect(commands.map((c) => c.name)).to.deep.equal(problemLines.map((l) => / (error|warning): /.exec(l)![1]));
    for (const l of lines.filter((x) => !x.startsWith('environments/') && x !== '')) expect(runnerCommand(l), l).to.not.equal(undefined);
    for (const [i, c] of commands.entries()) {
      const props = Object.fromEntries(c.props.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), unescapeProperty(kv.slice(kv.indexOf('=') + 1))]));
      expect(Object.keys(props)).to.deep.equal(['title', 'file', 'line', 'col']);
      const message = unescapeData(c.data);
      expect(RAW_CONTROL.exec(message), message).to.equal(null);
      expect(message).to.not.match(/[\r\n]/);
      // The annotation says what the problem line says.
      expect(problemLines[i]).to.equal(`${props.file}:${props.line}:${props.col}: ${c.name}: ${message} [${props.title}]`);
    }
    expect(commands.map((c) => unescapeProperty(c.props))).to.satisfy((all: string[]) => all.some((p) => p.includes(`file=${file},`)));
  });

  it('usage, duplicate and diff: hostile owners and context file names stay on their lines', async () => {
    const owner = '@acme/team\\n::error::pwned\\e[2J';
    const dir = await repo({
      'environments/py.yaml': yaml('title: T', `owner: "${owner}"`, 'base: { image: "debian:bookworm" }'),
      'environments/tools/environment.yaml': ENV(),
      'environments/tools/a\n::error::pwned\r.txt': 'one\n',
      'projects/churn.yaml': yaml('owner: "::add-mask::x\\u202e\\r"', 'environment: py'),
      // The commit below adds every file; envctl's local state must stay out of it.
      '.gitignore': '.envctl/\n',
    });
    const used = await envctl(dir, 'usage', 'py');
    expect(used.code, used.err).to.equal(0);
    expectSafe(`${used.out}\n${used.err}`, 'usage');
    expect(used.out.split('\n')).to.have.length(2);
    expect(used.out).to.contain('::add-mask::x\\u202e\\r');

    const copied = await envctl(dir, 'duplicate', 'py', 'py-copy');
    expect(copied.code, copied.err).to.equal(0);
    expectSafe(`${copied.out}\n${copied.err}`, 'duplicate');
    expect(copied.out).to.contain('owner @acme/team\\n::error::pwned\\u001b[2J');

    await commit(dir, { 'environments/tools/a\n::error::pwned\r.txt': 'two\n' }, 'tools 2');
    const diff = await envctl(dir, 'diff', 'tools', '1', '2');
    expect(diff.code, diff.err).to.equal(0);
    expectSafe(`${diff.out}\n${diff.err}`, 'diff');
    // The diff library quotes such a name in the header as git does (C escapes).
    expect(diff.out).to.contain('--- "tools@revision 1 context/a\\n::error::pwned\\r.txt"').and.contain('-one').and.contain('+two');
  });

  it('errors: a hostile argument is quoted on one line of stderr, and the unknown command too', async () => {
    const dir = await repo({ 'environments/py.yaml': ENV() });
    const runs = [
      await envctl(dir, 'revisions', 'x\n::error::pwned'),
      await envctl(dir, 'show', '::add-mask::x@1\x1b[2J'),
      await envctl(dir, 'render', '##[set-output name=x]\r'),
      await envctl(dir, '::add-mask::x\n::error::pwned'),
    ];
    for (const r of runs) {
      expect(r.code).to.be.oneOf([1, 2]);
      expectSafe(`${r.out}\n${r.err}`, r.err);
    }
    expect(runs[0]!.err).to.equal('envctl revisions: "x\\n::error::pwned" has no revisions on main');
    expect(runs[1]!.err.split('\n')[0]).to.equal('envctl show: expected <name>@<revision>, e.g. python-datascience@3; got "::add-mask::x@1\\u001b[2J"');
    expect(runs[2]!.err.split('\n')[0]).to.contain('"##\\u005bset-output name=x]\\r"');
    expect(runs[3]!.err.split('\n')[0]).to.equal('envctl: unknown command "::add-mask::x\\n::error::pwned"');
  });
});
