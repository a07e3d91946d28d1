/** The object reader against native git: every object byte for byte, loose, packed, OFS_DELTA and REF_DELTA. */
import { expect } from 'chai';
import { execa } from 'execa';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { changedEntries } from '../src/git/history.js';
import { applyDelta, ObjectStore, parseCommit, parseTree } from '../src/git/objects.js';
import { removeDir, tempDir } from './helpers.js';

const env = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com', GIT_AUTHOR_DATE: '1700000000 +0000', GIT_COMMITTER_DATE: '1700000000 +0000' };
const git = (cwd: string, ...args: string[]) => execa('git', args, { cwd, env });

async function history(dir: string): Promise<void> {
  await git(dir, 'init', '-q', '-b', 'main');
  await mkdir(join(dir, 'environments', 'f'), { recursive: true });
  for (let i = 0; i < 40; i++) {
    // Files big enough, and similar enough, for git to store deltas.
    const body = Array.from({ length: 200 }, (_, k) => `line ${k} ${k === i ? 'changed' : 'same'}`).join('\n');
    await writeFile(join(dir, 'environments', `e${i % 7}.yaml`), `owner: a\ndescription: |\n  ${body.replace(/\n/g, '\n  ')}\n`);
    await writeFile(join(dir, 'environments', 'f', 'environment.yaml'), `owner: a\ntitle: ${i}\n`);
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-q', '-m', `Change ${i}\n\nBody line`);
  }
}

async function allObjects(dir: string): Promise<string[]> {
  const { stdout } = await git(dir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)');
  return stdout.split('\n').filter(Boolean);
}

async function expectSameAsGit(dir: string): Promise<number> {
  const store = new ObjectStore(join(dir, '.git'));
  let n = 0;
  try {
    for (const oid of await allObjects(dir)) {
      const type = (await git(dir, 'cat-file', '-t', oid)).stdout;
      const content = (await execa('git', ['cat-file', type, oid], { cwd: dir, encoding: 'buffer', stripFinalNewline: false })).stdout;
      const got = store.read(oid);
      expect(got.type, oid).to.equal(type);
      expect(Buffer.compare(got.data, Buffer.from(content)), `${type} ${oid}`).to.equal(0);
      n++;
    }
  } finally {
    store.close();
  }
  return n;
}

describe('git objects: the reader matches git', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await tempDir('envctl-objects-');
    await history(dir);
  });
  after(() => removeDir(dir));

  it('reads loose objects', async () => {
    expect(await expectSameAsGit(dir)).to.be.greaterThan(100);
  });

  it('reads a pack with offset deltas', async () => {
    await git(dir, 'gc', '-q', '--aggressive');
    const { stdout } = await git(dir, 'count-objects', '-v');
    expect(stdout).to.match(/^count: 0$/m);
    expect(await expectSameAsGit(dir)).to.be.greaterThan(100);
  });

  it('reads a pack with ref deltas', async () => {
    // pack-objects without --delta-base-offset writes REF_DELTA entries.
    const other = await tempDir('envctl-objects-ref-');
    try {
      await history(other);
      const list = (await git(other, 'rev-list', '--objects', '--all')).stdout.split('\n').map((l) => l.split(' ')[0]).join('\n');
      const { stdout } = await execa('git', ['pack-objects', '-q', '--window=50', join(other, '.git', 'objects', 'pack', 'refdelta')], { cwd: other, input: list });
      for (const loose of (await execa('find', [join(other, '.git', 'objects'), '-path', '*/objects/??/*', '-type', 'f'])).stdout.split('\n').filter(Boolean)) await removeDir(loose);
      expect(stdout).to.match(/^[0-9a-f]{40}$/);
      expect(await expectSameAsGit(other)).to.be.greaterThan(100);
    } finally {
      await removeDir(other);
    }
  });

  it('parses commits and trees as git prints them', async () => {
    const store = new ObjectStore(join(dir, '.git'));
    try {
      const head = (await git(dir, 'rev-parse', 'HEAD')).stdout;
      const c = parseCommit(store.read(head).data);
      expect(c.tree).to.equal((await git(dir, 'rev-parse', 'HEAD^{tree}')).stdout);
      expect(c.parents).to.deep.equal([(await git(dir, 'rev-parse', 'HEAD~1')).stdout]);
      expect(c.author).to.deep.equal({ name: 'T', email: 't@example.com', timestamp: 1700000000 });
      expect(c.message).to.equal('Change 39\n\nBody line\n');
      const tree = parseTree(store.read(`${c.tree}`).data);
      const lsTree = (await git(dir, 'ls-tree', c.tree)).stdout.split('\n').map((l) => { const [meta, path] = l.split('\t'); const [mode, , oid] = meta!.split(' '); return { mode, path, oid }; });
      expect(tree.map((e) => ({ mode: e.mode, path: e.path, oid: e.oid }))).to.deep.equal(lsTree);
    } finally {
      store.close();
    }
  });

  it('changedEntries lists exactly what git diff-tree lists', async () => {
    const store = new ObjectStore(join(dir, '.git'));
    try {
      for (const [from, to] of [['HEAD~5', 'HEAD'], ['HEAD~1', 'HEAD'], ['HEAD~39', 'HEAD~20']] as const) {
        const treeOf = async (rev: string) => (await git(dir, 'rev-parse', `${rev}:environments`)).stdout;
        const got = changedEntries(store.read(await treeOf(from)).data, store.read(await treeOf(to)).data).map((c) => c.path).sort();
        const want = (await git(dir, 'diff-tree', '--name-only', await treeOf(from), await treeOf(to))).stdout.split('\n').filter(Boolean).sort();
        expect(got, `${from}..${to}`).to.deep.equal(want);
      }
      expect(changedEntries(Buffer.alloc(0), store.read((await git(dir, 'rev-parse', 'HEAD:environments')).stdout).data).map((c) => c.path)).to.deep.equal(['e0.yaml', 'e1.yaml', 'e2.yaml', 'e3.yaml', 'e4.yaml', 'e5.yaml', 'e6.yaml', 'f']);
    } finally {
      store.close();
    }
  });

  it('applyDelta copies and inserts, and refuses a delta for another base', () => {
    const base = Buffer.from('hello world');
    // source size 11, target size 9: copy "hello" (offset 0, size 5), insert " you".
    const delta = Buffer.from([11, 9, 0x90, 5, 4, ...Buffer.from(' you')]);
    expect(applyDelta(base, delta).toString()).to.equal('hello you');
    expect(() => applyDelta(Buffer.from('short'), delta)).to.throw(/does not apply/);
  });
});
