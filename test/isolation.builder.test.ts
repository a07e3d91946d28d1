/**
 * RUN steps cannot reach the host. A static program does the classic
 * chroot() escape (chroot into a subfolder, walk up from the working
 * directory left outside it, chroot there) and tries to read a marker file
 * placed on the host. In an OCI container (isolation: oci, the default) it
 * finds its own root; in a bare chroot (isolation: chroot) it reads the
 * marker, which is why that setting warns on every sync.
 *
 * Before that, a shell step tries the other ways out: the host's root
 * through /proc/1/root, the host's /tmp (where the marker and the
 * registry login live), the login file by name, the caller's environment,
 * and writing next to the marker. Under oci none of it reaches the host.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLedger } from '../src/git/ledger.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'envctl.js');
const ESCAPE_C = join(ROOT, 'test', 'fixtures', 'chroot-escape.c');

describe('isolation: a RUN step that tries to leave the build', function () {
  this.timeout(300_000);
  let port: number;
  let registry: RunningRegistry;
  let registryData: string;
  let markerDir: string;
  let marker: string;
  let secret: string;
  const repos: string[] = [];

  before(async () => {
    port = await freePort();
    registryData = await tempDir('envctl-registry-');
    registry = await startRegistry(registryData, port);
    await pushBusybox(`127.0.0.1:${port}/test/busybox:1`);
    markerDir = await tempDir('envctl-marker-');
    marker = join(markerDir, 'host-secret');
    secret = `host-only-${randomBytes(6).toString('hex')}`;
    await writeFile(marker, secret);
    await writeFile(join(markerDir, unlisted), '');
  });
  after(async () => {
    await registry.stop();
    for (const d of [registryData, markerDir, ...repos]) await removeDir(d);
  });

  // A file of the host's /tmp that no step names: only a listing of the host's folder shows it.
  const unlisted = `unlisted-${randomBytes(6).toString('hex')}`;
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const login = Buffer.from(`builder:${password}`).toString('base64');

  /**
   * One shell step, always succeeding, printing whatever it reaches. The
   * step's words name the isolation so the layer cache keeps the runs apart.
   */
  function probes(isolation: string): string {
    const m = JSON.stringify(marker).slice(1, -1);
    const d = JSON.stringify(markerDir).slice(1, -1);
    return [
      `echo probing under ${isolation}`,
      `cat /proc/1/root${m} ${m}`,
      `ls /tmp/envctl-marker-* /proc/1/root/tmp/envctl-marker-*`,
      `cat /tmp/envctl-auth-*/auth.json /proc/1/root/tmp/envctl-auth-*/auth.json /proc/1/root/run/containers/*/auth.json`,
      `env`,
      `echo written > ${d}/from-${isolation}`,
      `echo written > /proc/1/root${d}/via-proc-${isolation}`,
      'true',
    ].map((c) => `${c} 2>&1`).join('; ');
  }

  /** A repository with one environment that runs the escape against the marker, synced by the CLI. */
  async function syncWith(isolation: 'oci' | 'chroot') {
    const dir = await tempDir('envctl-isolation-');
    repos.push(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    await mkdir(join(dir, 'environments', 'escape'), { recursive: true });
    await execa('gcc', ['-static', '-O1', '-o', join(dir, 'environments', 'escape', 'escape'), ESCAPE_C]);
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: "127.0.0.1:${port}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }', `isolation: ${isolation}`),
      '.gitignore': '.envctl/\n',
      'environments/escape/environment.yaml': yaml('owner: a', 'instructions: |', '  COPY escape /escape', // The isolation is named in the step so the layer cache (which does not key on isolation) cannot serve one run's step to the other.
      `  RUN ${probes(isolation)}`,
      `  RUN ["/escape", ${JSON.stringify(marker)}, "${isolation}"]`),
    }, 'an environment that tries to leave');
    const run = await execa(process.execPath, [BIN, 'sync'], { cwd: dir, reject: false, env: { CI: 'true', ENVCTL_REGISTRY_USERNAME: 'builder', ENVCTL_REGISTRY_PASSWORD: password } });
    const { ledger } = await readLedger(dir, 'envctl-state');
    const record = ledger.get('escape')!.builds.at(-1)!;
    const log = record.log ? await readFile(join(dir, record.log), 'utf8') : '';
    return { run, record, log };
  }

  it('isolation: oci (the default) keeps it in the container: the host marker is not visible and the build succeeds', async () => {
    const { run, record, log } = await syncWith('oci');
    expect(log).to.contain('not visible:');
    expect(log).to.contain('probing under oci');
    expect(log).to.not.contain(secret);
    expect(log).to.not.contain(unlisted);
    expect(log).to.not.contain(password);
    expect(log).to.not.contain(login);
    expect((await readdir(markerDir)).sort()).to.deep.equal(['host-secret', unlisted]);
    expect(record.status, run.stderr).to.equal('succeeded');
    expect(run.stderr).to.not.contain('warning');
  });

  it('isolation: chroot lets it out to the host marker, and sync warns about it', async () => {
    const { run, record, log } = await syncWith('chroot');
    expect(record.status).to.equal('failed');
    expect(log).to.contain(`VISIBLE ${marker}: ${secret}`);
    expect(run.stderr).to.contain('warning: isolation: chroot');
  });
});
