/**
 * The plan comment shows what building the change in review found: built or
 * not (with the log's tail), the size against the active revision, and the
 * package diff, for the changed environment and each that rebuilds on it.
 */
import { expect } from 'chai';
import { marked } from 'marked';
import { reviewMarkdown } from '../src/plan/markdown.js';
import { withoutDiffs } from '../src/plan/comment-split.js';
import type { ReviewBuild } from '../src/plan/review-builds.js';
import type { EnvironmentReview, Review } from '../src/plan/review.js';

function environment(name: string, overrides: Partial<EnvironmentReview> = {}): EnvironmentReview {
  return {
    environment: name, change: 'changed', revision: 3, previousRevision: 2,
    build: { action: 'build', contentKey: `sha256:${'ab'.repeat(32)}` }, layers: { total: 4, limit: 127 },
    problems: [], rebuilds: [], reaches: [], specDiff: '', dockerfileDiff: '', rendered: true, ...overrides,
  };
}

const review = (environments: EnvironmentReview[], builds: ReviewBuild[]): Review =>
  ({ target: 'main', change: 'feature', errors: 0, otherProblems: [], environments, builds });

describe('plan comment: review builds', () => {
  it('shows the package diff and the size change against the active revision, for the environment and its dependent', () => {
    const md = reviewMarkdown(review([environment('python-datascience', { rebuilds: ['jupyter-vscode'] })], [
      {
        environment: 'python-datascience', revision: 3, status: 'succeeded', size: 312_400_000, active: { revision: 2, size: 300_300_000 },
        packages: [
          { ecosystem: 'deb', added: [{ name: 'python3-statsmodels', version: '0.13.5+dfsg-7' }], removed: [], changed: [] },
          { ecosystem: 'pypi', added: [], removed: [{ name: 'six', version: '1.16.0' }], changed: [{ name: 'numpy', from: '1.24.2', to: '1.26.4' }] },
        ],
      },
      { environment: 'jupyter-vscode', revision: 5, status: 'succeeded', size: 500_000_000, active: { revision: 4, size: 510_000_000 }, packages: [] },
    ]));
    expect(md).to.contain('| python-datascience | 2 → 3 | build ✅ |');
    expect(md).to.contain('- Review build: ✅ builds and passes its tests, 312.4 MB (+12.1 MB against revision 2)');
    expect(md).to.contain('**Package diff against revision 2: 1 added, 1 removed, 1 changed**');
    expect(md).to.contain('| deb | python3-statsmodels | – | 0.13.5+dfsg-7 |');
    expect(md).to.contain('| pypi | six | 1.16.0 | – |');
    expect(md).to.contain('| pypi | numpy | 1.24.2 | 1.26.4 |');
    expect(md).to.contain('- Review build of `jupyter-vscode`: ✅ builds and passes its tests, 500.0 MB (−10.0 MB against revision 4)');
    expect(md).to.contain('- Packages: the same as revision 4');
    expect(md).to.not.contain('review build fails');
  });

  it('a failed test marks the row and the heading, and shows the log tail inside a fence, whatever it holds', () => {
    const tail = ['Traceback (most recent call last):', '```', '</details>', '<img src=x onerror=alert(1)>', 'ModuleNotFoundError: No module named sklearn'].join('\n');
    const md = reviewMarkdown(review([environment('python-datascience')], [
      { environment: 'python-datascience', revision: 3, status: 'failed', failure: { kind: 'test' }, reason: 'test `python3 -c "import sklearn"` exited 1', logTail: tail },
    ]));
    expect(md).to.contain('| python-datascience | 2 → 3 | build ❌ |');
    expect(md).to.contain('**1 review build fails**: `python-datascience`');
    expect(md).to.match(/- Review build: ❌ a test failed: test/);
    const html = marked.parse(md, { async: false });
    // The log's own </details> and tag are text inside the code block, not HTML.
    expect(html).to.not.contain('<img');
    expect(html).to.contain('&lt;img src=x onerror=alert(1)&gt;');
    expect((html.match(/<details>/g) ?? []).length).to.equal((html.match(/<\/details>/g) ?? []).length);
  });

  it('escapes package names and versions from the image for a table cell, and a long diff folds and can be left out for its summary', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ name: `pkg${i}`, version: '1' }));
    const md = reviewMarkdown(review([environment('e')], [{
      environment: 'e', revision: 3, status: 'succeeded', active: { revision: 2 },
      packages: [{ ecosystem: 'pypi', added: [{ name: 'evil|<b>x</b>@team', version: '1|2' }, ...many], removed: [], changed: [] }],
    }]));
    const row = md.split('\n').find((l) => l.includes('evil'))!;
    expect(row.split('|').length - 1, 'the row keeps its four cells').to.equal(5);
    expect(row).to.not.contain('<b>');
    expect(md).to.contain('<summary>Package diff against revision 2: 41 added, 0 removed, 0 changed</summary>');
    const short = withoutDiffs(md, 'the job summary');
    expect(short).to.contain('_Package diff (41 lines) left out for length: see the job summary._');
    expect(short).to.not.contain('pkg39');
  });
});
