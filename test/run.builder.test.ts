/**
 * The run side for real: environments built by sync with buildah into the
 * repository's embedded registry, then `envctl run-spec` (JSON and a
 * Kubernetes Pod whose user comes from the image's own /etc/passwd) and
 * `envctl run` starting a container with the project folder mounted. Each
 * lifecycle script appends a line to a file in the project folder, proving
 * the order; a secret given at run time reaches the container and never the
 * image. Last, `envctl run` with the registry stopped and the image gone
 * from local storage: it starts the registry for the pull, stops it after,
 * and a local image under the same name and tag does not stand in.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { chmod, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { resolveStorage, storageArgs } from '../src/builder/storage.js';
import { readLedger } from '../src/git/ledger.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';

// A port of this run's own: two test runs on one machine never share a registry.
const PORT = await freePort();
const REGISTRY = `127.0.0.1:${PORT}`;
const BIN = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'envctl.js');
const SECRET = 's3cr3t-value-4711';
const line = (what: string) => `echo ${what} >> /mnt/project/order.txt`;

const RUNNER = yaml(
  'owner: "@acme/data"',
  'instructions: |',
  // The image brings its own pip; it says what it installed, so the order shows without a network.
  `  RUN printf '#!/bin/sh\\necho "requirements installed ($3)" >> /mnt/project/order.txt\\n' > /bin/pip && chmod +x /bin/pip && touch /marker`,
  'scripts:',
  `  preSetup: "${line('pre-setup')}"`,
  `  postSetup: "${line('post-setup')}"`,
  `  preRun: "${line('pre-run')}"`,
  `  postRun: "${line('post-run')}"`,
  'variables:',
  '  GREETING: hello',
  '  DB_PASSWORD: { secret: true }',
);
const AS_ADA = yaml(
  'owner: "@acme/data"',
  'base: { environment: runner }',
  'username: ada',
  'instructions: |',
  "  RUN cat /marker && mkdir -p /etc && echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'ada:x:1001:1002::/home/ada:/bin/sh' >> /etc/passwd",
  'workspaceTools:',
  '  shell:',
  '    title: A shell',
  '    start: ["/bin/sh", "-c", "sleep 3600"]',
  '    httpProxy: { port: 7681, internalPath: "/{{ownerUsername}}/{{projectName}}/{{runId}}/" }',
);

describe('run: run-spec and a local container from a built image', function () {
  this.timeout(300_000);
  let registry: RunningRegistry;
  let dir: string;
  const envctl = (args: string[], env: Record<string, string> = {}) => execa(process.execPath, [BIN, ...args], { cwd: dir, reject: false, env });

  before(async () => {
    dir = await tempDir('envctl-run-');
    await git(dir, 'init', '-q', '-b', 'main');
    // The repository's own embedded registry (its data under .envctl/registry): sync and run find it running and leave it so.
    registry = await startRegistry(dir, PORT);
    await pushBusybox(`${REGISTRY}/test/busybox:1`);
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: embedded, embeddedPort: ${PORT} }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }'),
      '.gitignore': '.envctl/\nprojects/churn/order.txt\nprojects/churn/secret-seen\n',
      'environments/runner.yaml': RUNNER,
      'environments/as-ada.yaml': AS_ADA,
      'projects/churn/project.yaml': yaml('owner: "@acme/data"', 'environment: runner', `command: "${line('command')}; echo \\"$GREETING $DB_PASSWORD\\" > /mnt/project/secret-seen"`),
      'projects/churn/requirements.txt': 'numpy\n',
    }, 'runner, as-ada and the churn project');
    const synced = await envctl(['sync']);
    expect(synced.exitCode).to.equal(0, String(synced.stderr));
  });
  after(async () => {
    await registry.stop();
    await removeDir(dir);
  });

  it('run-spec for a project: the image by digest from the ledger, secrets by name only, the lifecycle', async () => {
    const out = await envctl(['run-spec', 'churn', '--session', 'ownerUsername=ada']);
    expect(out.exitCode).to.equal(0, out.stderr);
    const spec = JSON.parse(out.stdout);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(spec).to.include({ project: 'churn', environment: 'runner', revision: 1, image: `${REGISTRY}/envctl/runner@${ledger.get('runner')!.builds[0]!.digest}` });
    expect(spec.variables).to.deep.equal([{ name: 'GREETING', value: 'hello' }, { name: 'DB_PASSWORD', secret: true }]);
    expect(spec.lifecycle.start.map((s: { step: string }) => s.step)).to.deep.equal(['preSetup', 'requirements', 'postSetup', 'preRun', 'command']);
    expect(spec.lifecycle.stop.map((s: { step: string }) => s.step)).to.deep.equal(['postRun']);
  });

  it('a Pod for a workspace session runs as the uid the image\'s /etc/passwd gives the user, on the tool\'s port', async () => {
    const out = await envctl(['run-spec', 'as-ada', '--format', 'k8s', '--tool', 'shell', '--session', 'ownerUsername=ada', '--session', 'projectName=churn', '--session', 'runId=7']);
    expect(out.exitCode).to.equal(0, out.stderr);
    const pod = load(out.stdout) as { metadata: { name: string }; spec: { containers: Record<string, any>[] } };
    const c = pod.spec.containers[0]!;
    expect(pod.metadata.name).to.equal('as-ada-shell');
    expect(c.securityContext).to.deep.equal({ runAsUser: 1001, runAsGroup: 1002 });
    expect(c.ports).to.deep.equal([{ name: 'shell', containerPort: 7681, protocol: 'TCP' }]);
    expect(c.image).to.match(new RegExp(`^${REGISTRY}/envctl/as-ada@sha256:[0-9a-f]{64}$`));
    expect(c.env).to.deep.include({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'as-ada-secrets', key: 'DB_PASSWORD' } } });
  });

  it('runs the project in a container in the product\'s order, with the secret given at run time', async () => {
    const result = await envctl(['run', 'churn'], { DB_PASSWORD: SECRET });
    expect(result.exitCode).to.equal(0, result.stderr);
    const project = join(dir, 'projects', 'churn');
    expect(await readFile(join(project, 'order.txt'), 'utf8')).to.equal(
      ['pre-setup', 'requirements installed (requirements.txt)', 'post-setup', 'pre-run', 'command', 'post-run', ''].join('\n'));
    expect(await readFile(join(project, 'secret-seen'), 'utf8')).to.equal(`hello ${SECRET}\n`);
  });

  it('an environment that runs as a user gets the secrets file as that user\'s alone (mode 0400), and the lifecycle reads it as that user', async () => {
    const empty = await tempDir('envctl-run-mount-');
    // A project folder as checkouts have them: others may enter it (the user's uid is not this one's).
    await chmod(empty, 0o755);
    try {
      const result = await envctl(['run', 'as-ada', '--mount', empty, '--', '/bin/sh', '-c', 'echo "uid $(id -u)"; stat -c "secrets %u:%g %a" /run/envctl/secrets.env; cat /run/envctl/secrets.env > /dev/null && echo "readable by its owner"; echo "seen $DB_PASSWORD"'], { DB_PASSWORD: SECRET });
      expect(result.exitCode).to.equal(0, result.stderr);
      expect(result.stdout).to.contain('uid 1001');
      // Owner read only: no other uid in the container (or on the host) can read it.
      expect(result.stdout).to.contain('secrets 1001:1002 400');
      expect(result.stdout).to.contain('readable by its owner');
      expect(result.stdout).to.contain(`seen ${SECRET}`);
    } finally {
      await removeDir(empty);
    }
  });

  it('refuses to run without the secret\'s value, naming it (exit 2)', async () => {
    const result = await envctl(['run', 'churn']);
    expect(result.exitCode).to.equal(2);
    expect(result.stderr).to.contain('needs the secret variable DB_PASSWORD');
  });

  it('the secret is in neither the image config nor any layer', async () => {
    const { ledger } = await readLedger(dir, 'envctl-state');
    for (const name of ['runner', 'as-ada']) {
      const digest = ledger.get(name)!.builds[0]!.digest!;
      const base = `http://${REGISTRY}/v2/envctl/${name}`;
      const manifest = await (await fetch(`${base}/manifests/${digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as { config: { digest: string }; layers: { digest: string; mediaType: string }[] };
      const config = await (await fetch(`${base}/blobs/${manifest.config.digest}`)).text();
      expect(config).to.contain('GREETING=hello');
      expect(config).to.not.contain(SECRET);
      for (const layer of manifest.layers) {
        const bytes = Buffer.from(await (await fetch(`${base}/blobs/${layer.digest}`)).arrayBuffer());
        const plain = layer.mediaType.includes('gzip') ? gunzipSync(bytes) : bytes;
        expect(plain.includes(SECRET)).to.equal(false);
      }
    }
  });

  it('pairs an image with the base revision it was built on, not the base\'s newer active revision', async () => {
    // runner 2 drops /marker, so as-ada's rebuild on it fails: as-ada's image still stands on runner 1.
    await commit(dir, { 'environments/runner.yaml': RUNNER.replace(' && touch /marker', '').replace('GREETING: hello', 'GREETING: bye') }, 'runner: bye');
    expect((await envctl(['sync'])).exitCode).to.equal(1);
    const { ledger } = await readLedger(dir, 'envctl-state');
    expect(ledger.get('runner')!.active).to.equal(2);
    const spec = JSON.parse((await envctl(['run-spec', 'as-ada'])).stdout);
    expect(spec.image).to.equal(`${REGISTRY}/envctl/as-ada@${ledger.get('as-ada')!.builds.find((b) => b.status === 'succeeded')!.digest}`);
    expect(spec.variables).to.deep.include({ name: 'GREETING', value: 'hello' });
  });

  it('run (and run-spec\'s Pod) start the embedded registry when it is not running, stop it after, and find the image by digest only', async () => {
    await registry.stop();
    await expectNothingOnPort();
    const { ledger } = await readLedger(dir, 'envctl-state');
    const digest = ledger.get('runner')!.builds.find((b) => b.revision === ledger.get('runner')!.active)!.digest!;
    const storage = storageArgs((await resolveStorage('auto')).driver);
    const buildah = (...args: string[]) => execa('buildah', [...storage, ...args], { reject: false });
    // Gone from local storage, whatever name or tag it had: the run has to pull it.
    const repo = `${REGISTRY}/envctl/runner`;
    const local = (await buildah('images', '--format', '{{.Name}} {{.ID}}')).stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter(([name]) => name === repo);
    for (const id of new Set(local.map(([, id]) => id!))) expect((await buildah('rmi', '--force', id)).exitCode).to.equal(0);
    expect((await buildah('inspect', '--type', 'image', `${repo}@${digest}`)).exitCode).to.not.equal(0);
    // What another clone's build could leave under this image's name and tags: an empty image, with no /bin/sh to run.
    const impostor = (await buildah('from', 'scratch')).stdout.trim();
    expect((await buildah('commit', '--rm', impostor, `${repo}:2`)).exitCode).to.equal(0);
    expect((await buildah('tag', `${repo}:2`, `${repo}:latest`)).exitCode).to.equal(0);
    try {
      const project = join(dir, 'projects', 'churn');
      await rm(join(project, 'order.txt'), { force: true });
      const result = await envctl(['run', 'churn'], { DB_PASSWORD: SECRET });
      expect(result.exitCode).to.equal(0, result.stderr);
      expect(await readFile(join(project, 'order.txt'), 'utf8')).to.equal(
        ['pre-setup', 'requirements installed (requirements.txt)', 'post-setup', 'pre-run', 'command', 'post-run', ''].join('\n'));
      expect(await readFile(join(project, 'secret-seen'), 'utf8')).to.equal(`bye ${SECRET}\n`);
      await expectNothingOnPort();
      // run-spec's Pod reads the user's uid from the image in the registry: started for that too, and stopped.
      const pod = await envctl(['run-spec', 'as-ada', '--format', 'k8s', '--tool', 'shell']);
      expect(pod.exitCode).to.equal(0, pod.stderr);
      expect((load(pod.stdout) as { spec: { containers: { securityContext: unknown }[] } }).spec.containers[0]!.securityContext).to.deep.equal({ runAsUser: 1001, runAsGroup: 1002 });
      await expectNothingOnPort();
    } finally {
      await buildah('rmi', '--force', `${repo}:2`, `${repo}:latest`);
    }
  });
});

/** Nothing answers on the registry's port: the connection is refused. */
async function expectNothingOnPort(): Promise<void> {
  const code = await fetch(`http://${REGISTRY}/v2/`).then(() => 'answered', (err: { cause?: { code?: string } }) => err.cause?.code);
  expect(code).to.equal('ECONNREFUSED');
}
