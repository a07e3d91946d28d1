/**
 * Workspace-tool templates (`httpProxy.internalPath`) accept only `{{key}}`
 * and `{{#if key}}…{{else}}…{{/if}}` over the session keys: anything else is
 * a located error when validated and refused when resolved. Session values
 * cannot change the resolved path's shape: dot segments, empty segments and
 * slashes in one-segment values are refused, everything else is encoded.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { resolveTools, SessionError, type Session } from '../src/render/session.js';
import type { WorkspaceTool } from '../src/model/spec.js';
import { byRule, check, yaml } from './helpers.js';

const PRODUCT = '/{{ownerUsername}}/{{projectName}}/{{sessionPathComponent}}/{{runId}}/{{#if pathToOpen}}tree/{{pathToOpen}}{{/if}}';
const SESSION = { ownerUsername: 'ada', projectName: 'churn', sessionPathComponent: 'notebookSession', runId: 'r42' };

const toolLines = (internalPath: string) => ['workspaceTools:', '  j:', '    title: J', '    start: [/start]', '    httpProxy:', '      port: 8888', `      internalPath: ${internalPath}`];
const file = (internalPath: string) => yaml('owner: alice', ...toolLines(internalPath));
const problems = (internalPath: string) => byRule(check({ 'environments/a.yaml': file(internalPath) }), 'tool-template');
const tools = (internalPath: string): Record<string, WorkspaceTool> => ({ j: { title: 'J', start: ['/start'], httpProxy: { port: 8888, internalPath } } });
const resolve = (internalPath: string, session: Session) => resolveTools(tools(internalPath), session).j!.resolvedPath;

/** Each refused template with the part a problem must point at. */
const REFUSED: [string, string][] = [
  ['/{{lookup . "runId"}}', '{{lookup'],
  ['/{{runId (lookup a b)}}', '{{runId ('],
  ['/{{ownerUsername x=1}}', '{{ownerUsername x'],
  ['/x/{{> partial}}', '{{> partial'],
  ['/{{#each runId}}x{{/each}}', '{{#each'],
  ['/{{#with runId}}{{this}}{{/with}}', '{{#with'],
  ['/{{#unless runId}}x{{/unless}}', '{{#unless'],
  ['/{{^runId}}x{{/runId}}', '{{^runId'],
  ['/{{this}}', '{{this'],
  ['/{{this.runId}}', '{{this.runId'],
  ['/{{./runId}}', '{{./runId'],
  ['/{{../runId}}', '{{../runId'],
  ['/{{@root}}', '{{@root'],
  ['/{{runId.length}}', '{{runId.length'],
  ['/{{constructor}}', '{{constructor'],
  ['/{{__proto__}}', '{{__proto__'],
  ['/{{"literal"}}', '{{"literal'],
  ['/{{{runId}}}', '{{{runId'],
  ['/{{&runId}}', '{{&runId'],
  ['/{{#if runId "x"}}y{{/if}}', 'runId "x"'],
  ['/{{#if (lookup a b)}}y{{/if}}', '(lookup'],
  ['/{{#if owner}}y{{/if}}', 'owner}}'],
  ['/{{*decorator}}', '{{*decorator'],
  ['/{{#*inline "p"}}x{{/inline}}', '{{#*inline'],
  ['/{{{{raw}}}}{{runId}}{{{{/raw}}}}', '{{{{raw'],
  ['/ok/{{#if runId}}{{else}}{{lookup a b}}{{/if}}', '{{lookup'],
];

describe('workspace-tool templates: the grammar', () => {
  it('accepts the product\'s template, comments, else, whitespace control, plain and quoted', () => {
    for (const t of [PRODUCT, '/{{!note}}{{runId}}', '/{{#if pathToOpen}}tree/{{pathToOpen}}{{else}}lab{{/if}}', '/{{~runId~}}/', '/static/path']) {
      expect(problems(JSON.stringify(t)), t).to.deep.equal([]);
      expect(problems(`'${t}'`), t).to.deep.equal([]);
    }
  });

  for (const [template, at] of REFUSED) {
    it(`refuses ${template} where it stands, when validated and when resolved`, () => {
      // Single quotes where the template holds a double one, so the scalar's source is the template verbatim.
      const scalar = template.includes('"') ? `'${template}'` : JSON.stringify(template);
      const found = problems(scalar);
      expect(found, JSON.stringify(found)).to.have.length(1);
      const line = file(scalar).split('\n')[7]!;
      expect([found[0]!.line, found[0]!.col]).to.deep.equal([8, line.indexOf(at) + 1]);
      expect(found[0]!.severity).to.equal('error');
      expect(() => resolve(template, SESSION)).to.throw(SessionError).with.property('code', 'tool-template');
    });
  }

  it('locates a problem in a plain scalar too, and in a template with escapes at the value', () => {
    const plain = problems("/a/{{this}}");
    expect([plain[0]!.line, plain[0]!.col]).to.deep.equal([8, '      internalPath: /a/'.length + 1]);
    const escaped = problems('"/\\u0061/{{this}}"');
    expect([escaped[0]!.line, escaped[0]!.col]).to.deep.equal([8, '      internalPath: '.length + 1]);
  });

  it('names every problem in one template, and an unparsable one', () => {
    expect(problems(JSON.stringify('/{{owner}}/{{#each runId}}x{{/each}}/{{lookup a b}}'))).to.have.length(3);
    expect(problems(JSON.stringify('/{{#if runId}}'))[0]!.message).to.contain('not a valid template');
  });
});

describe('workspace-tool templates: session values', () => {
  it('the issue\'s examples are refused, not resolved outside the session', () => {
    const refused = (session: Session) => expect(() => resolve(PRODUCT, session)).to.throw(SessionError).with.property('code', 'session-value');
    refused({ ...SESSION, pathToOpen: '../../../x?y#z' });
    refused({ ...SESSION, ownerUsername: '..' });
    for (const v of ['.', '..', '', 'a/b', 'a\\b', '../x', '/']) {
      for (const key of ['ownerUsername', 'projectName', 'sessionPathComponent', 'runId'] as const) refused({ ...SESSION, [key]: v });
    }
    for (const p of ['..', '.', 'a/../b', 'a/./b', './a', 'a//b', '/etc/passwd', 'a\\..\\b', '//evil.example/x']) refused({ ...SESSION, pathToOpen: p });
  });

  it('reserved characters stay inside their segment', () => {
    expect(resolve(PRODUCT, { ...SESSION, pathToOpen: 'x?y#z%41' })).to.equal('/ada/churn/notebookSession/r42/tree/x%3Fy%23z%2541');
    expect(resolve(PRODUCT, { ...SESSION, pathToOpen: 'work/dir/' })).to.equal('/ada/churn/notebookSession/r42/tree/work/dir/');
    expect(resolve(PRODUCT, { ...SESSION, ownerUsername: '%2e%2e', runId: '1?a=b#c' })).to.equal('/%252e%252e/churn/notebookSession/1%3Fa%3Db%23c/');
    expect(resolve(PRODUCT, { ...SESSION, projectName: '...', pathToOpen: '..a/b..' })).to.equal('/ada/.../notebookSession/r42/tree/..a/b..');
  });

  it('an empty pathToOpen is false for {{#if}}, and a refused value is refused even when no template reads it', () => {
    expect(resolve(PRODUCT, { ...SESSION, pathToOpen: '' })).to.equal('/ada/churn/notebookSession/r42/');
    expect(() => resolve('/{{runId}}', { runId: '1', ownerUsername: '..' })).to.throw(SessionError);
  });

  it('any accepted values give the template\'s segments, each decoding to its value', () => {
    const segment = fc.string({ unit: fc.constantFrom('a', '.', '?', '#', '%', '&', '=', ' ', '+', ';', ':', '@', '~', 'é', '\n', '<') }).filter((s) => s !== '' && s !== '.' && s !== '..');
    fc.assert(fc.property(segment, segment, fc.array(segment, { minLength: 1, maxLength: 4 }), (owner, run, path) => {
      const out = resolve(PRODUCT, { ...SESSION, ownerUsername: owner, runId: run, pathToOpen: path.join('/') })!;
      const parts = out.split('/').map(decodeURIComponent);
      expect(parts).to.deep.equal(['', owner, 'churn', 'notebookSession', run, 'tree', ...path]);
      expect(out).to.not.match(/[?#\s]/);
    }), { numRuns: 300 });
  });
});
