/**
 * The plan comment README.md shows is the one envctl posts today for that
 * change to this repository (scripts/readme-plan-example.sh makes it), up to
 * the commit it was made for.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The head commit differs with every commit to main; nothing else may.
const withoutHead = (s: string) => s.replace(/\b[0-9a-f]{40}\b/g, '<head>').replace(/`[0-9a-f]{12}`/g, '`<head>`');

describe('README: the example plan comment', () => {
  it('is what scripts/readme-plan-example.sh prints now (run it and paste its output when this fails)', async function () {
    this.timeout(120_000);
    // Only what a shell needs: no variable another test (or CI) set may change the plan (ENVCTL_*, GITHUB_*).
    const { stdout } = await execa('bash', [join(root, 'scripts', 'readme-plan-example.sh')], { cwd: root, env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/root' }, extendEnv: false });
    const made = stdout.split('\n').slice(1).join('\n').trimEnd();
    const readme = await readFile(join(root, 'README.md'), 'utf8');
    const shown = /<!-- readme-plan-example -->\n````markdown\n([\s\S]*?)\n````\n<!-- \/readme-plan-example -->/.exec(readme)?.[1];
    expect(shown, 'README.md has the example between its markers').to.be.a('string');
    expect(withoutHead(shown!)).to.equal(withoutHead(made));
    // What the example is there to show.
    expect(made).to.match(/1 environment changes, 1 dependent rebuilds: 2 builds/);
    expect(made).to.contain('on `jupyter-vscode`, which rebuilds after `python-datascience`');
  });
});
