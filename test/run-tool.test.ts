/**
 * `envctl run --tool`, pure parts: where a workspace tool is told to listen
 * (loopback, `--port` or its httpProxy.port) and under which path (its
 * internalPath for the `--session`, without pathToOpen; `/` when the proxy
 * rewrites or no session is given), the variables that carry it, and the
 * CLI's refusals. test/shipped-tools.builder.test.ts starts the shipped
 * tools on those.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import type { WorkspaceTool } from '../src/model/spec.js';
import { lifecycleScript, toolVariables } from '../src/render/lifecycle.js';
import { renderRunSpec } from '../src/render/runspec.js';
import { LOCAL_TOOL_HOST, toolPlace } from '../src/repository/run.js';
import { runEnvctl } from './fixtures/cli.js';
import { check, removeDir, tempDir, yaml } from './helpers.js';

const JUPYTER: WorkspaceTool = {
  title: 'Jupyter',
  start: ['/var/opt/workspaces/jupyter/start'],
  httpProxy: { port: 8888, rewrite: false, internalPath: '/{{ownerUsername}}/{{projectName}}/{{sessionPathComponent}}/{{runId}}/{{#if pathToOpen}}tree/{{pathToOpen}}{{/if}}' },
};
const SESSION = { ownerUsername: 'ada', projectName: 'churn', sessionPathComponent: 'notebookSession', runId: '7' };

describe('run --tool: where the tool listens and under which path', () => {
  it('loopback on the tool\'s own port, under / without a session', () => {
    expect(toolPlace('jupyter', JUPYTER, {})).to.deep.equal({ host: LOCAL_TOOL_HOST, port: 8888, baseUrl: '/' });
    expect(LOCAL_TOOL_HOST).to.equal('127.0.0.1');
  });

  it('--port moves the tool; the session gives its internalPath without pathToOpen', () => {
    expect(toolPlace('jupyter', JUPYTER, { port: 40123, session: { ...SESSION, pathToOpen: 'notebooks/a.ipynb' } }))
      .to.deep.equal({ host: '127.0.0.1', port: 40123, baseUrl: '/ada/churn/notebookSession/7/' });
  });

  it('session values are encoded as one segment each, as run-spec resolves them', () => {
    expect(toolPlace('jupyter', JUPYTER, { session: { ...SESSION, projectName: 'q?a b' } }).baseUrl).to.equal('/ada/q%3Fa%20b/notebookSession/7/');
    expect(() => toolPlace('jupyter', JUPYTER, { session: { ...SESSION, runId: '../x' } })).to.throw('must be one path segment');
  });

  it('a run spec\'s tool, resolved earlier for no session, is resolved afresh', () => {
    const fromSpec = { ...JUPYTER, missing: ['ownerUsername', 'projectName', 'sessionPathComponent', 'runId'] };
    expect(toolPlace('jupyter', fromSpec, { session: SESSION }).baseUrl).to.equal('/ada/churn/notebookSession/7/');
  });

  it('a session lacking a placeholder the path uses is refused, naming it', () => {
    expect(() => toolPlace('jupyter', JUPYTER, { session: { ownerUsername: 'ada' } }))
      .to.throw("workspace tool jupyter's path needs --session projectName=…, --session sessionPathComponent=…, --session runId=…");
  });

  it('a proxy that rewrites paths (rewrite: true) leaves the tool at /; a tool without httpProxy gets no port', () => {
    expect(toolPlace('rs', { ...JUPYTER, httpProxy: { ...JUPYTER.httpProxy!, rewrite: true } }, { session: SESSION }).baseUrl).to.equal('/');
    expect(toolPlace('shell', { title: 'A shell', start: ['sh'] }, {})).to.deep.equal({ host: '127.0.0.1', baseUrl: '/' });
  });

  it('the variables carrying it, and the start command seeing them in the lifecycle', async () => {
    const vars = toolVariables({ host: '127.0.0.1', port: 40123, baseUrl: '/ada/' });
    expect(vars).to.deep.equal([
      { name: 'ENVCTL_TOOL_HOST', value: '127.0.0.1' }, { name: 'ENVCTL_TOOL_PORT', value: '40123' }, { name: 'ENVCTL_TOOL_BASE_URL', value: '/ada/' },
    ]);
    const env = check({ 'environments/e.yaml': yaml('owner: "@acme/p"') }).environments[0]!;
    const spec = renderRunSpec(env, [], `registry.example/envctl/e@sha256:${'a'.repeat(64)}`, 1);
    const dir = await tempDir('envctl-run-tool-');
    try {
      const script = lifecycleScript(spec, { command: ['sh', '-c', 'echo "$ENVCTL_TOOL_HOST:$ENVCTL_TOOL_PORT$ENVCTL_TOOL_BASE_URL"'], projectDir: dir });
      const result = await execa('/bin/sh', ['-c', script], { env: Object.fromEntries(vars.map((v) => [v.name, v.value])) });
      expect(result.stdout).to.equal('127.0.0.1:40123/ada/');
    } finally {
      await removeDir(dir);
    }
  });
});

describe('run --tool: the CLI\'s refusals', () => {
  it('--port and --session only with --tool, and --port only as a port number (usage, exit 2)', async () => {
    const dir = await tempDir('envctl-run-tool-');
    try {
      const noTool = await runEnvctl(dir, ['run', 'e', '--port', '9000']);
      expect(noTool.code).to.equal(2);
      expect(noTool.err).to.contain('--port and --session are for a workspace tool: give --tool NAME');
      expect((await runEnvctl(dir, ['run', 'e', '--session', 'runId=1'])).err).to.contain('give --tool NAME');
      for (const bad of ['0', '65536', '80a', '-1', '08080']) {
        const r = await runEnvctl(dir, ['run', 'e', '--tool', 'jupyter', `--port=${bad}`]);
        expect(r.code, bad).to.equal(2);
        expect(r.err).to.contain('--port takes a port number, 1 to 65535');
      }
      const session = await runEnvctl(dir, ['run', 'e', '--tool', 'jupyter', '--session', 'colour=red']);
      expect(session.code).to.equal(2);
      expect(session.err).to.contain('--session takes KEY=VALUE');
    } finally {
      await removeDir(dir);
    }
  });
});
