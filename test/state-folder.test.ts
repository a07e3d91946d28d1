/**
 * `.envctl/` stays in the repository: a committed or planted link, a tracked
 * file under it, or a file in its place is refused before anything is
 * written or removed there, and nothing outside the repository changes.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { withDefaults } from '../src/config/index.js';
import { isEnvctlError } from '../src/model/errors.js';
import { claim } from '../src/store/claims.js';
import { openKeyMemo } from '../src/store/keys.js';
import { noteBuildEnd, noteBuildStart } from '../src/store/leftovers.js';
import { statePaths } from '../src/store/paths.js';
import { updateRevisions } from '../src/store/revision-index.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';
import { runEnvctl } from './fixtures/cli.js';

const CONFIG = withDefaults({ registry: { address: '127.0.0.1:1' } });

/** Every file and folder under `dir` with its size and mtime: what must not change. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const s = await stat(p);
      out.push(`${relative(dir, p)} ${e.isDirectory() ? 'dir' : s.size} ${s.mtimeMs}`);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

async function refusal(run: Promise<unknown> | (() => Promise<unknown>)): Promise<{ code: string; path: unknown; hint: string | undefined; kind: string; message: string }> {
  try {
    await (typeof run === 'function' ? run() : run);
  } catch (err) {
    if (!isEnvctlError(err)) throw err;
    return { code: err.code, path: err.data.path, hint: err.hint, kind: err.kind, message: err.message };
  }
  throw new Error('expected a refusal');
}

const envctl = (dir: string, ...argv: string[]) => runEnvctl(dir, argv);

describe('state folder: .envctl stays in the repository', function () {
  this.timeout(60_000);
  let top: string;
  let dir: string;
  let outside: string;
  beforeEach(async () => {
    top = await tempDir('envctl-state-');
    dir = join(top, 'repo');
    outside = join(top, 'outside');
    // What a hostile link would aim at: a folder laid out as .envctl would be, with files to lose.
    await mkdir(join(outside, 'cache', 'revisions', 'main'), { recursive: true });
    await mkdir(join(outside, 'leftovers'), { recursive: true });
    await writeFile(join(outside, 'cache', 'revisions', 'main', 'revisions.jsonl'), 'precious\n');
    await writeFile(join(outside, 'leftovers', 'a.json'), 'precious\n');
    await writeFile(join(outside, 'secret'), 'precious\n');
    await mkdir(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, { 'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'), 'environments/a.yaml': yaml('owner: "@o"', 'instructions: RUN true') }, 'initial');
  });
  afterEach(() => removeDir(top));

  /** Every writer under .envctl, each refused with `code`; the outside folder unchanged. */
  async function allRefused(code: string, path: string): Promise<void> {
    const before = await listing(outside);
    const writers: [string, () => Promise<unknown>][] = [
      ['revision index', () => updateRevisions(dir, CONFIG)],
      ['key memo', () => openKeyMemo(dir, 'f')],
      ['claim', () => claim(dir, 'a', 1)],
      ['leftover note', () => noteBuildStart(dir, { environment: 'a', driver: 'vfs', before: [] })],
      ['leftover removal', () => noteBuildEnd(dir, 'a')],
      ['build folder', () => statePaths.build(dir, 'a')],
      ['log', () => statePaths.log(dir, 'a', 1, '2026-01-01T00:00:00.000Z')],
      ['registry', () => statePaths.registry(dir)],
      ['base', () => statePaths.base(dir)],
    ];
    for (const [what, p] of writers) {
      const r = await refusal(p);
      expect([what, r.kind, r.code, r.path], r.message).to.deep.equal([what, 'input', code, path]);
    }
    expect(await listing(outside)).to.deep.equal(before);
    expect(await readFile(join(outside, 'cache', 'revisions', 'main', 'revisions.jsonl'), 'utf8')).to.equal('precious\n');
  }

  it('a committed .envctl link to a folder outside: refused as tracked, with the git rm hint; envctl exits 1 without its usage', async () => {
    await symlink('../outside', join(dir, '.envctl'));
    await git(dir, 'add', '.envctl');
    await git(dir, 'commit', '-q', '-m', 'a link');
    await allRefused('state-folder-tracked', '.envctl');
    const r = await refusal(updateRevisions(dir, CONFIG));
    expect(r.hint).to.contain('git rm -r --cached .envctl');
    const cli = await envctl(dir, 'revisions', 'a');
    expect(cli.code, cli.err).to.equal(1);
    expect(cli.err).to.contain('git tracks .envctl').and.contain('git rm -r --cached .envctl');
    expect(cli.err).to.not.contain('envctl revisions <name>');
  });

  it('an untracked .envctl link is refused as a link; removing it lets envctl make a real folder', async () => {
    await symlink('../outside', join(dir, '.envctl'));
    await allRefused('state-folder-link', '.envctl');
    const r = await refusal(updateRevisions(dir, CONFIG));
    expect(r.hint).to.contain('rm .envctl');
    await rm(join(dir, '.envctl'));
    await updateRevisions(dir, CONFIG);
    expect((await lstat(join(dir, '.envctl'))).isDirectory()).to.equal(true);
    expect(existsSync(join(dir, '.envctl', 'cache', 'revisions', 'main', 'index.json'))).to.equal(true);
  });

  it('a linked .envctl/cache is refused before writing the index or the key memo; claims elsewhere in .envctl still work', async () => {
    await mkdir(join(dir, '.envctl'));
    await symlink('../../outside/cache', join(dir, '.envctl', 'cache'));
    const before = await listing(outside);
    for (const p of [() => updateRevisions(dir, CONFIG), () => openKeyMemo(dir, 'f')]) {
      const r = await refusal(p);
      expect([r.code, r.path]).to.deep.equal(['state-folder-link', '.envctl/cache']);
      expect(r.hint).to.contain('rm .envctl/cache');
    }
    expect(await claim(dir, 'a', 1)).to.equal(undefined);
    expect(existsSync(join(dir, '.envctl', 'sync', 'a.json'))).to.equal(true);
    expect(await listing(outside)).to.deep.equal(before);
  });

  it('a linked leftover note is neither written through nor removed', async () => {
    await mkdir(join(dir, '.envctl', 'leftovers'), { recursive: true });
    await symlink(join(outside, 'secret'), join(dir, '.envctl', 'leftovers', 'a.json'));
    for (const p of [() => noteBuildStart(dir, { environment: 'a', driver: 'vfs', before: [] }), () => noteBuildEnd(dir, 'a')]) {
      const r = await refusal(p);
      expect([r.code, r.path]).to.deep.equal(['state-folder-link', '.envctl/leftovers/a.json']);
    }
    expect(await readFile(join(outside, 'secret'), 'utf8')).to.equal('precious\n');
  });

  it('a tracked .envctl/x (git add -f) is refused naming it, until git rm -r --cached and a commit', async () => {
    await mkdir(join(dir, '.envctl'));
    await writeFile(join(dir, '.envctl', 'x'), 'x\n');
    await git(dir, 'add', '-f', '.envctl/x');
    const staged = await refusal(updateRevisions(dir, CONFIG));
    expect([staged.code, staged.path]).to.deep.equal(['state-folder-tracked', '.envctl/x']);
    await git(dir, 'commit', '-q', '-m', 'tracked state');
    await git(dir, 'rm', '-q', '-r', '--cached', '.envctl');
    // Out of the index but still in the head commit: a fresh clone would check it out.
    const inHead = await refusal(updateRevisions(dir, CONFIG));
    expect([inHead.code, inHead.path]).to.deep.equal(['state-folder-tracked', '.envctl']);
    expect(inHead.message).to.match(/the head commit [0-9a-f]{12} holds \.envctl/);
    await git(dir, 'commit', '-q', '-m', 'untrack state');
    const log = await updateRevisions(dir, CONFIG);
    expect(log.head).to.equal(await git(dir, 'rev-parse', 'HEAD'));
  });

  it('.envctl as a plain file, or a file where a folder under it belongs, is refused as not a folder', async () => {
    await writeFile(join(dir, '.envctl'), 'not a folder\n');
    const r = await refusal(updateRevisions(dir, CONFIG));
    expect([r.code, r.path]).to.deep.equal(['state-folder-not-folder', '.envctl']);
    await rm(join(dir, '.envctl'));
    await mkdir(join(dir, '.envctl'));
    await writeFile(join(dir, '.envctl', 'build'), 'x');
    const b = await refusal(statePaths.build(dir, 'a'));
    expect([b.code, b.path]).to.deep.equal(['state-folder-not-folder', '.envctl/build']);
    expect(await readFile(join(dir, '.envctl', 'build'), 'utf8')).to.equal('x');
  });

  it('works in a linked worktree, whose index is its own', async () => {
    const wt = join(top, 'wt');
    await git(dir, 'worktree', 'add', '-q', '-b', 'other', wt);
    await updateRevisions(wt, CONFIG);
    await mkdir(join(wt, '.envctl'), { recursive: true });
    await writeFile(join(wt, '.envctl', 'y'), 'y\n');
    await git(wt, 'add', '-f', '.envctl/y');
    const r = await refusal(updateRevisions(wt, CONFIG));
    expect([r.code, r.path]).to.deep.equal(['state-folder-tracked', '.envctl/y']);
  });

  it('no source file outside store/paths.ts names the state folder in a path of its own', async () => {
    const src = join(process.cwd(), 'src');
    const offenders: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        // model/tree.ts holds the folder's name (STATE_DIR) for pure code that must recognise it; paths come from store/paths.ts.
        else if (p.endsWith('.ts') && ![join('store', 'paths.ts'), join('model', 'tree.ts')].includes(relative(src, p))) {
          const code = (await readFile(p, 'utf8')).split('\n').filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l));
          // A quoted '.envctl' or '.envctl/…' is a path being built; prose in usage text and the log-name pattern are not.
          for (const line of code) if (/(['"`])\.envctl(\1|\/)/.test(line)) offenders.push(`${relative(src, p)}: ${line.trim()}`);
        }
      }
    };
    await walk(src);
    expect(offenders).to.deep.equal([]);
  });
});
