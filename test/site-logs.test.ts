/**
 * The catalog site and build logs: a record's `log` is data, and the site is
 * published. Only a plain file in the real .envctl/logs under a name sync
 * writes is copied; a traversal, a link (planted or committed), a FIFO or a
 * linked logs folder is left out with a warning, and `.git/config` (which
 * holds the job token in CI) never reaches the site.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recordBuilds } from '../src/git/ledger.js';
import type { BuildRecord } from '../src/ledger/model.js';
import { isEnvctlError } from '../src/model/errors.js';
import { copyLog } from '../src/repository/site-logs.js';
import { writeSite } from '../src/repository/site.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';

const TOKEN = 'SECRET-TOKEN-4242';

async function allText(dir: string): Promise<string> {
  let out = '';
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out += await readFile(join(e.parentPath, e.name), 'utf8');
  }
  return out;
}

describe('site: build logs copied only from .envctl/logs', function () {
  this.timeout(60_000);
  let top: string;
  let dir: string;
  let out: string;
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];

  async function ledgerWithLogs(logs: Record<string, string>): Promise<void> {
    const head = await git(dir, 'rev-parse', 'HEAD');
    const records = new Map<string, BuildRecord[]>();
    for (const [env, log] of Object.entries(logs)) {
      records.set(env, [{
        id: `${env}-1`, revision: 1, commit: head, contentKey: `sha256:${'a'.repeat(64)}`, status: 'failed', failure: { kind: 'build' },
        reason: 'RUN failed', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:10.000Z', log,
      }]);
    }
    await recordBuilds(dir, 'envctl-state', records, { summary: 'test' });
  }

  beforeEach(async () => {
    top = await tempDir('envctl-site-logs-');
    dir = join(top, 'repo');
    out = join(top, 'site');
    await mkdir(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    await git(dir, 'config', 'envctl.token', TOKEN); // stands for the job token in .git/config
    const files: Record<string, string> = { 'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'), '.gitignore': '.envctl/\n' };
    for (const n of names) files[`environments/${n}.yaml`] = yaml('owner: "@o"', 'instructions: RUN true');
    await commit(dir, files, 'environments');
    await mkdir(join(dir, '.envctl', 'logs'), { recursive: true });
  });
  afterEach(() => removeDir(top));

  it('copies a plain log; a traversal, a planted link, a FIFO are left out with warnings; a CI URL and an absent log are not warned about', async () => {
    const logs = join(dir, '.envctl', 'logs');
    await writeFile(join(logs, 'a-1.log'), 'the build log of a\n');
    await symlink('../../.git/config', join(logs, 'c-1.log'));
    await execa('mkfifo', [join(logs, 'd-1.log')]);
    await ledgerWithLogs({
      a: '.envctl/logs/a-1.log', b: '.envctl/logs/../../.git/config', c: '.envctl/logs/c-1.log', d: '.envctl/logs/d-1.log',
      e: 'https://ci.example/run/1', f: '.envctl/logs/f-1.log',
    });
    const written = await writeSite(dir, out);
    expect(await readdir(join(out, 'logs'))).to.deep.equal(['a-1.log']);
    expect(await readFile(join(out, 'logs', 'a-1.log'), 'utf8')).to.equal('the build log of a\n');
    expect(written.warnings).to.have.length(3);
    expect(written.warnings[0]).to.equal('b revision 1: its log ".envctl/logs/../../.git/config" is not in the site: it is not a log sync writes (.envctl/logs/<name>.log)');
    expect(written.warnings[1]).to.equal('c revision 1: its log ".envctl/logs/c-1.log" is not in the site: it is a symbolic link');
    expect(written.warnings[2]).to.equal('d revision 1: its log ".envctl/logs/d-1.log" is not in the site: it is not a plain file');
    const text = await allText(out);
    expect(text).to.not.contain(TOKEN);
    expect(text).to.contain('href="../logs/a-1.log"');
    for (const n of ['b', 'c', 'd', 'f']) expect(text).to.not.contain(`logs/${n}-1.log"`);
  });

  it('a linked .envctl/logs (a symlinked parent) publishes nothing from it, with a warning', async () => {
    await rm(join(dir, '.envctl', 'logs'), { recursive: true });
    await mkdir(join(top, 'elsewhere'));
    await writeFile(join(top, 'elsewhere', 'a-1.log'), `${TOKEN}\n`);
    await symlink('../../elsewhere', join(dir, '.envctl', 'logs'));
    await ledgerWithLogs({ a: '.envctl/logs/a-1.log' });
    const written = await writeSite(dir, out);
    expect(written.warnings).to.deep.equal([
      'build logs are not in the site: .envctl/logs is a symbolic link; envctl keeps its local state in a real folder and will not write through a link',
    ]);
    expect(existsSync(join(out, 'logs'))).to.equal(false);
    expect(await allText(out)).to.not.contain(TOKEN);
  });

  it('a log link committed to the repository: the site is refused as a whole (tracked state), nothing written', async () => {
    await symlink('../../.git/config', join(dir, '.envctl', 'logs', 'a-1.log'));
    await git(dir, 'add', '-f', '.envctl/logs/a-1.log');
    await git(dir, 'commit', '-q', '-m', 'a log');
    await ledgerWithLogs({ a: '.envctl/logs/a-1.log' });
    const err = await writeSite(dir, out).then(() => undefined, (e: unknown) => e);
    expect(isEnvctlError(err, 'input') && [err.code, err.data.path]).to.deep.equal(['state-folder-tracked', '.envctl/logs/a-1.log']);
    expect(existsSync(out)).to.equal(false);
  });

  it('a log swapped for a link after it was looked at is not followed by the copy', async () => {
    const file = join(dir, '.envctl', 'logs', 'a-1.log');
    await writeFile(file, 'log\n');
    const info = await lstat(file);
    const checked = { file, name: 'a-1.log', what: 'a revision 1', dev: info.dev, ino: info.ino };
    await rm(file);
    await symlink('../../.git/config', file);
    const dest = join(top, 'copy.log');
    expect(await copyLog(checked, dest)).to.equal('it became a symbolic link');
    expect(existsSync(dest)).to.equal(false);
    // Another plain file put in its place is not the one looked at either (made before the link goes, so it has another inode).
    await writeFile(`${file}.new`, `${TOKEN}\n`);
    await rename(`${file}.new`, file);
    expect(await copyLog(checked, dest)).to.equal('it was replaced since it was looked at');
    expect(existsSync(dest) ? await readFile(dest, 'utf8') : '').to.not.contain(TOKEN);
  });
});
