/**
 * Stopping `envctl run` for real, with buildah: Ctrl-C (SIGINT to the run's
 * process group, as a terminal sends it) and SIGTERM to envctl alone both
 * reach the lifecycle script, which stops the command and runs post-run;
 * the exit code is the script's (130, 143), and no working container is
 * left. The tool's start is told where to listen (ENVCTL_TOOL_HOST,
 * ENVCTL_TOOL_PORT from --port) and under which path (ENVCTL_TOOL_BASE_URL
 * from --session, without pathToOpen), and envctl says the address. buildah, given such a signal itself, kills the container outright:
 * post-run would never run (builder/container.ts).
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveStorage, storageArgs } from '../src/builder/storage.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';

const PORT = await freePort();
const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');

describe('run: Ctrl-C and SIGTERM stop the command and still run post-run', function () {
  this.timeout(300_000);
  let dir: string;
  let registry: RunningRegistry;
  const order = () => readFile(join(dir, 'order.txt'), 'utf8').catch(() => '');

  before(async () => {
    dir = await tempDir('envctl-run-stop-');
    await git(dir, 'init', '-q', '-b', 'main');
    registry = await startRegistry(dir, PORT);
    await pushBusybox(`127.0.0.1:${PORT}/test/busybox:1`);
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: embedded, embeddedPort: ${PORT} }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }'),
      '.gitignore': '.envctl/\norder.txt\n',
      'environments/waiter.yaml': yaml(
        'owner: "@acme/data"',
        'instructions: "RUN true"',
        'scripts:',
        '  postRun: "echo post-run >> /mnt/project/order.txt"',
        'workspaceTools:',
        '  waiter:',
        '    title: Waits',
        // It says what envctl run told it; its port from the YAML is never listened on, so two runs cannot collide.
        '    start: ["/bin/sh", "-c", "echo started $ENVCTL_TOOL_HOST:$ENVCTL_TOOL_PORT$ENVCTL_TOOL_BASE_URL >> /mnt/project/order.txt; sleep 3600"]',
        '    httpProxy: { port: 8888, internalPath: "/{{runId}}/{{#if pathToOpen}}tree/{{pathToOpen}}{{/if}}" }',
      ),
    }, 'waiter');
    const synced = await execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false, all: true });
    expect(synced.exitCode, synced.all).to.equal(0);
  });
  after(async () => {
    await registry.stop();
    await removeDir(dir);
  });

  for (const [how, signal, code] of [['Ctrl-C (SIGINT to the process group)', 'SIGINT', 130], ['SIGTERM to envctl', 'SIGTERM', 143]] as const) {
    it(`${how}: the tool stops, post-run runs, exit ${code}, no container left`, async () => {
      await rm(join(dir, 'order.txt'), { force: true });
      const port = await freePort();
      const child = execa(process.execPath, [BIN, 'run', 'waiter', '--tool', 'waiter', '--port', String(port), '--session', 'runId=7', '--session', 'pathToOpen=a.ipynb'], { cwd: dir, reject: false, all: true, detached: true });
      const started = `started 127.0.0.1:${port}/7/\n`;
      let exited = false;
      const done = child.then((r) => { exited = true; return r; });
      for (let i = 0; i < 120 && !exited && (await order()) !== started; i++) await new Promise((r) => setTimeout(r, 500));
      expect(await order(), 'the tool started, told where to listen and under which path').to.equal(started);
      process.kill(signal === 'SIGINT' ? -child.pid! : child.pid!, signal);
      const result = await done;
      expect(result.exitCode, result.all).to.equal(code);
      expect(await order()).to.equal(`${started}post-run\n`);
      expect(result.stderr).to.contain(`envctl run: waiter answers on http://127.0.0.1:${port}/7/ once started`);
      const storage = storageArgs((await resolveStorage('auto')).driver);
      const containers = await execa('buildah', [...storage, 'containers', '--format', '{{.ContainerName}} {{.ImageName}}']);
      expect(containers.stdout.split('\n').filter((l) => l.includes(`127.0.0.1:${PORT}/envctl/waiter`))).to.deep.equal([]);
    });
  }
});
