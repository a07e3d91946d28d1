/**
 * The plan comment always fits: GitHub refuses a body over 65,536
 * characters, so every body is measured in bytes and kept under the limit; a
 * plan that does not fit is split over several comments, each closing every
 * <details> and code fence it opens, and no environment is lost on the way.
 */
import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runEnvctl } from './fixtures/cli.js';
import { removeDir, tempDir } from './helpers.js';
import { commentBodies, COMMENT_LIMIT, PART_MARKER, PLAN_MARKER } from '../src/plan/comment-split.js';
import { reviewMarkdown } from '../src/plan/markdown.js';
import type { EnvironmentReview, Review } from '../src/plan/review.js';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

function environment(name: string, diffLines: number, overrides: Partial<EnvironmentReview> = {}): EnvironmentReview {
  // Multi-byte text: a body measured in characters would pass where GitHub's byte-minded limit does not.
  const diff = Array.from({ length: diffLines }, (_, i) => `+  RUN echo "ünïcødé ✓ line ${i} of ${name}"`).join('\n');
  return {
    environment: name, change: 'changed', revision: 2, previousRevision: 1,
    build: { action: 'build', contentKey: 'a'.repeat(64) }, layers: { total: 3, limit: 127 },
    problems: [], rebuilds: [], reaches: [], specDiff: diff, dockerfileDiff: diff, rendered: true, ...overrides,
  };
}

function review(environments: EnvironmentReview[]): Review {
  return { target: 'main', change: 'feature/x', errors: 0, otherProblems: [], environments };
}

/** Every <details> and fence a body opens, it closes. */
function expectBalanced(body: string): void {
  const opened = (body.match(/<details>/g) ?? []).length;
  const closed = (body.match(/<\/details>/g) ?? []).length;
  expect(opened, 'details opened and closed').to.equal(closed);
  const fences = body.split('\n').filter((l) => /^\s*(```|~~~)/.test(l)).length;
  expect(fences % 2, 'fences closed').to.equal(0);
}

describe('plan comment: every body fits, split when it must be', () => {
  it('a small plan is one comment, under the limit, carrying the plan marker', () => {
    const bodies = commentBodies(reviewMarkdown(review([environment('alpha', 5)])));
    expect(bodies).to.have.length(1);
    expect(bodies[0]).to.include(PLAN_MARKER);
    expect(bodies[0]).to.include('alpha');
    expectBalanced(bodies[0]!);
  });

  it('shows a content key as 12 hex digits, without its sha256: prefix', () => {
    const key = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const md = reviewMarkdown(review([environment('solo', 1, { build: { action: 'build', contentKey: key } })]));
    expect(md).to.contain('content key `0123456789ab`');
  });

  it('a base with 300 dependents and long diffs splits into numbered comments, each under the limit in bytes, none losing an environment', () => {
    const dependents = Array.from({ length: 300 }, (_, i) => `dependent-${String(i).padStart(3, '0')}`);
    const envs = [
      environment('base-python', 400, { rebuilds: dependents }),
      ...dependents.map((d) => environment(d, 60)),
    ];
    const md = reviewMarkdown(review(envs));
    expect(bytes(md), 'the plan itself is over the limit').to.be.greaterThan(COMMENT_LIMIT);
    const bodies = commentBodies(md);
    expect(bodies.length).to.be.greaterThan(1);
    bodies.forEach((body, i) => {
      expect(bytes(body), `comment ${i + 1}`).to.be.lessThan(COMMENT_LIMIT);
      expect(body).to.include(PLAN_MARKER);
      const part = PART_MARKER.exec(body);
      expect(part, `comment ${i + 1} names its place`).to.not.equal(null);
      expect([Number(part![1]), Number(part![2])]).to.deep.equal([i + 1, bodies.length]);
      expectBalanced(body);
    });
    const all = bodies.join('\n');
    for (const name of ['base-python', ...dependents]) expect(all, name).to.include(name);
  });

  it('one environment whose diff alone is over the limit is cut or summarised, and the note says where the whole plan is', () => {
    const md = reviewMarkdown(review([environment('huge', 6000)]));
    expect(bytes(md)).to.be.greaterThan(COMMENT_LIMIT);
    const bodies = commentBodies(md);
    for (const body of bodies) {
      expect(bytes(body)).to.be.lessThan(COMMENT_LIMIT);
      expectBalanced(body);
    }
    const all = bodies.join('\n');
    expect(all).to.include('huge');
    expect(all).to.match(/job summary|artifact/);
  });

  it('a hostile text that is nothing but an unclosed fence and <details> still yields balanced bodies under the limit', () => {
    const md = `<details>\n\n\`\`\`diff\n${'x'.repeat(200)}\n`.repeat(2000);
    const bodies = commentBodies(md);
    for (const body of bodies) expect(bytes(body)).to.be.lessThan(COMMENT_LIMIT);
  });

  it('envctl comment --dry-run prints each body after "--- comment N: B bytes" and asks no GitHub (no token, no repository set)', async () => {
    const dir = await tempDir('envctl-comment-dry-');
    try {
      const dependents = Array.from({ length: 300 }, (_, i) => `dependent-${i}`);
      const envs = [environment('base-python', 400, { rebuilds: dependents }), ...dependents.map((d) => environment(d, 60))];
      const md = reviewMarkdown(review(envs));
      await writeFile(join(dir, 'plan.md'), md);
      const r = await runEnvctl(dir, ['comment', 'plan.md', '--dry-run'], { GITHUB_TOKEN: '', GITHUB_REPOSITORY: '', GITHUB_API_URL: 'http://127.0.0.1:1' });
      expect(r.code, r.err).to.equal(0);
      const expected = commentBodies(md);
      expect(expected.length).to.be.greaterThan(1);
      const headers = [...r.out.matchAll(/^--- comment (\d+): (\d+) bytes$/gm)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(headers).to.deep.equal(expected.map((b, i) => [i + 1, bytes(b)]));
    } finally {
      await removeDir(dir);
    }
  });
});
