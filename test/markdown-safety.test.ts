/**
 * The plan comment against hostile values, rendered by a real GFM renderer
 * (marked, GFM on: tables, extended autolinks for www., http(s):// and
 * e-mail addresses, strikethrough, raw HTML). Whatever a value holds, the
 * rendered page keeps its structure (rows, cells, list items, code blocks),
 * shows the value as text, links nothing, mentions no one, references no
 * issue and carries no HTML of the value's making. GitHub's mention and
 * issue-reference filters run on the rendered text outside code, so that
 * text is searched for their patterns.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Marked } from 'marked';
import { codeSpan, markdownText, reviewMarkdown, visibleControls } from '../src/plan/markdown.js';
import type { EnvironmentReview, Review } from '../src/plan/review.js';

const gfm = new Marked({ gfm: true });
const render = (md: string) => gfm.parse(md, { async: false }) as string;

/** The tags the comment itself writes; any other tag came from a value. */
const OURS = new Set(['h3', 'h4', 'p', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'ul', 'li', 'code', 'pre', 'strong', 'em', 'details', 'summary']);

/** Tags dropped, then every reference decoded in one pass (decoding twice would read `&#38;amp;` as `&`). */
const NAMED_REFS: Record<string, string> = { lt: '<', gt: '>', quot: '"', amp: '&' };
const decode = (html: string) => html
  .replace(/<[^>]*>/g, '')
  .replace(/&(#\d+|lt|gt|quot|amp);/g, (_, r: string) => (r.startsWith('#') ? String.fromCodePoint(Number(r.slice(1))) : NAMED_REFS[r]!));
/** What a reader sees: zero-width spaces are invisible. */
const seen = (html: string) => decode(html).replace(/\u200b/g, '');
/** Text as a browser lays it out: runs of white space are one space, none at the ends (GFM trims cells, headings and paragraphs too). */
const laid = (text: string) => text.replace(/[ \t\n]+/g, ' ').trim();
const all = (html: string, tag: string) => [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!);

/** Text outside code, where GitHub links mentions and issue references and GFM autolinks. */
function linkable(html: string): string {
  return decode(html.replace(/<pre>[\s\S]*?<\/pre>/g, '').replace(/<code>[\s\S]*?<\/code>/g, ''));
}

function expectInert(html: string): void {
  const tags = [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase());
  expect(tags.filter((t) => !OURS.has(t)), html).to.deep.equal([]);
  const text = linkable(html);
  expect(text, 'a mention').to.not.match(/@[A-Za-z0-9]/);
  expect(text, 'an issue reference').to.not.match(/#\d|\bGH-\d/i);
  expect(text, 'a URL').to.not.match(/:\/\/|\bwww\./i);
}

function environment(name: string, overrides: Partial<EnvironmentReview> = {}): EnvironmentReview {
  return {
    environment: name, change: 'changed', revision: 2, previousRevision: 1,
    build: { action: 'build', contentKey: 'a'.repeat(64) }, layers: { total: 3, limit: 60 },
    problems: [], rebuilds: [], reaches: [], specDiff: '', dockerfileDiff: '', rendered: true, ...overrides,
  };
}

/** One review with the value in every place a user value goes. */
function hostile(v: string, diffLines = 3): Review {
  const diff = Array.from({ length: diffLines }, (_, i) => `+${v}${i}`).join('\n');
  const problem = { file: `environments/${v}.yaml`, line: 1, col: 2, severity: 'error' as const, rule: v, message: v };
  return {
    target: v, change: `feature/${v}`, errors: 1, otherProblems: [],
    environments: [environment(v, {
      rebuilds: [v, `${v}2`], problems: [problem], specDiff: diff, dockerfileDiff: diff,
      reaches: [
        { kind: 'project', name: v, owner: v, environment: v, pinned: null },
        { kind: 'dataset', name: `${v}3`, owner: `@${v}`, environment: `${v}2`, pinned: null },
        { kind: 'model', name: v, owner: v, environment: v, pinned: 4 },
      ],
    })],
  };
}

function expectSafe(v: string, diffLines = 3): void {
  const md = reviewMarkdown(hostile(v, diffLines), { collapse: false });
  const html = render(md);
  expectInert(html);
  const vis = visibleControls(v).replace(/\u200b/g, '');
  const shown = laid(vis);
  const text = (html: string) => laid(seen(html));
  // The table: one body row of six cells, the name and the rebuilds as text.
  const body = all(html, 'tbody');
  expect(body, html).to.have.length(1);
  const rows = all(body[0]!, 'tr');
  expect(rows).to.have.length(1);
  const cells = all(rows[0]!, 'td').map(text);
  expect(cells).to.deep.equal([shown, '1 → 2', 'build', '3/60', laid(`${vis}, ${vis}2`), '1 error']);
  expect(all(html, 'h4').map(text)).to.deep.equal(['Who is affected', laid(`${vis} → revision 2`)]);
  expect(text(all(html, 'p')[0]!)).to.equal(laid(`Merging feature/${vis} into ${vis}.`));
  // Who is affected: each consumer its own item, owners named (as code, so no one is mentioned), then the owners in one line.
  const project = laid(`project ${vis}, owner ${vis}: follows ${vis}`);
  const dataset = laid(`data set ${vis}3, owner @${vis}: on ${vis}2, which rebuilds after ${vis}`);
  const model = laid(`model ${vis}, owner ${vis}: pinned to revision 4 of ${vis}, does not move`);
  const items = all(html, 'li').map(text);
  expect(items.slice(0, 3)).to.deep.equal([project, dataset, model]);
  const owners = [...new Set([v, `@${v}`])].sort().map((o) => visibleControls(o).replace(/\u200b/g, ''));
  expect(all(html, 'p').map(text)).to.include(laid(`Owners to ask: ${owners.join(', ')}`));
  // The environment's list: three facts, the three consumers and the problem, each its own item.
  expect(items.slice(3)).to.have.length(7);
  expect(items[5]).to.equal(laid(`Rebuilds after it: ${vis}, ${vis}2`));
  expect(items.slice(6, 9)).to.deep.equal([`Reaches ${project}`, `Reaches ${dataset}`, `Reaches ${model}`]);
  expect(items[9]).to.equal(laid(`❌ environments/${vis}.yaml:1:2 ${vis} [${vis}]`));
  // Both diffs whole, each in its own block (marked reads a lone CR as a line ending, as CommonMark does).
  const blocks = all(html, 'pre').map(seen);
  const diff = Array.from({ length: diffLines }, (_, i) => `+${v}${i}`).join('\n').replace(/\r\n?/g, '\n').replace(/\0/g, '\ufffd').replace(/\u200b/g, '');
  expect(blocks).to.deep.equal([`${diff}\n`, `${diff}\n`]);
}

/** Collapsed, the environment's title and summary sit in a <summary> as text: nothing of the value's making. */
function expectSafeCollapsed(v: string): void {
  const html = render(reviewMarkdown(hostile(v), { collapse: true }));
  expectInert(html);
  const vis = laid(visibleControls(v).replace(/\u200b/g, ''));
  const summaries = all(html, 'summary').map((s) => laid(seen(s)));
  expect(summaries[0]).to.equal(laid(`${vis} → revision 2: builds, 2 dependents rebuild, reaches 3 consumers, 1 error`));
  expect(all(html, 'details')).to.have.length(1);
}

const VARIANTS = [
  '@octocat', '@acme/admins please approve', 'fixes #12 and acme/repo#3 and GH-7', 'see http://evil.example/x and https://e.example',
  'www.evil.example', 'WWW.Evil.Example', 'mail me: a.b@evil.example', 'mailto:a@evil.example', 'xmpp:a@evil.example',
  '<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '</details><details open>', '<!-- hidden -->', '<http://evil.example>',
  '&lt;b&gt; &amp; &#64;x', '[click](http://evil.example)', '![img](x.png)', '[ref]: http://evil.example', '**bold** _em_ ~~del~~',
  'a | b | c', '\\| escaped pipe', 'ends with a backslash\\', '`tick`', '``double`` and ```triple```', '` padded `', '`', '```',
  'line\nbreak', 'carriage\rreturn', 'crlf\r\n| x | y |', 'cr then fence\r```\r<b>x</b>', 'unicode\u2028separator\u2029',
  'next line\u0085', 'bidi \u202eevil\u202c', 'tab\there', 'nul\u0000byte', '# heading', '    indented', '- item', '1. item', '> quote',
  '$x$ and $$\\color{red}{ok}$$', '$`x`$', '[^1] footnote', '- [x] task', '    ', ' ', ':emoji: :+1:', '{{image}}', '$(HOME)', '\u200b@\u200bzw',
];

describe('plan comment: hostile values rendered by a GFM renderer', () => {
  it('the checks themselves see a raw mention, URL, issue reference and tag', () => {
    for (const raw of ['@octocat', 'http://x.example', 'www.x.example', '#12', '<b>x</b>']) {
      expect(() => expectInert(render(raw)), raw).to.throw();
    }
  });

  for (const v of VARIANTS) {
    it(`keeps ${JSON.stringify(v)} inert in every place`, () => {
      expectSafe(v);
      expectSafeCollapsed(v);
    });
  }

  it('a long diff collapsed in <details> stays inside it', () => {
    expectSafe('</details>\r\n```\r\n<script>x</script>', 40);
    const html = render(reviewMarkdown(hostile('</details>', 40)));
    expect(all(html, 'details')).to.have.length(2);
    expect(all(html, 'summary').map(seen)).to.deep.equal(['Spec diff (40 lines)', 'Dockerfile diff (40 lines)']);
  });

  it('random strings of Markdown, HTML, link and line-ending pieces', () => {
    const piece = fc.constantFrom('@', 'bob', '#', '1', '`', '``', '|', '\\', '<', '>', '&', 'amp;', '#64;', 'http', ':', '//', 'www', '.',
      'x.com', '\r', '\n', '\r\n', '\u2028', '*', '_', '~', '[', ']', '(', ')', '!', ' ', 'a', '<b>', '</details>', '-', '=', '\t', '"', "'", '$');
    fc.assert(fc.property(fc.array(piece, { minLength: 1, maxLength: 14 }).map((a) => a.join('')), (v) => {
      expectSafe(v);
      expectSafeCollapsed(v);
    }), { numRuns: 400 });
  });
});

describe('plan comment: the escapers', () => {
  it('codeSpan: a fence longer than any backtick run, padded only when needed, one line', () => {
    expect(codeSpan('main')).to.equal('`main`');
    expect(codeSpan('a``b')).to.equal('```a``b```');
    expect(codeSpan('`x')).to.equal('`` `x ``');
    expect(codeSpan('a\r\nb')).to.equal('`a\\r\\nb`');
    expect(codeSpan('')).to.equal('` `');
    for (const v of ['`', ' `` ', ' x ', 'a\rb', '   ']) {
      expect(all(render(codeSpan(v)), 'code').map(decode), v).to.deep.equal([visibleControls(v)]);
    }
  });

  it('markdownText: one line of literal text, with links and mentions broken', () => {
    expect(markdownText('a\nb')).to.not.contain('\n');
    expect(markdownText('@x')).to.equal('@\u200bx');
    expect(markdownText('$x$ ~a~')).to.equal('\\$x\\$ \\~a\\~'); // GitHub renders $…$ as math
    expect(markdownText('<&|\\>')).to.equal('&#60;&#38;&#124;&#92;&#62;');
    expect(seen(render(markdownText('*a* [b](c) \\*')))).to.equal('*a* [b](c) \\*\n');
  });
});
