/**
 * Image tests for real: sync builds with buildah into a loopback registry on
 * a busybox base, then runs each revision's `tests:` in its image. A
 * revision whose test fails is recorded as failure kind `test` with its
 * output's tail, its image pushed but not active; the next passing revision
 * becomes active. Also: an expect that does not match, a timeout, tools
 * whose start is missing or not executable, a tool that never listens and
 * one that does (busybox httpd on a free port), and a reused image that
 * must still pass the tests its revision added.
 */
import { expect } from 'chai';
import { createServer } from 'node:net';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readLedger } from '../src/git/ledger.js';
import { loadConfig } from '../src/config/index.js';
import type { BuildRecord } from '../src/ledger/model.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { sync } from '../src/sync/index.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { runEnvctl } from './fixtures/cli.js';
import { giveToRootless, runRootless } from './fixtures/rootless.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';

// Ports of this run's own: two test runs on one machine never share a registry or a tool's port.
const PORT = await freePort();
const TOOL_PORT = await freePort();
const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');
const CONFIG_TEXT = yaml(`registry: { address: "127.0.0.1:${PORT}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }');
const config = loadConfig(new TextEncoder().encode(CONFIG_TEXT)).config;

/** An environment whose image has a user `tester` and a file /a, with the given extra lines (tests:, workspaceTools:). */
const env = (run: string, ...more: string[]) => yaml(
  'owner: a',
  'username: tester',
  'instructions: |',
  "  RUN mkdir -p /etc /home/tester && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'tester:x:1000:1000::/home/tester:/bin/sh' >> /etc/passwd && chown 1000:1000 /home/tester",
  `  RUN ${run}`,
  ...more,
);

const PASSING = [
  'tests:',
  '  commands:',
  '    - test -f /a',
  '    - { name: as the user, run: [id, -un], expect: "^tester$" }',
];

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1' }, () => server.close(() => resolve(true)));
  });
}

describe('sync: image tests before a revision goes active', function () {
  this.timeout(300_000);
  let registry: RunningRegistry;
  let dir: string;
  let registryData: string;

  const syncOne = async (files: Record<string, string>, message: string): Promise<BuildRecord> => {
    await commit(dir, files, message);
    const result = await sync(dir, config);
    expect(result.records).to.have.length(1);
    return result.records[0]!;
  };
  const active = async () => (await readLedger(dir, 'envctl-state')).ledger.get('a')!.active;

  before(async () => {
    registryData = await tempDir('envctl-registry-');
    registry = await startRegistry(registryData, PORT);
    await pushBusybox(`127.0.0.1:${PORT}/test/busybox:1`);
    dir = await tempDir('envctl-image-tests-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, { 'envctl.yaml': CONFIG_TEXT, '.gitignore': '.envctl/\n' }, 'config');
  });
  after(async () => {
    await registry.stop();
    await removeDir(dir);
    await removeDir(registryData);
  });

  it('tests that pass, run as the environment\'s user: the revision becomes active, the log shows each test', async () => {
    const r = await syncOne({ 'environments/a.yaml': env('echo one > /a', ...PASSING) }, 'a: one');
    expect([r.revision, r.status, r.failure]).to.deep.equal([1, 'succeeded', undefined]);
    expect(await active()).to.equal(1);
    const log = await readFile(join(dir, r.log!), 'utf8');
    expect(log).to.contain('envctl test: as the user: passed');
    expect(log).to.contain('envctl test: test -f /a: passed');
  });

  it('a failing test: recorded as failure kind test with its output\'s tail, the image pushed, the previous revision stays active, not retried; what stands on it is skipped', async () => {
    await commit(dir, {
      'environments/a.yaml': env('echo two > /a', ...PASSING, '    - { name: fails-loudly, run: "echo something broke >&2; exit 2" }'),
      'environments/b.yaml': yaml('owner: a', 'base: { environment: a }', 'instructions: |', '  RUN cat /a'),
    }, 'a: two, a failing test; b on a');
    const [r, child] = (await sync(dir, config)).records;
    expect(r!.status).to.equal('failed');
    expect(r!.failure).to.deep.equal({ kind: 'test', code: 'test-failed' });
    expect(r!.reason).to.equal('test "fails-loudly" failed: exit code 2');
    expect(r!.logTail).to.contain('something broke');
    expect(r!.digest).to.match(/^sha256:[0-9a-f]{64}$/);
    const res = await fetch(`http://127.0.0.1:${PORT}/v2/envctl/a/manifests/2`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.headers.get('docker-content-digest')).to.equal(r!.digest);
    expect(await active()).to.equal(1);
    expect([child!.status, child!.failure?.kind, child!.reason]).to.deep.equal(['failed', 'skipped', 'skipped: its base a failed its image tests']);
    // a is not tried again; b (skipped: retried) builds on a's active revision 1.
    const again = await sync(dir, config);
    expect(again.records.map((x) => [x.revision, x.status, x.baseDigest])).to.deep.equal([[1, 'succeeded', (await readLedger(dir, 'envctl-state')).ledger.get('a')!.builds.find((x) => x.revision === 1)!.digest]]);
    expect(await active()).to.equal(1);
    await git(dir, 'rm', '-q', 'environments/b.yaml');
    await git(dir, 'commit', '-q', '-m', 'b: gone');
  });

  it('an expect that does not match fails, naming the pattern; envctl sync says which test and exits 1', async () => {
    await commit(dir, { 'environments/a.yaml': env('echo three > /a', 'tests:', '  commands:', '    - { name: version, run: "echo version 1.2", expect: "^version 2" }') }, 'a: three');
    const cli = await runEnvctl(dir, ['sync']);
    expect(cli.code).to.equal(1);
    expect(cli.out).to.contain('[a@3] failed: test "version" failed: its output does not match /^version 2/');
    const r = (await readLedger(dir, 'envctl-state')).ledger.get('a')!.builds.at(-1)!;
    expect(r.revision).to.equal(3);
    expect([r.status, r.failure?.kind, r.reason]).to.deep.equal(['failed', 'test', 'test "version" failed: its output does not match /^version 2/']);
    expect(r.logTail).to.equal('version 1.2');
    expect(await active()).to.equal(1);
  });

  it('a command that outlives its timeout is stopped and fails', async () => {
    const r = await syncOne({
      'environments/a.yaml': env('echo four > /a', 'tests:', '  commands:', '    - { name: slow, run: "echo started; sleep 30", timeout: 1 }'),
    }, 'a: four');
    expect([r.status, r.failure?.kind, r.reason]).to.deep.equal(['failed', 'test', 'test "slow" failed: did not end within 1 s']);
    expect(r.logTail).to.contain('started');
  });

  it('the next revision whose tests pass becomes active', async () => {
    const r = await syncOne({ 'environments/a.yaml': env('echo five > /a', ...PASSING) }, 'a: five');
    expect([r.revision, r.status]).to.deep.equal([5, 'succeeded']);
    expect(await active()).to.equal(5);
  });

  it('a workspace tool whose start is missing fails its check, without tests: asking for it', async () => {
    const r = await syncOne({
      'environments/a.yaml': env('echo six > /a', 'workspaceTools:', '  t:', '    title: T', '    start: ["/opt/missing/start", "--port", "1"]'),
    }, 'a: six, a tool with no start');
    expect([r.status, r.failure?.kind]).to.deep.equal(['failed', 'test']);
    expect(r.reason).to.equal('test "tool t: start /opt/missing/start" failed: /opt/missing/start does not exist in the image');
    expect(await active()).to.equal(5);
  });

  it('a workspace tool whose start the user cannot execute fails its check', async () => {
    const r = await syncOne({
      'environments/a.yaml': env('echo seven > /a && echo "echo hi" > /start && chmod 644 /start', 'workspaceTools:', '  t:', '    title: T', '    start: ["/start"]'),
    }, 'a: seven, a tool start not executable');
    expect([r.status, r.failure?.kind]).to.deep.equal(['failed', 'test']);
    expect(r.reason).to.equal('test "tool t: start /start" failed: /start is not executable by tester');
  });

  it('with tools: true, a tool that never listens fails; one that answers HTTP passes and is stopped after', async () => {
    const silent = await syncOne({
      'environments/a.yaml': env('echo eight > /a', 'workspaceTools:', '  t:', '    title: T', '    start: ["/bin/sh", "-c", "sleep 600"]', `    httpProxy: { port: ${TOOL_PORT} }`, 'tests:', '  tools: { timeout: 2 }'),
    }, 'a: eight, a tool that never listens');
    expect([silent.status, silent.failure?.kind]).to.deep.equal(['failed', 'test']);
    expect(silent.reason).to.equal('test "tool t: HTTP" failed: no HTTP answer within 2 s');
    expect(await active()).to.equal(5);

    const serving = await syncOne({
      'environments/a.yaml': env('echo nine > /a && mkdir -p /srv && echo hello > /srv/index.html', 'workspaceTools:', '  t:', '    title: T', '    start: ["/bin/sh", "-c", "exec httpd -f -h /srv -p 127.0.0.1:$ENVCTL_TOOL_PORT"]', `    httpProxy: { port: ${TOOL_PORT} }`, 'tests:', '  tools: true'),
    }, 'a: nine, a tool that serves');
    expect([serving.revision, serving.status, serving.failure]).to.deep.equal([9, 'succeeded', undefined]);
    expect(await active()).to.equal(9);
    const log = await readFile(join(dir, serving.log!), 'utf8');
    expect(log).to.contain('envctl test: tool t: HTTP: passed');
    // The tool was told a free port of this machine's (ENVCTL_TOOL_PORT), not its httpProxy.port, which another run may hold.
    const told = Number(/ENVCTL_TOOL_PORT=(\d+); its httpProxy\.port is (\d+)/.exec(log)![1]);
    expect(told).to.not.equal(TOOL_PORT);
    // Stopped: the port is free again.
    expect(await portFree(told)).to.equal(true);
  });

  it('a revision that only adds a test reuses the image and must still pass it before it is active', async () => {
    const spec = (...tests: string[]) => env('echo nine > /a && mkdir -p /srv && echo hello > /srv/index.html', 'workspaceTools:', '  t:', '    title: T', '    start: ["/bin/sh", "-c", "exec httpd -f -h /srv -p 127.0.0.1:$ENVCTL_TOOL_PORT"]', `    httpProxy: { port: ${TOOL_PORT} }`, 'tests:', '  tools: true', ...tests);
    const r = await syncOne({ 'environments/a.yaml': spec('  commands:', '    - { name: wants b, run: "test -f /b" }') }, 'a: ten, tests only');
    expect([r.revision, r.builder, r.reusedFrom, r.status, r.failure?.kind]).to.deep.equal([10, 'reused', 9, 'failed', 'test']);
    expect(r.reason).to.equal('test "wants b" failed: exit code 1');
    expect(r.log).to.match(/^\.envctl\/logs\/a-10-/);
    expect(await active()).to.equal(9);
  });

  it('rootless, as a hosted runner\'s user: tests run in the user namespace, a tool answers on the host network, a failure is recorded', async () => {
    const root = await tempDir('envctl-image-tests-rootless-');
    const home = await tempDir('envctl-rootless-home-');
    const port = await freePort();
    try {
      await git(root, 'init', '-q', '-b', 'main');
      await commit(root, {
        'envctl.yaml': CONFIG_TEXT, '.gitignore': '.envctl/\n',
        'environments/good.yaml': env('echo good > /a && mkdir -p /srv && echo hello > /srv/index.html', 'workspaceTools:', '  t:', '    title: T', '    start: ["/bin/sh", "-c", "exec httpd -f -h /srv -p 127.0.0.1:$ENVCTL_TOOL_PORT"]', `    httpProxy: { port: ${port} }`, ...PASSING, '  tools: true'),
        'environments/bad.yaml': env('echo bad > /a', 'tests:', '  commands:', '    - { name: wants b, run: "test -f /b" }'),
      }, 'good and bad');
      await mkdir(join(home, 'run'), { recursive: true, mode: 0o700 });
      await giveToRootless([root, home]);
      const run = await runRootless(process.execPath, [BIN, 'sync'], { cwd: root, env: { HOME: home, XDG_RUNTIME_DIR: join(home, 'run') } });
      expect(run.exitCode, String(run.all)).to.equal(1);
      const { ledger } = await readLedger(root, 'envctl-state');
      const good = ledger.get('good')!.builds.at(-1)!;
      expect([good.status, ledger.get('good')!.active], String(run.all)).to.deep.equal(['succeeded', 1]);
      expect(await readFile(join(root, good.log!), 'utf8')).to.contain('envctl test: tool t: HTTP: passed');
      const bad = ledger.get('bad')!.builds.at(-1)!;
      expect([bad.status, bad.failure?.kind, bad.reason, ledger.get('bad')!.active]).to.deep.equal(['failed', 'test', 'test "wants b" failed: exit code 1', null]);
    } finally {
      await rm(join(home, 'run'), { recursive: true, force: true });
      await removeDir(root);
      await removeDir(home);
    }
  });
});

