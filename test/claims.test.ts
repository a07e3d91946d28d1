/**
 * Claims under contention: several processes claiming one environment at
 * once, with and without a dead holder's claim left behind, end with
 * exactly one holder; a release never drops another process's claim.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claim, readClaim, release } from '../src/store/claims.js';
import { removeDir, tempDir } from './helpers.js';

const CLAIMS = fileURLToPath(new URL('../src/store/claims.js', import.meta.url));

/**
 * A process that claims revision `revision` of x, says whether it got it, and
 * stays alive (a live holder) until the test creates `<root>/stop`: how long a
 * racer takes to start on a loaded machine must not decide who holds.
 */
function claimer(root: string, revision: number) {
  const script = `const { claim } = await import(${JSON.stringify(CLAIMS)});
const { existsSync } = await import('node:fs');
const held = await claim(${JSON.stringify(root)}, 'x', ${revision});
console.log(held ? 'held' : 'got');
for (let i = 0; i < 3000 && !existsSync(${JSON.stringify(join(root, 'stop'))}); i++) await new Promise((r) => setTimeout(r, 20));`;
  return execa(process.execPath, ['--input-type=module', '-e', script]);
}

/** What each racer said, once every one has said it; then they may all exit. */
async function race(root: string, racers: ReturnType<typeof claimer>[]): Promise<string[]> {
  const said = await Promise.all(racers.map((r) => new Promise<string>((resolve) => r.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())))));
  await writeFile(join(root, 'stop'), '');
  await Promise.all(racers);
  return said;
}

/** Until the claim of x is revision `revision`'s. */
async function claimedBy(root: string, revision: number): Promise<void> {
  for (let i = 0; i < 3000 && (await readClaim(root, 'x'))?.revision !== revision; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('claims: one holder, however many syncs race', function () {
  this.timeout(60_000);
  let root: string;
  beforeEach(async () => {
    root = await tempDir('envctl-claims-');
  });
  afterEach(() => removeDir(root));

  it('six processes claiming the same revision at once: exactly one gets it', async () => {
    const said = await race(root, Array.from({ length: 6 }, () => claimer(root, 1)));
    expect(said.sort()).to.deep.equal(['got', 'held', 'held', 'held', 'held', 'held']);
  });

  it('a dead holder\'s claim is taken over by exactly one of the racers', async () => {
    const dead = (await execa(process.execPath, ['-e', 'console.log(process.pid)'])).stdout.trim();
    await mkdir(join(root, '.envctl', 'sync'), { recursive: true });
    await writeFile(join(root, '.envctl', 'sync', 'x.json'), JSON.stringify({ environment: 'x', revision: 5, status: 'building', pid: Number(dead), since: '2026-01-01T00:00:00Z' }));
    const said = await race(root, Array.from({ length: 6 }, () => claimer(root, 1)));
    expect(said.filter((r) => r === 'got')).to.have.length(1);
  });

  it('a newer revision takes an older claim over; the older holder\'s release leaves it alone', async () => {
    const older = claimer(root, 1);
    const olderSaid = new Promise<string>((resolve) => older.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
    await claimedBy(root, 1);
    expect(await claim(root, 'x', 2)).to.equal(undefined);
    expect(await olderSaid).to.equal('got');
    await writeFile(join(root, 'stop'), '');
    await older;
    await release(root, 'x');
    expect(await readClaim(root, 'x')).to.equal(undefined);
    // The other way round: this process's claim stays when a release by someone else is attempted.
    expect(await claim(root, 'x', 3)).to.equal(undefined);
    await execa(process.execPath, ['--input-type=module', '-e', `const { release } = await import(${JSON.stringify(CLAIMS)}); await release(${JSON.stringify(root)}, 'x');`]);
    expect((await readClaim(root, 'x'))?.revision).to.equal(3);
  });
});
