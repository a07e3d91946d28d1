/**
 * Real buildah (1.28 on the build machine) reads an instructions block the
 * way check's classic reading does: its build steps are exactly the logical
 * lines `read(text, 'classic')` gives, a heredoc body among them. FROM
 * scratch with COPY, ENV and LABEL only: no network, no RUN, a storage root
 * of its own under a temporary folder.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { read } from '../src/check/reading.js';
import { byRule, check, config, removeDir, tempDir, yaml } from './helpers.js';

const BLOCK = [
  'COPY <<#END /x', // buildah 1.28: a file named "<<#END"; BuildKit: a heredoc ending at "#END"
  'LABEL body=1',
  '#END',
  'LABEL after=1',
  'ENV P=a\\\\', // "\\" at the end continues for buildah
  'LABEL q=1',
  'LABEL cont=1 \\',
  '  # a comment inside the continuation',
  '',
  '  c2=2',
  '\u00a0LABEL nb=1',
  '\\',
  '  LABEL lone=1',
  'COPY a /a',
].join('\n');

describe('builder reading: buildah reads the block as the classic reading does', function () {
  this.timeout(120_000);

  it('its steps are the classic logical lines, the heredoc body and the line after "\\\\" included', async () => {
    const dir = await tempDir('envctl-reading-');
    try {
      const ctx = join(dir, 'ctx');
      await mkdir(ctx);
      await writeFile(join(ctx, '<<#END'), 'x');
      await writeFile(join(ctx, 'a'), 'a');
      await writeFile(join(ctx, 'Dockerfile'), `FROM scratch\n${BLOCK}\n`);
      const storage = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
      const built = await execa('buildah', [...storage, 'bud', '--isolation', 'chroot', '-t', 'localhost/envctl-reading:1', ctx], { all: true, reject: false });
      expect(built.exitCode, built.all).to.equal(0);
      const steps = [...built.all.matchAll(/^STEP \d+\/\d+: (.*)$/gm)].map((m) => m[1]!.trim());
      const classic = read(`${BLOCK}\n`, 'classic').lines.map((l) => l.text.trim());
      expect(steps).to.deep.equal(['FROM scratch', ...classic]);
      expect(classic).to.include('LABEL body=1');

      const inspected = await execa('buildah', [...storage, 'inspect', '--type', 'image', 'localhost/envctl-reading:1']);
      const image = (JSON.parse(inspected.stdout) as { OCIv1: { config: { Labels: Record<string, string>; Env?: string[] } } }).OCIv1.config;
      expect(image.Labels).to.include({ body: '1', after: '1', cont: '1', c2: '2', nb: '1', lone: '1' });
      expect(image.Env ?? []).to.include('q=1'); // "LABEL q=1" became part of the ENV above it
      await execa('buildah', [...storage, 'rmi', '--all', '--force'], { reject: false });
    } finally {
      await removeDir(dir);
    }
  });

  it('check (builder: buildah) refuses that block and sees the body line buildah builds', () => {
    const files = {
      'environments/a/environment.yaml': yaml('owner: alice', 'instructions: |', ...BLOCK.split('\n').map((l) => (l === '' ? '' : `  ${l}`))),
      'environments/a/a': 'a',
    };
    const r = check(files, { config: config({ builder: 'buildah' }) });
    expect(byRule(r, 'instructions-heredoc-unsupported').map((p) => [p.line, p.col])).to.deep.equal([[3, 8]]);
    expect(r.environments[0]!.instructions.map((i) => `${i.blockLine}:${i.keyword}`)).to.include.members(['2:LABEL', '4:LABEL', '11:LABEL', '13:LABEL']);
  });
});
