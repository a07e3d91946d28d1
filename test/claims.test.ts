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

/** A process that claims revision `revision` of x, says whether it got it, and stays alive a moment (a live holder). */
function claimer(root: string, revision: number) {
  const script = `const { claim } = await import(${JSON.stringify(CLAIMS)});
const held = await claim(${JSON.stringify(root)}, 'x', ${revision});
console.log(held ? 'held' : 'got');
await new Promise((r) => setTimeout(r, 1500));`;
  return execa(process.execPath, ['--input-type=module', '-e', script]);
}

describe('claims: one holder, however many syncs race', function () {
  this.timeout(60_000);
  let root: string;
  beforeEach(async () => {
    root = await tempDir('envctl-claims-');
  });
  afterEach(() => removeDir(root));

  it('six processes claiming the same revision at once: exactly one gets it', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => claimer(root, 1)));
    expect(results.map((r) => r.stdout).sort()).to.deep.equal(['got', 'held', 'held', 'held', 'held', 'held']);
  });

  it('a dead holder\'s claim is taken over by exactly one of the racers', async () => {
    const dead = (await execa(process.execPath, ['-e', 'console.log(process.pid)'])).stdout.trim();
    await mkdir(join(root, '.envctl', 'sync'), { recursive: true });
    await writeFile(join(root, '.envctl', 'sync', 'x.json'), JSON.stringify({ environment: 'x', revision: 5, status: 'building', pid: Number(dead), since: '2026-01-01T00:00:00Z' }));
    const results = await Promise.all(Array.from({ length: 6 }, () => claimer(root, 1)));
    expect(results.filter((r) => r.stdout === 'got')).to.have.length(1);
  });

  it('a newer revision takes an older claim over; the older holder\'s release leaves it alone', async () => {
    const older = claimer(root, 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await claim(root, 'x', 2)).to.equal(undefined);
    expect((await older).stdout).to.equal('got');
    await release(root, 'x');
    expect(await readClaim(root, 'x')).to.equal(undefined);
    // The other way round: this process's claim stays when a release by someone else is attempted.
    expect(await claim(root, 'x', 3)).to.equal(undefined);
    await execa(process.execPath, ['--input-type=module', '-e', `const { release } = await import(${JSON.stringify(CLAIMS)}); await release(${JSON.stringify(root)}, 'x');`]);
    expect((await readClaim(root, 'x'))?.revision).to.equal(3);
  });
});
