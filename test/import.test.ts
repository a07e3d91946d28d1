/**
 * `envctl import` against a stand-in of the hosted product's API on
 * loopback (test/fixtures/product-server.ts) and real git repositories:
 * three environments over twelve revisions, one built on another, one
 * archived, one with a secret variable, one revision unreadable (a gap).
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runEnvctl } from './fixtures/cli.js';
import { EXPECTED_NAMES, productData, SECRET_VALUE, TOKEN } from './fixtures/product-data.js';
import { FakeProduct } from './fixtures/product-server.js';
import { removeDir, tempDir, yaml } from './helpers.js';
import { listRevisions } from '../src/hosted/client.js';

const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');
const FIXED = { GIT_AUTHOR_NAME: 'A', GIT_AUTHOR_EMAIL: 'a@example.com', GIT_COMMITTER_NAME: 'A', GIT_COMMITTER_EMAIL: 'a@example.com', GIT_AUTHOR_DATE: '@1700000000 +0000', GIT_COMMITTER_DATE: '@1700000000 +0000', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

async function git(cwd: string, ...args: string[]): Promise<string> {
  return String((await execa('git', args, { cwd, env: FIXED })).stdout).trim();
}

/** A repository with envctl.yaml, .gitignore and an environment of its own named legacy-r, committed at a fixed time (same ids in every repo). */
async function newRepo(dirs: string[]): Promise<string> {
  const dir = await tempDir('envctl-import-');
  dirs.push(dir);
  await git(dir, 'init', '-q', '-b', 'main');
  await writeFile(join(dir, 'envctl.yaml'), yaml('registry: { address: "127.0.0.1:1" }', 'imageLayers: { "quay.io/acme/python:3.11": 3, "rocker/r-ver:4.3.2": 5 }'));
  await writeFile(join(dir, '.gitignore'), '.envctl/\n');
  await execa('mkdir', ['-p', join(dir, 'environments')]);
  await writeFile(join(dir, 'environments', 'legacy-r.yaml'), yaml('owner: someone', 'base: default'));
  await git(dir, 'add', 'envctl.yaml', '.gitignore', 'environments/legacy-r.yaml');
  await git(dir, 'commit', '-q', '-m', 'Start');
  return dir;
}

interface Row { number: number; subject: string; author: string; email: string; date: string; commit: string }

async function revisions(dir: string, name: string): Promise<Row[]> {
  const r = await runEnvctl(dir, ['revisions', name, '--json']);
  expect(r.code, r.err).to.equal(0);
  return JSON.parse(r.out) as Row[];
}

const importArgs = (server: FakeProduct, ...more: string[]) => ['import', '--url', server.url, ...more];
const KEY = { DOMINO_API_KEY: TOKEN };

describe('envctl import: environments and their history from the hosted product', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  let server: FakeProduct;

  beforeEach(async () => {
    server = new FakeProduct(TOKEN, productData());
    server.faults = { missing: new Set(['rd4']) };
    await server.start();
  });
  afterEach(async () => {
    await server.stop();
  });
  after(async () => {
    for (const d of dirs) await removeDir(d);
  });

  it('gives every revision its product number, summary, author and date, bases first, a gap named, and re-running adds nothing', async () => {
    const dir = await newRepo(dirs);
    const r = await runEnvctl(dir, importArgs(server), KEY);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include('note: product environment env-r is imported as legacy-r-2: legacy-r is taken');
    expect(r.out).to.match(/data-science-team revision 4: GAP, could not be read \(the product answered 404 for its definition\)/);
    expect(r.out).to.include('imported 12 revisions of base-python, data-science-team, legacy-r-2, 1 of them unreadable');
    expect(server.requests.every((q) => q.key === TOKEN)).to.equal(true);
    expect(r.err).to.include('note: data-science-team uses administrator settings (dockerArguments, vpn, username)');
    expect(r.out).to.include('note: the FROM line "FROM ubuntu:22.04" was dropped: the base decides it');

    const data = productData();
    for (const env of data) {
      const rows = await revisions(dir, EXPECTED_NAMES[env.id]!);
      expect(rows.map((x) => x.number)).to.deep.equal(env.revisions.map((x) => x.number));
      for (const [i, row] of rows.entries()) {
        const p = env.revisions[i]!;
        if (p.id === 'rd4') {
          expect(row.subject).to.equal('Revision 4 could not be read from the product');
          expect(row.date).to.equal(new Date(env.revisions[2]!.created).toISOString());
          continue;
        }
        expect(row.date, `${env.id} ${p.number}`).to.equal(new Date(p.created).toISOString());
        expect(row.author).to.equal(p.author.fullName.replace(/[<>]/g, ''));
        expect(row.subject).to.equal(p.summary === '' ? `Revision ${p.number}` : p.summary.replace(/[\u0000-\u001f]+/g, ' ').replace(/\s+/g, ' ').trim());
      }
    }
    // The author without a usable email gets one that cannot reach anyone.
    expect((await revisions(dir, 'legacy-r-2'))[0]!.email).to.equal('carol@product.invalid');
    // Bases first: every base-python commit comes before the first data-science-team commit on the branch.
    const order = (await git(dir, 'log', '--first-parent', '--reverse', '--format=%(trailers:key=Imported-As,valueonly)')).split('\n').filter(Boolean);
    expect(order.lastIndexOf('base-python')).to.be.lessThan(order.indexOf('data-science-team'));
    // The revision after the gap names it.
    const fifth = await git(dir, 'log', '-1', '--format=%B', (await revisions(dir, 'data-science-team'))[4]!.commit);
    expect(fifth).to.include('Revision 4 before it could not be read');

    const head = await git(dir, 'rev-parse', 'HEAD');
    const again = await runEnvctl(dir, importArgs(server), KEY);
    expect(again.code, again.err).to.equal(0);
    expect(again.out).to.include('up to date');
    expect(await git(dir, 'rev-parse', 'HEAD')).to.equal(head);
    expect(await git(dir, 'status', '--porcelain')).to.equal('');
  });

  it('maps every field under envctl\'s names, the base environment by its imported name and number, and never writes a secret\'s value', async () => {
    const dir = await newRepo(dirs);
    expect((await runEnvctl(dir, importArgs(server), KEY)).code).to.equal(0);
    const base = load(await readFile(join(dir, 'environments/base-python/environment.yaml'), 'utf8')) as Record<string, unknown>;
    expect(base).to.deep.include({ title: 'Base Python', owner: 'alice', visibility: 'global', base: { image: 'quay.io/acme/python:3.11' } });
    expect(base.variables).to.deep.equal({ PIP_INDEX_URL: 'https://pypi.example.com/simple', API_TOKEN: { secret: true } });
    expect(await readFile(join(dir, 'environments/base-python/requirements.txt'), 'utf8')).to.equal('pandas==2.2.0\n');
    expect((await stat(join(dir, 'environments/base-python/bin/setup.sh'))).mode & 0o111).to.not.equal(0);
    expect(existsSync(join(dir, 'environments/base-python.yaml')), 'the single file gave way to the folder').to.equal(false);

    const ds = load(await readFile(join(dir, 'environments/data-science-team.yaml'), 'utf8')) as Record<string, unknown>;
    const data = productData().find((e) => e.id === 'env-ds')!;
    expect(ds).to.deep.include({
      title: 'Data Science (team)', description: data.description, owner: 'bob', visibility: 'organization',
      base: { environment: 'base-python', revision: 4 }, instructions: 'RUN echo ds five\n',
      scripts: { preSetup: 'echo pre-setup\n', postSetup: 'echo post-setup\n', preRun: 'echo "pre run: $HOME"\n', postRun: 'echo bye\n' },
      variables: { MODE: '3.10' }, dockerArguments: ['--shm-size=2g', '--cap-add=SYS_PTRACE'], username: 'ubuntu', vpn: true,
      clusterTypes: ['spark', 'dask'], noCache: true,
    });
    expect((ds.workspaceTools as Record<string, { httpProxy: { port: number } }>).jupyter!.httpProxy.port).to.equal(8888);
    // Revision 3 pinned base-python's revision 3, and its FROM line was dropped (the base decides it).
    const third = (await revisions(dir, 'data-science-team'))[2]!.commit;
    const at3 = load(await git(dir, 'show', `${third}:environments/data-science-team.yaml`)) as Record<string, unknown>;
    expect(at3.base).to.deep.equal({ environment: 'base-python', revision: 3 });
    expect(at3.instructions).to.equal('RUN echo ds three\n');

    const r = load(await readFile(join(dir, 'environments/legacy-r-2.yaml'), 'utf8')) as Record<string, unknown>;
    expect(r).to.deep.include({ title: 'Legacy R', owner: 'carol', visibility: 'private', archived: true, base: { image: 'rocker/r-ver:4.3.2' } });
    expect(await readFile(join(dir, 'environments/legacy-r.yaml'), 'utf8'), 'the repository\'s own legacy-r is untouched').to.equal(yaml('owner: someone', 'base: default'));

    // The secret's value is in no file of the work tree and no object of the repository.
    const grep = await execa('grep', ['-r', '-l', '--exclude-dir=.git', SECRET_VALUE, dir], { reject: false });
    expect(grep.stdout).to.equal('');
    const objects = await execa('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: dir, encoding: 'buffer' });
    expect(Buffer.from(objects.stdout).includes(Buffer.from(SECRET_VALUE))).to.equal(false);
    expect(Buffer.from(objects.stdout).includes(Buffer.from('API_TOKEN')), 'the secret is there by name').to.equal(true);

    // What it wrote passes the schema (policy may still ask envctl.yaml to allow administrator fields).
    const v = await runEnvctl(dir, ['validate', '--offline', '--json']);
    const problems = (JSON.parse(v.out) as { problems: { rule: string; file: string; message: string }[] }).problems;
    expect(problems.filter((p) => p.rule.startsWith('schema') || p.rule.startsWith('yaml')), JSON.stringify(problems, null, 1)).to.deep.equal([]);
  });

  it('a killed import continues where it stopped and ends as an uninterrupted one, commit for commit', async () => {
    const whole = await newRepo(dirs);
    expect((await runEnvctl(whole, importArgs(server), KEY)).code).to.equal(0);

    const cut = await newRepo(dirs);
    server.heal();
    server.faults = { missing: new Set(['rd4']), dieAfterArchives: 4 };
    const first = await runEnvctl(cut, importArgs(server), KEY);
    expect(first.code).to.equal(1);
    expect(first.err).to.match(/^envctl import: product 127\.0\.0\.1:\d+: (cannot reach the product|the connection broke)/m);
    const made = Number(await git(cut, 'rev-list', '--count', 'HEAD')) - 1;
    expect(made).to.be.greaterThan(0);
    expect(made).to.be.lessThan(12);
    expect(await git(cut, 'status', '--porcelain'), 'each revision whole: nothing half-written').to.equal('');

    server.heal();
    server.faults = { missing: new Set(['rd4']) };
    const rest = await runEnvctl(cut, importArgs(server), KEY);
    expect(rest.code, rest.err).to.equal(0);
    expect(rest.out).to.include(`imported ${12 - made} revisions`);
    expect(await git(cut, 'rev-parse', 'HEAD')).to.equal(await git(whole, 'rev-parse', 'HEAD'));
  });

  for (const point of ['import-objects-written', 'import-committed']) {
    it(`an import killed with SIGKILL at ${point} resumes to the same commits`, async () => {
      const whole = await newRepo(dirs);
      server.faults = { missing: new Set(['rd4']) };
      expect((await runEnvctl(whole, importArgs(server), KEY)).code).to.equal(0);
      const dir = await newRepo(dirs);
      const child = execa(process.execPath, [BIN, ...importArgs(server)], {
        cwd: dir, detached: true, reject: false, buffer: false,
        env: { ...FIXED, DOMINO_API_KEY: TOKEN, ENVCTL_OFFLINE: '1', GITHUB_ACTIONS: 'false', ENVCTL_PAUSE_AT: point },
      });
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        child.stderr!.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.includes(`paused at ${point}`)) resolve();
        });
        void child.then(() => reject(new Error(`import ended before pausing:\n${seen}`)));
      });
      process.kill(-child.pid!, 'SIGKILL');
      await child;
      const count = Number(await git(dir, 'rev-list', '--count', 'HEAD'));
      expect(count).to.equal(point === 'import-committed' ? 2 : 1);
      const rest = await runEnvctl(dir, importArgs(server), KEY);
      expect(rest.code, rest.err).to.equal(0);
      expect(await git(dir, 'rev-parse', 'HEAD')).to.equal(await git(whole, 'rev-parse', 'HEAD'));
      expect(await git(dir, 'status', '--porcelain')).to.equal('');
    });
  }

  it('finishes the work tree of an import killed after its commit', async () => {
    const dir = await newRepo(dirs);
    expect((await runEnvctl(dir, importArgs(server), KEY)).code).to.equal(0);
    // As a kill between the branch update and the work tree would leave it: the file and index as before the last commit.
    const last = (await git(dir, 'show', '--name-only', '--format=', 'HEAD')).split('\n')[0]!;
    await git(dir, 'checkout', 'HEAD^', '--', last);
    expect(await git(dir, 'status', '--porcelain')).to.not.equal('');
    const r = await runEnvctl(dir, importArgs(server), KEY);
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.include('finished the work tree of the interrupted import');
    expect(await git(dir, 'status', '--porcelain')).to.equal('');

    // A change of the user's own is refused, not overwritten.
    await writeFile(join(dir, last), 'owner: me\n');
    const refused = await runEnvctl(dir, importArgs(server), KEY);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.include('has uncommitted changes');
  });

  it('imports a revision made in the product since the last import, and only that', async () => {
    const dir = await newRepo(dirs);
    expect((await runEnvctl(dir, importArgs(server), KEY)).code).to.equal(0);
    const r = server.environments.find((e) => e.id === 'env-r')!;
    r.revisions.push({ id: 'rr4', number: 4, created: '2024-02-01T10:00:00.000Z', author: { username: 'carol', fullName: 'Carol', email: 'carol@example.com' }, summary: 'Later', definition: { image: 'rocker/r-ver:4.4.0' } });
    const again = await runEnvctl(dir, importArgs(server), KEY);
    expect(again.code, again.err).to.equal(0);
    expect(again.out).to.include('imported 1 revision of legacy-r-2');
    const rows = await revisions(dir, 'legacy-r-2');
    expect(rows.map((x) => [x.number, x.subject])).to.deep.equal([[1, 'R env'], [2, 'R packages'], [3, 'Revision 3'], [4, 'Later']]);
  });

  it('--dry-run prints what it would write and commit, and writes nothing', async () => {
    const dir = await newRepo(dirs);
    const head = await git(dir, 'rev-parse', 'HEAD');
    const r = await runEnvctl(dir, importArgs(server, '--dry-run'), KEY);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include('would commit base-python revision 1: First cut (Alice Admin, 2024-01-01T09:30:00.000Z)');
    expect(r.out).to.include('writes environments/base-python/environment.yaml, environments/base-python/bin/setup.sh, environments/base-python/requirements.txt; removes environments/base-python.yaml');
    expect(r.out).to.include('would import 12 revisions');
    expect(await git(dir, 'rev-parse', 'HEAD')).to.equal(head);
    expect(await git(dir, 'status', '--porcelain', '--untracked-files=all')).to.equal('');
  });

  it('401, 403, 404, a bad response, an unknown product version and a missing key give one clear line and write nothing', async () => {
    const dir = await newRepo(dirs);
    const head = await git(dir, 'rev-parse', 'HEAD');
    const unchanged = async () => {
      expect(await git(dir, 'rev-parse', 'HEAD')).to.equal(head);
      expect(await git(dir, 'status', '--porcelain', '--untracked-files=all')).to.equal('');
    };
    const denied = await runEnvctl(dir, importArgs(server), { DOMINO_API_KEY: 'wrong' });
    expect(denied.code).to.equal(1);
    expect(denied.err.split('\n')[0]).to.match(/^envctl import: product 127\.0\.0\.1:\d+: the API key was refused \(401\)$/);
    await unchanged();

    const missing = await runEnvctl(dir, importArgs(server, '--environment', 'no-such-env'), KEY);
    expect(missing.code).to.equal(1);
    expect(missing.err.split('\n')[0]).to.match(/no \/api\/environments\/v1\/environments\/no-such-env \(404\)$/);
    await unchanged();

    server.faults = { forbidden: new Set(['env-ds']) };
    const forbidden = await runEnvctl(dir, importArgs(server), KEY);
    expect(forbidden.code).to.equal(1);
    expect(forbidden.err).to.match(/^envctl import: product 127\.0\.0\.1:\d+: the API key may not read \/api\/environments\/v1\/environments\/env-ds \(403\)$/m);
    await unchanged();

    server.faults = { garbage: new Set(['/api/environments/v1/environments/env-r/revisions']) };
    const garbage = await runEnvctl(dir, importArgs(server), KEY);
    expect(garbage.code).to.equal(1);
    expect(garbage.err).to.match(/^envctl import: product 127\.0\.0\.1:\d+: the answer for \/api\/environments\/v1\/environments\/env-r\/revisions\?offset=0&limit=100 is not JSON$/m);
    await unchanged();
    server.faults = {};

    server.version = '3.6.0';
    const old = await runEnvctl(dir, importArgs(server), KEY);
    expect(old.code).to.equal(1);
    expect(old.err).to.include('product version "3.6.0" is not one envctl knows');
    await unchanged();

    const noKey = await runEnvctl(dir, importArgs(server, '--token-env', 'NO_SUCH_VAR'), {});
    expect(noKey.code).to.equal(2);
    expect(noKey.err).to.include('no API key: set NO_SUCH_VAR');
    await unchanged();
  });

  it('--environment imports that environment and the one it is built on, not the others', async () => {
    const dir = await newRepo(dirs);
    const r = await runEnvctl(dir, importArgs(server, '--environment', 'env-ds'), KEY);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include('imported 9 revisions of base-python, data-science-team');
    expect(existsSync(join(dir, 'environments/legacy-r-2.yaml'))).to.equal(false);
  });

  it('a base environment the key may not read makes the revisions built on it gaps, named, numbers kept', async () => {
    const dir = await newRepo(dirs);
    server.faults = { forbidden: new Set(['env-base']) };
    const r = await runEnvctl(dir, importArgs(server, '--environment', 'env-ds'), KEY);
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.include('note: base environment env-base cannot be read (the API key may not read it): revisions built on it are gaps');
    expect(r.out).to.include('imported 5 revisions of data-science-team, 5 of them unreadable');
    expect((await revisions(dir, 'data-science-team')).map((x) => x.number)).to.deep.equal([1, 2, 3, 4, 5]);
  });

  it('reads a long revision list page by page, oldest first', async () => {
    const many = productData().find((e) => e.id === 'env-r')!;
    many.revisions = Array.from({ length: 230 }, (_, i) => ({ ...many.revisions[0]!, id: `m${i + 1}`, number: i + 1 }));
    const product = new FakeProduct(TOKEN, [many]);
    await product.start();
    try {
      const refs = await listRevisions({ url: product.url, token: TOKEN }, 'env-r');
      expect(refs.map((r) => r.number)).to.deep.equal(Array.from({ length: 230 }, (_, i) => i + 1));
      expect(product.requests.filter((q) => q.path.endsWith('/revisions'))).to.have.length(3);
    } finally {
      await product.stop();
    }
  });

  it('a source archive with a path outside it, or a link, is refused: that revision is a gap', async () => {
    const dir = await newRepo(dirs);
    const r = server.environments.find((e) => e.id === 'env-r')!;
    r.revisions[1]!.archive = { Dockerfile: 'RUN echo\n', '../../escape.txt': 'x' };
    const out = await runEnvctl(dir, importArgs(server, '--environment', 'env-r'), KEY);
    expect(out.code, out.err).to.equal(0);
    expect(out.out).to.match(/legacy-r-2 revision 2: GAP, could not be read \(the answer for \/v4\/environments\/environmentRevision\/rr2\/sourceArchive holds a path outside it: "\.\.\/\.\.\/escape\.txt"\)/);
    expect(existsSync(join(dir, '..', 'escape.txt'))).to.equal(false);
    expect((await revisions(dir, 'legacy-r-2')).map((x) => x.number)).to.deep.equal([1, 2, 3]);
  });
});
