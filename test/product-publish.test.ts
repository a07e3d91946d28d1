/**
 * Publishing to the hosted product: the pure mapping (product/publish.ts:
 * the revision-create form, the summary marker) and the client
 * (hosted/publish.ts) against the stand-in on loopback
 * (test/fixtures/product-server.ts), real HTTP, no mocks.
 */
import { expect } from 'chai';
import { load } from 'js-yaml';
import { getRevision, listRevisions } from '../src/hosted/client.js';
import { ProductError, type ProductEndpoint } from '../src/hosted/http.js';
import { activeRevisionOf, createRevision, findPublished, setActiveRevision } from '../src/hosted/publish.js';
import { EnvctlError } from '../src/model/errors.js';
import type { EnvironmentSpec } from '../src/model/spec.js';
import { publishedContent, publishSummary, revisionForm, type PublishInput } from '../src/product/publish.js';
import { toolsFrom } from '../src/product/tools.js';
import { FakeProduct, type FakeEnvironment } from './fixtures/product-server.js';

const TOKEN = 'publish-key-5678';
const HEX_A = '1a2b3c4d5e6f';
const HEX_B = '9f8e7d6c5b4a';
const KEY_A = `sha256:${HEX_A}${'a'.repeat(52)}`;
const KEY_B = `sha256:${HEX_B}${'b'.repeat(52)}`;
const KEY_C = `sha256:${'c'.repeat(64)}`;
const IMAGE = `registry.example.com/envctl/python-datascience@sha256:${'d'.repeat(64)}`;
const INTERNAL_PATH = '/{{ownerUsername}}/{{projectName}}/{{sessionPathComponent}}/{{runId}}/{{#if pathToOpen}}tree/{{pathToOpen}}{{/if}}';

/** Tools, all four scripts, a plain and a secret variable, docker arguments, user, VPN, two cluster types. */
const FULL: EnvironmentSpec = {
  owner: 'data-team',
  base: { image: 'quay.io/acme/python:3.11' },
  instructions: 'RUN pip install numpy\n',
  workspaceTools: {
    jupyter: {
      title: 'Jupyter (Python, R, Julia)', iconUrl: '/assets/images/workspace-logos/Jupyter.svg', start: ['/var/opt/workspaces/jupyter/start'],
      httpProxy: { port: 8888, rewrite: false, internalPath: INTERNAL_PATH, requireSubdomain: false }, supportedFileExtensions: ['.ipynb'],
    },
    vscode: { title: 'VS Code', start: ['/opt/code/start', '--no-auth'], httpProxy: { port: 8080 } },
  },
  scripts: { preSetup: 'echo pre-setup\n', postSetup: 'echo post-setup\n', preRun: 'echo "pre run: $HOME"\n', postRun: 'echo bye\n' },
  variables: { MODE: '3.10', API_TOKEN: { secret: true, description: 'the team token' }, PIP_INDEX_URL: 'https://pypi.example.com/simple?a=1&b=2' },
  dockerArguments: ['--shm-size=2g', '--cap-add=SYS_PTRACE'],
  username: 'ubuntu',
  vpn: true,
  clusterTypes: ['spark', 'dask'],
};

const input = (contentKey: string, spec: EnvironmentSpec = FULL, revision = 3): PublishInput =>
  ({ environment: 'python-datascience', revision, contentKey, image: IMAGE, spec });

const TOOLS_YAML = `jupyter:
  title: Jupyter (Python, R, Julia)
  iconUrl: /assets/images/workspace-logos/Jupyter.svg
  start:
    - /var/opt/workspaces/jupyter/start
  httpProxy:
    port: 8888
    rewrite: false
    internalPath: /{{ownerUsername}}/{{projectName}}/{{sessionPathComponent}}/{{runId}}/{{#if pathToOpen}}tree/{{pathToOpen}}{{/if}}
    requireSubdomain: false
  supportedFileExtensions:
    - .ipynb
vscode:
  title: VS Code
  start:
    - /opt/code/start
    - --no-auth
  httpProxy:
    port: 8080
`;

async function rejection(p: Promise<unknown>): Promise<ProductError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(ProductError);
    return err as ProductError;
  }
  return expect.fail('expected a ProductError');
}

function thrown(f: () => unknown): EnvctlError {
  try {
    f();
  } catch (err) {
    expect(err).to.be.instanceOf(EnvctlError);
    return err as EnvctlError;
  }
  return expect.fail('expected an EnvctlError');
}

describe('publish mapping: envctl revision → the product revision-create form', () => {
  it('sends every field in order: the image by digest, no instructions, tools as properties YAML, scripts, plain variables only, arguments, user, VPN, clusters', () => {
    const fields = revisionForm(input(KEY_A));
    expect(fields).to.deep.equal([
      ['base.imageType', 'CustomImage'],
      ['base.dockerImage', IMAGE],
      ['dockerfileInstructions', ''],
      ['properties', TOOLS_YAML],
      ['preRunScript', 'echo "pre run: $HOME"\n'],
      ['postRunScript', 'echo bye\n'],
      ['preSetupScript', 'echo pre-setup\n'],
      ['postSetupScript', 'echo post-setup\n'],
      ['dockerArguments', '--shm-size=2g\n--cap-add=SYS_PTRACE'],
      ['summary', `envctl python-datascience@3 (content ${HEX_A})`],
      ['environmentVariables[0].name', 'MODE'],
      ['environmentVariables[0].value', '3.10'],
      ['environmentVariables[1].name', 'PIP_INDEX_URL'],
      ['environmentVariables[1].value', 'https://pypi.example.com/simple?a=1&b=2'],
      ['username', 'ubuntu'],
      ['shouldUseVPN', 'on'],
      ['noCache', 'false'],
      ['clusterTypes[]', 'Spark'],
      ['clusterTypes[]', 'Dask'],
    ]);
    // The secret is not sent in any form: neither its name nor its description.
    expect(JSON.stringify(fields)).not.to.include('API_TOKEN').and.not.to.include('team token');
  });

  it('writes tools the import reads back unchanged (tools.ts is the reverse)', () => {
    const properties = revisionForm(input(KEY_A)).find(([k]) => k === 'properties')![1];
    const notes: string[] = [];
    expect(toolsFrom(properties, notes)).to.deep.equal(FULL.workspaceTools);
    expect(notes).to.deep.equal([]);
    expect(load(properties)).to.have.nested.property('jupyter.httpProxy.internalPath', INTERNAL_PATH);
  });

  it('sends empty texts for what a bare spec lacks, and no user, VPN, variables or clusters', () => {
    const bare: EnvironmentSpec = { owner: 'someone', variables: { ONLY_SECRET: { secret: true } }, vpn: false };
    expect(revisionForm(input(KEY_B, bare, 1))).to.deep.equal([
      ['base.imageType', 'CustomImage'], ['base.dockerImage', IMAGE], ['dockerfileInstructions', ''], ['properties', ''],
      ['preRunScript', ''], ['postRunScript', ''], ['preSetupScript', ''], ['postSetupScript', ''], ['dockerArguments', ''],
      ['summary', `envctl python-datascience@1 (content ${HEX_B})`], ['noCache', 'false'],
    ]);
  });

  it('marks the summary with the content key and reads the marker back', () => {
    const summary = publishSummary(input(KEY_A));
    expect(summary).to.equal(`envctl python-datascience@3 (content ${HEX_A})`);
    expect(publishedContent(summary)).to.equal(HEX_A);
    expect(publishedContent(publishSummary({ ...input(KEY_B), environment: 'a', revision: 1234 }))).to.equal(HEX_B);
  });

  it('does not take a summary that only resembles the marker', () => {
    const marker = `envctl python-datascience@3 (content ${HEX_A})`;
    for (const hostile of [
      `Revert ${marker}`, `${marker} and more`, `${marker}\n`, `${marker}\nsecond line`, ` ${marker}`,
      `envctl python\ndatascience@3 (content ${HEX_A})`, `envctl python\u0007ds@3 (content ${HEX_A})`, `envctl Python-DS@3 (content ${HEX_A})`,
      `envctl python-datascience@0 (content ${HEX_A})`, `envctl python-datascience@3 (content ${HEX_A.toUpperCase()})`,
      `envctl python-datascience@3 (content ${HEX_A}0)`, `envctl python-datascience@3  (content ${HEX_A})`, `envctl @3 (content ${HEX_A})`,
      `first line\n${marker}`,
    ]) expect(publishedContent(hostile), JSON.stringify(hostile)).to.equal(undefined);
  });

  it('refuses input envctl would never give: a name with a line break or control, a key not sha256, an image by tag', () => {
    for (const environment of ['python\nds', 'python\u0000ds', 'Python', '']) {
      expect(thrown(() => publishSummary({ ...input(KEY_A), environment })).code).to.equal('publish-input-invalid');
    }
    expect(thrown(() => revisionForm({ ...input(KEY_A), contentKey: `sha256:${HEX_A}` })).code).to.equal('publish-input-invalid');
    expect(thrown(() => revisionForm({ ...input(KEY_A), image: 'registry.example.com/envctl/python:latest' })).code).to.equal('publish-input-invalid');
    expect(thrown(() => revisionForm({ ...input(KEY_A), image: `${IMAGE}\nX-Injected: 1` })).code).to.equal('publish-input-invalid');
    expect(thrown(() => revisionForm({ ...input(KEY_A), revision: 0 })).code).to.equal('publish-input-invalid');
  });
});

const at = (day: number) => new Date(Date.UTC(2024, 0, day, 9, 30, 0)).toISOString();
const alice = { username: 'alice', fullName: 'Alice Admin', email: 'alice@example.com' };

/** env-pub: two revisions by hand, one whose summary resembles KEY_B's marker; env-other: a revision carrying KEY_B's exact marker. */
function environments(): FakeEnvironment[] {
  return [
    {
      id: 'env-pub', name: 'Python data science', visibility: 'Organization', archived: false, owner: { id: 'u1', userName: 'alice' }, activeRevisionId: 'rp1',
      revisions: [
        { id: 'rp1', number: 1, created: at(1), author: alice, summary: 'First cut', definition: { base: { type: 'DefaultImage' } } },
        { id: 'rp2', number: 2, created: at(2), author: alice, summary: `Revert envctl python-datascience@3 (content ${HEX_B})`, definition: { base: { type: 'DefaultImage' } } },
      ],
    },
    {
      id: 'env-other', name: 'Other', visibility: 'Private', archived: false, owner: { id: 'u2', userName: 'bob' },
      revisions: [{ id: 'ro1', number: 1, created: at(3), author: alice, summary: `envctl python-datascience@3 (content ${HEX_B})`, definition: { base: { type: 'DefaultImage' } } }],
    },
  ];
}

describe('publish client against the product stand-in', function () {
  this.timeout(30_000);
  let server: FakeProduct;
  let endpoint: ProductEndpoint;

  beforeEach(async () => {
    server = new FakeProduct(TOKEN, environments());
    await server.start();
    endpoint = { url: server.url, token: TOKEN };
  });
  afterEach(async () => {
    await server.stop();
  });

  it('creates the revision with exactly the form, returns its ref, and the product shows it as envctl defined it', async () => {
    const ref = await createRevision(endpoint, 'env-pub', input(KEY_A));
    expect(ref).to.deep.equal({ id: 'env-pub-p3', number: 3 });
    expect(server.created).to.have.length(1);
    expect(server.created[0]!.environmentId).to.equal('env-pub');
    expect(server.created[0]!.fields).to.deep.equal(revisionForm(input(KEY_A)));
    expect(JSON.stringify(server.created[0]!.fields)).not.to.include('API_TOKEN');
    const posts = server.requests.filter((r) => r.method === 'POST');
    expect(posts.map((r) => [r.path, r.key])).to.deep.equal([['/environments/env-pub/revisions', TOKEN]]);

    expect((await listRevisions(endpoint, 'env-pub')).map((r) => r.id)).to.deep.equal(['rp1', 'rp2', 'env-pub-p3']);
    const rev = await getRevision(endpoint, 'env-pub-p3');
    expect(rev.summary).to.equal(`envctl python-datascience@3 (content ${HEX_A})`);
    expect(rev.author.username).to.equal('envctl-bot');
    expect(rev.base).to.deep.equal({ kind: 'image', image: IMAGE });
    expect(rev.instructions).to.equal('');
    expect(rev.scripts).to.deep.equal({ preSetup: 'echo pre-setup\n', postSetup: 'echo post-setup\n', preRun: 'echo "pre run: $HOME"\n', postRun: 'echo bye\n' });
    expect(rev.variables).to.deep.equal([
      { name: 'MODE', value: '3.10', secret: false }, { name: 'PIP_INDEX_URL', value: 'https://pypi.example.com/simple?a=1&b=2', secret: false },
    ]);
    expect(rev.dockerArguments).to.deep.equal(['--shm-size=2g', '--cap-add=SYS_PTRACE']);
    expect([rev.username, rev.vpn, rev.noCache, rev.clusterTypes]).to.deep.equal(['ubuntu', true, false, ['Spark', 'Dask']]);
    expect(toolsFrom(rev.workspaceTools, [])).to.deep.equal(FULL.workspaceTools);
  });

  it('finds an earlier publish by its content key, none for a key only resembled or published elsewhere, and looks only at the newest `look`', async () => {
    const first = await createRevision(endpoint, 'env-pub', input(KEY_A));
    const second = await createRevision(endpoint, 'env-pub', input(KEY_C, FULL, 4));
    expect(second).to.deep.equal({ id: 'env-pub-p4', number: 4 });
    expect(await findPublished(endpoint, 'env-pub', KEY_A)).to.deep.equal(first);
    expect(await findPublished(endpoint, 'env-pub', KEY_C)).to.deep.equal(second);
    // rp2's summary contains KEY_B's marker words but not as envctl writes them; env-other's has it exactly, but is another environment.
    expect(await findPublished(endpoint, 'env-pub', KEY_B)).to.equal(undefined);
    expect(await findPublished(endpoint, 'env-other', KEY_B)).to.deep.equal({ id: 'ro1', number: 1 });
    expect(await findPublished(endpoint, 'env-pub', KEY_A, 1)).to.equal(undefined);
    expect(await findPublished(endpoint, 'env-pub', KEY_A, 0)).to.equal(undefined);
    expect(await findPublished(endpoint, 'env-pub', KEY_A, 2)).to.deep.equal(first);
  });

  it('sets a revision active and reads it back, also when it changed behind envctl\'s back or is named by id alone', async () => {
    expect(await activeRevisionOf(endpoint, 'env-pub')).to.deep.equal({ id: 'rp1', number: 1 });
    expect(await activeRevisionOf(endpoint, 'env-other')).to.equal(undefined);
    const ref = await createRevision(endpoint, 'env-pub', input(KEY_A));
    await setActiveRevision(endpoint, 'env-pub', ref.id);
    expect(server.environments[0]!.activeRevisionId).to.equal(ref.id);
    expect(await activeRevisionOf(endpoint, 'env-pub')).to.deep.equal(ref);
    server.environments[0]!.activeRevisionId = 'rp2';
    expect(await activeRevisionOf(endpoint, 'env-pub')).to.deep.equal({ id: 'rp2', number: 2 });
    server.activeAs = 'id';
    expect(await activeRevisionOf(endpoint, 'env-pub')).to.deep.equal({ id: 'rp2', number: 2 });
    expect(await activeRevisionOf(endpoint, 'env-other')).to.equal(undefined);
  });

  it('refuses to set active a revision that is not the environment\'s, naming the route on a 404', async () => {
    const other = await rejection(setActiveRevision(endpoint, 'env-pub', 'ro1'));
    expect([other.code, other.data.status]).to.deep.equal(['product-bad-response', 400]);
    const missing = await rejection(setActiveRevision(endpoint, 'env-pub', 'no-such'));
    expect(missing.code).to.equal('product-not-found');
    expect(missing.hint).to.include('/v4/environments/{environmentId}/revisions/{revisionId}/setActive');
    expect(server.environments[0]!.activeRevisionId).to.equal('rp1');
  });

  it('maps 401, 403 and 500 to their codes and creates nothing; a failed create is not retried by the client', async () => {
    const refused = await rejection(createRevision({ url: server.url, token: 'wrong' }, 'env-pub', input(KEY_A)));
    expect(refused.code).to.equal('product-unauthorized');
    expect((await rejection(setActiveRevision({ url: server.url, token: 'wrong' }, 'env-pub', 'rp2'))).code).to.equal('product-unauthorized');

    server.faults = { forbidden: new Set(['env-pub']) };
    expect((await rejection(createRevision(endpoint, 'env-pub', input(KEY_A)))).code).to.equal('product-forbidden');
    expect((await rejection(setActiveRevision(endpoint, 'env-pub', 'rp2'))).code).to.equal('product-forbidden');

    server.faults = { createFails: 1 };
    const failed = await rejection(createRevision(endpoint, 'env-pub', input(KEY_A)));
    expect([failed.code, failed.data.status]).to.deep.equal(['product-failed', 500]);
    expect(server.created).to.have.length(0);
    expect(server.environments[0]!.revisions).to.have.length(2);
    expect(server.requests.filter((r) => r.method === 'POST' && r.path === '/environments/env-pub/revisions')).to.have.length(3);
    expect(await createRevision(endpoint, 'env-pub', input(KEY_A))).to.deep.equal({ id: 'env-pub-p3', number: 3 });
  });

  it('fails a lost create answer, and findPublished then finds the revision so a retry need not create it again', async () => {
    server.faults = { dropCreateAnswer: 1 };
    const lost = await rejection(createRevision(endpoint, 'env-pub', input(KEY_A)));
    expect(lost.code).to.equal('product-unreachable');
    expect(server.created.map((c) => c.revisionId)).to.deep.equal(['env-pub-p3']);
    expect(await findPublished(endpoint, 'env-pub', KEY_A)).to.deep.equal({ id: 'env-pub-p3', number: 3 });
    expect(server.created).to.have.length(1);
  });

  it('says the created revision cannot be found when the product answers "created" but made none (a redirect to sign-in)', async () => {
    server.faults = { createToSignIn: 1 };
    const err = await rejection(createRevision(endpoint, 'env-pub', input(KEY_A)));
    expect(err.code).to.equal('product-bad-response');
    expect(err.message).to.include('the created revision could not be found');
    expect(server.created).to.have.length(0);
  });
});
