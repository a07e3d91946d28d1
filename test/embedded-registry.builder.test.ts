/**
 * The embedded registry proves whose it is: two repositories on one machine
 * with the same embeddedPort, and a foreign server on the port. Real
 * docker-registry, loopback only, on a port of this run's own (freePort).
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { cp, readFile } from 'node:fs/promises';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { ensureEmbeddedRegistry, ID_HEADER, type RunningRegistry } from '../src/registry/embedded.js';
import { EnvctlError } from '../src/model/errors.js';
import { git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { freePort, removeDir, tempDir } from './helpers.js';

async function refusal(root: string, port: number): Promise<EnvctlError> {
  const got = await ensureEmbeddedRegistry(root, port).then((r) => r, (err: unknown) => err);
  if (!(got instanceof EnvctlError)) {
    if (got && typeof (got as RunningRegistry).stop === 'function') await (got as RunningRegistry).stop();
    expect.fail(`expected registry-port-taken, got ${got instanceof Error ? got.message : 'a registry'}`);
  }
  return got;
}

function expectPortTaken(err: EnvctlError, port: number): void {
  expect(err.toJSON()).to.deep.include({ kind: 'external', code: 'registry-port-taken', host: 'embedded registry' });
  expect(err.message).to.contain(`127.0.0.1:${port}`);
  expect(err.hint).to.contain('registry.embeddedPort').and.contain('envctl.yaml');
  expect(err.data).to.include({ port, setting: 'registry.embeddedPort' });
}

const idOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/v2/`)).headers.get(ID_HEADER);

describe('embedded registry: one machine, several repositories', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  const repository = async () => {
    const dir = await tempDir('envctl-embedded-');
    dirs.push(dir);
    await git(dir, 'init', '-q', '-b', 'main');
    return dir;
  };
  after(async () => {
    for (const dir of dirs) await removeDir(dir);
  });

  it('a second repository on the same embeddedPort is refused, naming the port and the setting; the first reuses its own', async () => {
    const port = await freePort();
    const first = await repository();
    const second = await repository();
    const registry = await startRegistry(first, port);
    try {
      const id = (await readFile(join(first, '.envctl', 'registry', 'id'), 'utf8')).trim();
      expect(id).to.match(/^[0-9a-f]{32}$/);
      expect(await idOf(port)).to.equal(id);

      const err = await refusal(second, port);
      expectPortTaken(err, port);
      expect(err.data).to.include({ answeredBy: 'envctl' });
      expect(err.message).to.contain(first);
      // The second repository got an id of its own, and the first's registry was left alone.
      expect((await readFile(join(second, '.envctl', 'registry', 'id'), 'utf8')).trim()).to.match(/^[0-9a-f]{32}$/).and.not.equal(id);
      expect(await idOf(port)).to.equal(id);

      const again = await ensureEmbeddedRegistry(first, port);
      expect(again).to.include({ address: `127.0.0.1:${port}`, started: false });
      await again.stop();
      expect(await idOf(port)).to.equal(id, 'stopping a reused registry leaves it running');
    } finally {
      await registry.stop();
    }
    // Once the first's registry is gone, the second starts its own there, with its own id; the first's id stays as it was made.
    const own = await startRegistry(second, port);
    try {
      expect(await idOf(port)).to.equal((await readFile(join(second, '.envctl', 'registry', 'id'), 'utf8')).trim());
    } finally {
      await own.stop();
    }
  });

  it('a copy of a repository (its .envctl/registry/id copied along) is not taken for the original', async () => {
    const port = await freePort();
    const first = await repository();
    const copy = await repository();
    const registry = await startRegistry(first, port);
    try {
      await cp(join(first, '.envctl'), join(copy, '.envctl'), { recursive: true });
      expectPortTaken(await refusal(copy, port), port);
    } finally {
      await registry.stop();
    }
  });

  for (const status of [200, 401]) {
    it(`a server answering ${status} on /v2/ that is not an envctl registry is refused the same way`, async () => {
      const port = await freePort();
      const root = await repository();
      const server: Server = createServer((req, res) => {
        res.writeHead(req.url === '/v2/' ? status : 404, { 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
      });
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
      try {
        const err = await refusal(root, port);
        expectPortTaken(err, port);
        expect(err.data).to.include({ answeredBy: 'other' });
        expect(err.message).to.contain('not this repository\'s embedded registry');
      } finally {
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections(); // fetch's kept-alive connection would hold close() up
        });
      }
    });
  }

  it('a server that takes the connection but never answers HTTP is refused too', async () => {
    const port = await freePort();
    const root = await repository();
    // Destroyed, not ended: a half-closed socket the client keeps open would hold server.close() up.
    const server = createTcpServer((socket) => socket.destroy());
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    try {
      expectPortTaken(await refusal(root, port), port);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
