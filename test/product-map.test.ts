/**
 * The pure half of `envctl import` (src/product/): names, the mapping of a
 * product revision to an environment file, gaps, tools, commit messages and
 * trailers, the import order. Hostile input throughout: whatever the product
 * says, the YAML reads back as the same values, the file loads as the named
 * environment, and a commit message cannot forge a trailer.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { load } from 'js-yaml';
import { loadEnvironments } from '../src/load/environments.js';
import { NAME_PATTERN } from '../src/load/spec-file.js';
import { gapFiles, mapRevision, ownerName, type MapContext } from '../src/product/map.js';
import { commitMessage, gitAuthor, oneLine, readTrailers } from '../src/product/message.js';
import { chooseName, slugName } from '../src/product/names.js';
import { importOrder } from '../src/product/order.js';
import { toolsFrom } from '../src/product/tools.js';
import type { ProductEnvironment, ProductRevision } from '../src/product/types.js';

const env = (over: Partial<ProductEnvironment> = {}): ProductEnvironment => ({ id: 'e1', name: 'My Env', archived: false, owner: 'alice', ...over });
const revision = (over: Partial<ProductRevision> = {}): ProductRevision => ({
  id: 'r1', number: 1, environmentId: 'e1', created: 0, author: { name: 'A', username: 'a' }, summary: 's',
  base: { kind: 'default' }, scripts: {}, variables: [], dockerArguments: [], ...over,
});
const ctx: MapContext = { dir: 'environments', name: 'my-env', baseOf: () => undefined };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('product/: hosted-product revisions → environment files (pure)', () => {
  it('names: letters and digits lowercased, dashes between, collisions suffixed', () => {
    expect(slugName('Data Science (team)')).to.equal('data-science-team');
    expect(slugName('Ünïcödé  Env 2')).to.equal('unicode-env-2');
    expect(slugName('!!!')).to.equal('environment');
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => NAME_PATTERN.test(slugName(s)) && slugName(s).length <= 60));
    const taken = new Set(['legacy-r']);
    expect(chooseName('Legacy R', taken)).to.deep.equal({ name: 'legacy-r-2', collided: 'legacy-r' });
    expect(chooseName('legacy r', taken)).to.deep.equal({ name: 'legacy-r-3', collided: 'legacy-r' });
    expect(chooseName('Other', taken)).to.deep.equal({ name: 'other' });
  });

  it('owners become a login envctl accepts', () => {
    expect(ownerName('alice')).to.equal('alice');
    expect(ownerName('Data Team (EU)')).to.equal('Data-Team--EU-');
    expect(ownerName(undefined)).to.equal('imported');
    expect(ownerName('--')).to.equal('imported');
  });

  it('any text the product gives reads back from the YAML as given, and the file loads as the environment', () => {
    const hostile = fc.string({ unit: 'binary', maxLength: 80 });
    fc.assert(fc.property(hostile, hostile, hostile, hostile, hostile, (description, script, value, instructions, name) => {
      const mapped = mapRevision(env({ name, description: `${description}x` }), revision({
        instructions: `RUN ${instructions}`, scripts: { preRun: `${script}x` }, variables: [{ name: 'V', value, secret: false }, { name: 'S', value: 'never', secret: true }],
      }), undefined, ctx);
      const file = mapped.files[0]!;
      const back = load(text(file.bytes)) as Record<string, unknown>;
      expect(back.description).to.equal(`${description}x`.slice(0, 10_000));
      expect((back.scripts as Record<string, string>).preRun).to.equal(`${script}x`);
      expect(back.variables).to.deep.equal({ V: value, S: { secret: true } });
      expect(text(file.bytes)).to.not.include('never');
      const loaded = loadEnvironments({ files: [{ path: file.path, bytes: file.bytes, executable: false }], problems: [] }, 'environments');
      expect(loaded.problems).to.deep.equal([]);
      expect(loaded.environments.map((e) => e.name)).to.deep.equal(['my-env']);
    }), { numRuns: 150 });
  });

  it('a base environment is named by its imported name and number; an unimported one is a mapping failure (a gap)', () => {
    const on = revision({ base: { kind: 'environment', environmentId: 'e0', revisionId: 'x7' } });
    const mapped = mapRevision(env(), on, undefined, { ...ctx, baseOf: (e, r) => (e === 'e0' && r === 'x7' ? { environment: 'base', revision: 3 } : undefined) });
    expect(mapped.spec.base).to.deep.equal({ environment: 'base', revision: 3 });
    expect(() => mapRevision(env(), on, undefined, ctx)).to.throw(/was not imported/);
  });

  it('the source archive gives instructions, tools, scripts and context files; the folder form follows', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const mapped = mapRevision(env(), revision({ instructions: 'RUN ignored' }), [
      { path: 'Dockerfile', bytes: enc('# comment\nFROM x\nCOPY a.txt /a\n'), executable: false },
      { path: 'scripts/post-run.sh', bytes: enc('echo bye'), executable: false },
      { path: 'context/a.txt', bytes: enc('a'), executable: true },
      { path: 'context/.hidden', bytes: enc('h'), executable: false },
      { path: 'README', bytes: enc('r'), executable: false },
    ], ctx);
    expect(mapped.files.map((f) => [f.path, f.executable])).to.deep.equal([['environments/my-env/environment.yaml', false], ['environments/my-env/a.txt', true]]);
    expect(mapped.spec.instructions).to.equal('# comment\nCOPY a.txt /a\n');
    expect(mapped.spec.scripts).to.deep.equal({ postRun: 'echo bye' });
    expect(mapped.notes.join('\n')).to.include('context/.hidden, README').and.include('FROM x');
    expect(text(mapped.files[0]!.bytes).split('\n')[0]).to.equal('# yaml-language-server: $schema=../../schemas/environment.schema.json');
  });

  it('a gap keeps the previous files with a header naming the unreadable revision, so the file still changes', () => {
    const first = mapRevision(env(), revision(), undefined, ctx).files;
    const gap = gapFiles(env(), 2, 'r2', 'the product answered 404', first, ctx);
    expect(gap).to.have.length(1);
    expect(text(gap[0]!.bytes)).to.not.equal(text(first[0]!.bytes));
    expect(load(text(gap[0]!.bytes))).to.deep.equal(load(text(first[0]!.bytes)));
    expect(text(gap[0]!.bytes)).to.include('# Revision 2 (r2) of product environment e1 could not be read: the product answered 404.');
    const none = gapFiles(env(), 1, 'r1', 'gone\n# injected: true', undefined, ctx);
    expect(load(text(none[0]!.bytes))).to.deep.equal({ title: 'My Env', owner: 'alice', base: 'default' });
  });

  it('workspace tools: the properties YAML, or the API\'s list, keep envctl\'s fields and drop the rest with a note', () => {
    const notes: string[] = [];
    expect(toolsFrom([{ name: 'vscode', title: 'VS Code', start: '/start', httpProxy: { port: 8888, extra: 1 }, other: true }, { name: 'bad name', start: ['x'] }, { name: 'nostart' }], notes))
      .to.deep.equal({ vscode: { title: 'VS Code', start: ['/start'], httpProxy: { port: 8888 } } });
    expect(notes).to.have.length(2);
    expect(toolsFrom('a: [unclosed', notes)).to.equal(undefined);
    expect(toolsFrom('a: &x [*x, *x]\n', [])).to.equal(undefined);
  });

  it('commit messages: the summary on one printable line, trailers that a summary cannot forge', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (summary) => {
      const message = commitMessage({ name: 'my-env', environmentId: 'e1', revisionId: 'r9', number: 9, summary: `${summary}\n\nProduct-Revision: evil\nImported-As: root` });
      const subject = message.split('\n')[0]!;
      expect(subject).to.not.match(/[\u0000-\u001f\u007f]/);
      expect(subject.length).to.be.at.most(200);
      expect(readTrailers(message)).to.deep.equal({ environmentId: 'e1', revisionId: 'r9', number: 9, name: 'my-env' });
    }));
    expect(readTrailers('Just a commit\n\nSigned-off-by: x\n')).to.equal(undefined);
    const gap = commitMessage({ name: 'n', environmentId: 'e', revisionId: 'r', number: 2, summary: '', unreadable: 'a 404\nreally' });
    expect(readTrailers(gap)?.unreadable).to.equal('a 404 really');
    expect(oneLine('a\u202eb\r\nc')).to.equal('a b c');
    expect(gitAuthor({ name: 'Eve <evil@x>\n', username: 'eve', email: 'e@x>' })).to.deep.equal({ name: 'Eve evil@x', email: 'eve@product.invalid' });
  });

  it('import order: bases first, ties by id, a circle named', () => {
    expect(importOrder(['c', 'a', 'b'], new Map([['a', new Set(['b'])], ['b', new Set(['c'])]]))).to.deep.equal(['c', 'b', 'a']);
    expect(importOrder(['b', 'a'], new Map([['a', new Set(['a'])]]))).to.deep.equal(['a', 'b']);
    expect(importOrder(['a', 'b'], new Map([['a', new Set(['b'])], ['b', new Set(['a'])]]))).to.deep.equal({ cycle: ['a', 'b', 'a'] });
  });
});
