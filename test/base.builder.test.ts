/** envctl base: a Debian root from debootstrap becomes the default image, and environments build on it with apt tools inside. */
import { expect } from 'chai';
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from '../src/git/ledger.js';
import { activeBuild } from '../src/ledger/model.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';

// A port of this run's own: two test runs on one machine never share a registry.
const PORT = await freePort();
const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');

/** A repository with one environment, `tools`, on the embedded registry's debootstrap default base. */
async function repoOnDebian(dir: string, port: number, step: string): Promise<void> {
  await git(dir, 'init', '-q', '-b', 'main');
  await commit(dir, {
    'envctl.yaml': yaml(`registry: { address: embedded, embeddedPort: ${port} }`, 'defaultBase:', '  image: "{registry}/envctl/debian:bookworm"', '  debootstrap: { suite: bookworm, variant: minbase, mirror: system }'),
    'environments/tools.yaml': yaml('owner: a', 'instructions: |', step),
    '.gitignore': '.envctl/\n',
  }, 'tools');
}

describe('envctl base: the default image from debootstrap', function () {
  this.timeout(600_000);
  let dir: string;
  let registry: RunningRegistry;

  before(async () => {
    dir = await tempDir('envctl-base-');
    registry = await startRegistry(dir, PORT);
    await repoOnDebian(dir, PORT, '  RUN apt-get --version | head -1 > /apt-version && test -x /usr/sbin/policy-rc.d');
  });
  after(async () => {
    await registry.stop();
    await removeDir(dir);
  });

  it('makes and pushes the base once, then says it exists; an environment builds on it', async () => {
    const made = await execa(process.execPath, [BIN, 'base'], { cwd: dir, reject: false });
    expect(made.exitCode, made.stderr).to.equal(0);
    expect(made.stdout).to.match(new RegExp(`^127\\.0\\.0\\.1:${PORT}/envctl/debian:bookworm@sha256:[0-9a-f]{64}$`));
    const again = await execa(process.execPath, [BIN, 'base'], { cwd: dir });
    expect(again.stdout).to.contain('exists');
    const synced = await execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false });
    expect(synced.exitCode, synced.stdout + synced.stderr).to.equal(0);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(activeBuild(ledger.get('tools'))?.baseDigest).to.equal(made.stdout.split('@')[1]);
  });

  it('a sync whose embedded registry lacks the default base makes it first, instead of failing every build on it', async () => {
    const other = await tempDir('envctl-base-sync-');
    try {
      const port = await freePort();
      await repoOnDebian(other, port, '  RUN test -x /usr/sbin/policy-rc.d');
      const synced = await execa(process.execPath, [BIN, 'sync'], { cwd: other, reject: false });
      expect(synced.exitCode, synced.stderr).to.equal(0);
      expect(synced.stderr).to.contain(`the default base 127.0.0.1:${port}/envctl/debian:bookworm is not in the embedded registry: making it`);
      const { ledger } = await readLedger(other, 'envctl-state');
      expect(ledger.get('tools')!.builds.map((b) => b.status)).to.deep.equal(['succeeded']);
      expect(activeBuild(ledger.get('tools'))?.baseDigest).to.match(/^sha256:[0-9a-f]{64}$/);
    } finally {
      await removeDir(other);
    }
  });
});
