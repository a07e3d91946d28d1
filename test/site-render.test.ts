/**
 * The catalog site's pure half: renderSite turns hand-made SiteData into
 * files. Checks that every page exists, every relative link and anchor
 * resolves to a generated file, nothing is fetched from elsewhere, free
 * text is escaped, secrets stay secret, and the hooks that site.js and the
 * browser tests rely on are there. site.js itself runs here against a small
 * fake DOM for its filter and tab logic.
 */
import { expect } from 'chai';
import { posix } from 'node:path';
import { Script, createContext } from 'node:vm';
import { chartSeries } from '../src/site/chart.js';
import { escapeHtml } from '../src/site/html.js';
import type { SiteData, SiteEnvironment, SiteRevision } from '../src/site/model.js';
import { CONTENT_SECURITY_POLICY, renderSite } from '../src/site/render.js';

const SOURCE = 'https://github.com/acme/environments';
const EVIL_TITLE = '<script>alert("pwned")</script> Python & "friends"';
const SECRET_LEAK = 'hunter2-should-never-show';
const sha = (n: number) => n.toString(16).padStart(2, '0').repeat(20);

function revision(number: number, build: SiteRevision['build'], extra: Partial<SiteRevision> = {}): SiteRevision {
  return {
    number,
    summary: `Change ${number}`,
    author: 'Ada <ada@example.com>',
    date: `2024-05-0${number}T10:00:00Z`,
    commit: sha(number),
    contentKey: `sha256:${String(number).repeat(64).slice(0, 64)}`,
    build,
    active: false,
    ...extra,
  };
}

function built(status: NonNullable<SiteRevision['build']>['status'], extra: Partial<NonNullable<SiteRevision['build']>> = {}): NonNullable<SiteRevision['build']> {
  return { status, startedAt: '2024-05-01T10:00:00Z', ...extra };
}

/** Three environments: one with a rich history, one built on it, one archived and never built. */
function siteData(): SiteData {
  const basePy: SiteEnvironment = {
    name: 'base-py',
    title: EVIL_TITLE,
    description: 'Notebooks <b>bold</b> & more.\nSecond line with "quotes".',
    owner: '@acme/data-platform',
    visibility: 'organization',
    archived: false,
    base: { kind: 'default', image: 'registry.local/debian:12' },
    clusterTypes: ['spark', 'ray'],
    workspaceTools: {
      jupyter: { title: 'Jupyter', iconUrl: '/assets/images/workspace-logos/Jupyter.svg', start: ['/opt/start-jupyter.sh'], httpProxy: { port: 8888 } },
      vscode: { title: 'VS Code', iconUrl: 'https://icons.example.net/vscode.svg', start: ['code-server'] },
    },
    variables: [
      { name: 'GREETING', value: 'hello <world>' },
      // A stray value on a secret variable must still never be shown.
      { name: 'DB_PASSWORD', secret: true, value: SECRET_LEAK } as unknown as { name: string; secret: true },
    ],
    dockerArguments: ['--shm-size=2g'],
    activeRevision: 3,
    latestRevision: 4,
    revisions: [
      revision(4, built('failed', { durationSeconds: 30, reason: 'RUN exited with 1: <oops>', failure: 'build', logHref: 'logs/base-py/4.log' }), { summary: 'Break it <again>' }),
      revision(3, built('succeeded', { durationSeconds: 2, reusedFrom: 1, imageReference: 'registry.local/envs/base-py:1@sha256:aaaa', sizeBytes: 300 * 1024 * 1024 }), {
        active: true,
        summary: 'Revert "Add numpy"',
      }),
      revision(2, built('succeeded', { durationSeconds: 300, imageReference: 'registry.local/envs/base-py:2@sha256:bbbb', sizeBytes: 320 * 1024 * 1024, logHref: '../../etc/passwd' })),
      revision(1, built('succeeded', { durationSeconds: 240, imageReference: 'registry.local/envs/base-py:1@sha256:aaaa', sizeBytes: 300 * 1024 * 1024, logHref: 'logs/base-py/1.log' })),
    ],
    users: [
      { kind: 'project', name: 'churn', revision: 'active', file: 'projects/churn/project.yaml' },
      { kind: 'model', name: 'fraud', revision: 2, file: 'models/fraud/model.yaml' },
    ],
    dockerfiles: {
      active: 'FROM registry.local/debian:12\nRUN echo "<script>"\n',
      latest: 'FROM registry.local/debian:12\nRUN exit 1\n',
      diff: '--- revision 3\n+++ revision 4\n@@ -1,2 +1,2 @@\n FROM registry.local/debian:12\n-RUN echo "<script>"\n+RUN exit 1\n',
    },
    lastChange: '2024-05-04T10:00:00Z',
  };
  const jupyter: SiteEnvironment = {
    name: 'jupyter',
    title: 'Jupyter on base-py',
    description: '',
    owner: 'ada',
    visibility: 'private',
    archived: false,
    base: { kind: 'environment', environment: 'base-py', revision: 'active' },
    clusterTypes: [],
    workspaceTools: {},
    variables: [],
    dockerArguments: [],
    activeRevision: 1,
    latestRevision: 2,
    revisions: [
      revision(2, built('building')),
      revision(1, built('succeeded', { durationSeconds: 100, imageReference: 'registry.local/envs/jupyter:1@sha256:cccc', sizeBytes: 400 * 1024 * 1024 }), { active: true }),
    ],
    users: [],
    dockerfiles: { active: 'FROM base\n', latest: 'FROM base\n', diff: '' },
    lastChange: '2024-05-02T10:00:00Z',
  };
  const legacy: SiteEnvironment = {
    name: 'legacy',
    title: 'Legacy R',
    description: 'Old.',
    owner: '@acme/stats',
    visibility: 'global',
    archived: true,
    base: { kind: 'image', image: 'quay.io/org/img:1.2' },
    clusterTypes: [],
    workspaceTools: {},
    variables: [],
    dockerArguments: [],
    activeRevision: null,
    latestRevision: 1,
    revisions: [revision(1, null)],
    users: [],
    dockerfiles: { latest: 'FROM quay.io/org/img:1.2\n', diff: '' },
    lastChange: null,
  };
  return { title: 'Acme & Co environments', generatedAt: '2024-06-01T00:00:00Z', source: SOURCE, environments: [legacy, jupyter, basePy] };
}

// ---------------------------------------------------------------------------
// Tiny HTML helpers: enough to read what renderSite writes
// ---------------------------------------------------------------------------

const decode = (s: string) =>
  s.replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e] ?? '');
const text = (s: string) => decode(s.replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ');
const attributes = (html: string, name: string) => [...html.matchAll(new RegExp(`\\s${name}="([^"]*)"`, 'g'))].map((m) => decode(m[1]!));
/** Text with a space for every tag, for reading table rows cell by cell. */
const spaced = (s: string) => decode(s.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ');
const ids = (html: string) => new Set(attributes(html, 'id'));
/** Start tags of `tag` whose attributes match `pattern`. */
const tags = (html: string, tag: string, pattern: RegExp = /.*/) => [...html.matchAll(new RegExp(`<${tag}\\b[^>]*>`, 'g'))].map((m) => m[0]).filter((t) => pattern.test(t));
/** The element (no nesting of the same tag) starting at the first start tag matching `pattern`. */
function element(html: string, tag: string, pattern: RegExp): string {
  const start = html.search(new RegExp(`<${tag}\\b[^>]*${pattern.source}[^>]*>`));
  expect(start, `<${tag} …${pattern.source}…>`).to.be.greaterThan(-1);
  const end = html.indexOf(`</${tag}>`, start);
  return html.slice(start, end + tag.length + 3);
}

const pages = (files: Map<string, string>) => [...files].filter(([path]) => path.endsWith('.html'));

/** Every href/src that is relative must name a generated file (or a copied log) and, with a fragment, an id on that page. */
function checkLinks(files: Map<string, string>, logs: Set<string>, source: string): { relative: number; fragments: number; commits: number } {
  const counts = { relative: 0, fragments: 0, commits: 0 };
  for (const [path, html] of pages(files)) {
    for (const url of [...attributes(html, 'href'), ...attributes(html, 'src')]) {
      if (url === 'data:,') continue;
      if (/^https?:/i.test(url)) {
        expect(url, `${path}: absolute URL`).to.match(new RegExp(`^${source.replace(/[.]/g, '\\.')}/commit/[0-9a-f]{40}$`));
        counts.commits++;
        continue;
      }
      expect(url, `${path}: other scheme`).not.to.match(/^[a-z][a-z0-9+.-]*:/i);
      expect(url, `${path}: root-relative`).not.to.match(/^\//);
      const [file, fragment] = url.split('#') as [string, string | undefined];
      const target = file === '' ? path : posix.normalize(posix.join(posix.dirname(path), file));
      expect(target, `${path}: ${url} leaves the site`).not.to.match(/^\.\.(\/|$)/);
      if (file !== '') {
        expect(files.has(target) || logs.has(target), `${path}: ${url} → ${target} is generated`).to.equal(true);
        counts.relative++;
      }
      if (fragment !== undefined) {
        expect(files.has(target), `${path}: ${url} has a fragment into a page`).to.equal(true);
        expect(ids(files.get(target)!).has(decodeURIComponent(fragment)), `${path}: #${fragment} exists in ${target}`).to.equal(true);
        counts.fragments++;
      }
    }
  }
  return counts;
}

describe('site: renderSite', () => {
  const data = siteData();
  const files = renderSite(data);
  const index = files.get('index.html')!;
  const basePy = files.get('environments/base-py.html')!;
  const jupyter = files.get('environments/jupyter.html')!;
  const legacy = files.get('environments/legacy.html')!;
  const graph = files.get('graph.html')!;

  it('writes the index, the graph, one page per environment and the two assets, nothing else', () => {
    expect([...files.keys()].sort()).to.deep.equal(
      ['assets/site.css', 'assets/site.js', 'environments/base-py.html', 'environments/jupyter.html', 'environments/legacy.html', 'graph.html', 'index.html'].sort(),
    );
    for (const [path, content] of files) expect(content.length, path).to.be.greaterThan(100);
  });

  it('resolves every relative href and src to a generated file, and every #fragment to an id', () => {
    const counts = checkLinks(files, new Set(['logs/base-py/4.log', 'logs/base-py/1.log']), SOURCE);
    // The checker saw real links: stylesheet, script, navigation, bases, revision anchors.
    expect(counts.relative).to.be.greaterThan(30);
    expect(counts.fragments).to.be.greaterThan(5);
    expect(files.get('index.html')).to.include('href="graph.html"');
    expect(basePy).to.include('href="../assets/site.css"').and.include('src="../assets/site.js"').and.include('href="../index.html"');
    expect(index).to.include('href="assets/site.css"').and.include('src="assets/site.js"');
  });

  it('links to nothing absolute except the commits on the source, one per revision', () => {
    const counts = checkLinks(files, new Set(['logs/base-py/4.log', 'logs/base-py/1.log']), SOURCE);
    expect(counts.commits).to.equal(4 + 2 + 1);
    expect(basePy).to.include(`href="${SOURCE}/commit/${sha(3)}"`);
    for (const [path, html] of pages(files)) {
      expect(html, path).not.to.match(/(href|src)="(https?:)?\/\/(?!github\.com\/acme\/environments\/commit\/)/);
      expect(tags(html, 'img'), `${path}: no images`).to.have.length(0);
    }
  });

  it('links a log only when its path stays inside the site', () => {
    expect(basePy).to.include('href="../logs/base-py/4.log"');
    expect(basePy).to.include('aria-label="Build log for revision 4"');
    expect(basePy).not.to.include('etc/passwd');
  });

  it('escapes free text everywhere: a title with <script> stays text', () => {
    for (const [path, html] of pages(files)) {
      expect(html, path).not.to.include('<script>alert');
      expect(tags(html, 'script'), `${path}: the only script is site.js`).to.have.length(1);
      expect(tags(html, 'script')[0], path).to.match(/^<script src="(\.\.\/)?assets\/site\.js" defer>$/);
    }
    expect(basePy).to.include('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; Python &amp; &quot;friends&quot;');
    expect(index).to.include('&lt;script&gt;alert(&quot;pwned&quot;)');
    expect(index).to.include('Acme &amp; Co environments');
    expect(basePy).to.include('Notebooks &lt;b&gt;bold&lt;/b&gt; &amp; more.');
    expect(basePy).to.include('Break it &lt;again&gt;');
    expect(basePy).to.include('RUN exited with 1: &lt;oops&gt;');
    expect(basePy).to.include('RUN echo &quot;&lt;script&gt;&quot;');
    expect(basePy).not.to.include('<b>bold');
    // The title in <title> is escaped too.
    expect(basePy).to.match(/<title>&lt;script&gt;alert/);
  });

  it('names the secret variable, marks it secret, and never prints a value for it', () => {
    for (const [path, content] of files) expect(content, path).not.to.include(SECRET_LEAK);
    const row = element(basePy, 'tr', /data-variable="DB_PASSWORD"/);
    expect(row).to.include('data-secret="true"');
    expect(text(row)).to.include('DB_PASSWORD').and.include('secret');
    expect(row).not.to.include('<code></code>');
    const plain = element(basePy, 'tr', /data-variable="GREETING"/);
    expect(plain).to.include('hello &lt;world&gt;');
    expect(plain).not.to.include('data-secret');
  });

  it('marks exactly the active revision row, with a class, a visible label and aria-current', () => {
    const rows = tags(basePy, 'tr', /class="revision/);
    expect(rows.map((t) => /data-revision="(\d+)"/.exec(t)?.[1])).to.deep.equal(['4', '3', '2', '1']);
    const active = rows.filter((t) => /class="revision active"/.test(t));
    expect(active).to.have.length(1);
    expect(active[0]).to.include('data-revision="3"').and.include('id="revision-3"').and.include('aria-current="true"');
    expect(text(element(basePy, 'tr', /id="revision-3"/))).to.match(/^ ?3 active /);
    expect(text(element(basePy, 'tr', /id="revision-4"/))).not.to.include(' active ');
    expect(tags(jupyter, 'tr', /class="revision active"/)[0]).to.include('data-revision="1"');
    expect(tags(legacy, 'tr', /class="revision active"/)).to.have.length(0);
  });

  it('shows a reused build as reusing the other revision’s image, and a failure with its reason', () => {
    const reused = element(basePy, 'tr', /id="revision-3"/);
    expect(text(reused)).to.include("reused revision 1's image");
    expect(reused).to.include('href="#revision-1"').and.include('data-reused-from="1"');
    const failed = element(basePy, 'tr', /id="revision-4"/);
    expect(failed).to.include('data-status="failed"').and.include('class="badge status-failed"');
    expect(text(failed)).to.include('30 s');
    // What the page says about the failure comes from its kind, not the reason's words.
    expect(failed).to.include('data-failure="build"');
    expect(text(failed)).to.include('its build failed').and.include('RUN exited with 1: <oops>').and.not.include('tries again');
  });

  it('says a failure the next sync retries is one, by its kind', () => {
    const data = siteData();
    const env = data.environments.find((e) => e.name === 'base-py')!;
    const four = env.revisions.find((r) => r.number === 4)!;
    four.build = { ...four.build!, failure: 'registry', reason: 'RUN exited with 1' };
    const page = renderSite(data).get(`environments/${env.name}.html`)!;
    const row = element(page, 'tr', /id="revision-4"/);
    expect(row).to.include('data-failure="registry"');
    expect(text(row)).to.include('registry trouble; the next sync tries again').and.not.include('its build failed');
    expect(text(element(basePy, 'tr', /id="revision-2"/))).to.include('5 min').and.include('320.0 MiB');
  });

  it('renders commit, short content key, image reference in <code> and a labelled copy button', () => {
    const row = element(basePy, 'tr', /id="revision-2"/);
    expect(row).to.include(`<code>${sha(2).slice(0, 7)}</code>`);
    expect(row).to.include(`<code title="sha256:${'2'.repeat(64)}">${'2'.repeat(12)}</code>`);
    expect(row).to.include('<code class="image-ref" id="image-2">registry.local/envs/base-py:2@sha256:bbbb</code>');
    const buttons = tags(basePy, 'button', /class="copy"/);
    expect(buttons).to.have.length(3);
    for (const n of [3, 2, 1]) {
      const button = buttons.find((b) => b.includes(`data-copy-target="image-${n}"`));
      expect(button, `copy button for ${n}`).to.be.a('string');
      expect(button).to.include(`aria-label="Copy image reference for revision ${n}"`).and.include('type="button"');
      expect(ids(basePy).has(`image-${n}`)).to.equal(true);
    }
    // No source: the commit is short text, not a link.
    const { source: _omit, ...noSource } = siteData();
    const page = renderSite(noSource).get('environments/base-py.html')!;
    expect(page).not.to.include('/commit/');
    expect(page).to.include(`<code class="commit" title="${sha(4)}">${sha(4).slice(0, 7)}</code>`);
  });

  it('puts the filter data on every index row and offers labelled filter controls', () => {
    const rows = tags(index, 'tr', /class="env-row/);
    expect(rows).to.have.length(3);
    const row = (name: string) => rows.find((r) => r.includes(`data-name="${name}"`))!;
    expect(row('base-py')).to.include('data-status="failed"').and.include('data-archived="false"');
    expect(row('jupyter')).to.include('data-status="building"').and.include('data-archived="false"');
    expect(row('legacy')).to.include('data-status="not-built"').and.include('data-archived="true"');
    expect(decode(/data-search="([^"]*)"/.exec(row('base-py'))![1]!)).to.include('base-py').and.include('@acme/data-platform').and.include('<script>');
    expect(index).to.match(/<label for="filter-text">Filter environments<\/label><input id="filter-text" type="search"/);
    expect(index).to.match(/<label for="filter-status">Build status<\/label><select id="filter-status"/);
    expect(index).to.match(/<input id="show-archived" type="checkbox"[^>]*><label for="show-archived">Show archived<\/label>/);
    const options = [...element(index, 'select', /id="filter-status"/).matchAll(/<option value="([^"]+)">([^<]+)<\/option>/g)].map((m) => [m[1], m[2]]);
    expect(options).to.deep.equal([
      ['all', 'all'],
      ['succeeded', 'succeeded'],
      ['failed', 'failed'],
      ['building', 'building'],
      ['queued', 'queued'],
      ['cancelled', 'cancelled'],
      ['not-built', 'not built'],
    ]);
    // Each row shows what the issue asks for.
    const basePyRow = text(element(index, 'tr', /data-name="base-py"/));
    expect(basePyRow).to.include('<script>alert("pwned")</script> Python & "friends"').and.include('base-py').and.include('@acme/data-platform');
    expect(basePyRow).to.include('organization').and.include('revision 3').and.include('failed').and.include('2024-05-04 10:00 UTC');
    expect(element(index, 'tr', /data-name="jupyter"/)).to.include('href="environments/base-py.html"');
    expect(text(element(index, 'tr', /data-name="legacy"/))).to.include('archived').and.include('quay.io/org/img:1.2').and.include('none');
  });

  it('draws one chart point per revision with a build duration, and one per image size', () => {
    for (const [name, page] of [['base-py', basePy], ['jupyter', jupyter], ['legacy', legacy]] as const) {
      const env = data.environments.find((e) => e.name === name)!;
      const withDuration = env.revisions.filter((r) => r.build?.durationSeconds !== undefined).map((r) => String(r.number));
      const withSize = env.revisions.filter((r) => r.build?.sizeBytes !== undefined).map((r) => String(r.number));
      const durationPoints = tags(page, 'circle', /class="point point-duration/).map((t) => /data-revision="(\d+)"/.exec(t)![1]);
      const sizePoints = tags(page, 'rect', /class="point point-size/).map((t) => /data-revision="(\d+)"/.exec(t)![1]);
      expect(durationPoints, name).to.deep.equal([...withDuration].reverse());
      expect(sizePoints, name).to.deep.equal([...withSize].reverse());
      expect(chartSeries(env.revisions).duration.map((p) => String(p.revision))).to.deep.equal(durationPoints);
    }
    const chart = element(basePy, 'svg', /class="chart-svg"/);
    expect(chart).to.include('role="img"').and.include('<title id="chart-title">').and.include('Build duration').and.include('Image size').and.include('Revision');
    expect(tags(chart, 'polyline')).to.have.length(2);
    expect(chart.match(/<title>Revision \d+: /g)).to.have.length(4 + 3);
    // The failed build's point is there and says so.
    expect(chart).to.include('<title>Revision 4: built in 30 s (failed)</title>');
    expect(legacy).to.include('No build of this environment has a recorded duration or image size yet.');
    expect(tags(legacy, 'svg', /class="chart-svg"/)).to.have.length(0);
  });

  it('draws a chart with a single point without a line and without NaN', () => {
    const one = siteData();
    const env = one.environments.find((e) => e.name === 'jupyter')!;
    env.revisions = [revision(1, built('succeeded', { durationSeconds: 0 }), { active: true })];
    const page = renderSite(one).get('environments/jupyter.html')!;
    const chart = element(page, 'svg', /class="chart-svg"/);
    expect(tags(chart, 'circle')).to.have.length(1);
    expect(tags(chart, 'rect', /point-size/)).to.have.length(0);
    expect(tags(chart, 'polyline')).to.have.length(0);
    for (const [path, html] of renderSite(one)) expect(html, path).not.to.match(/NaN|Infinity|undefined/);
  });

  it('shows the overview: description, owner, base link, cluster types, tools as letter badges, arguments', () => {
    const overview = element(basePy, 'section', /id="overview"/);
    const t = text(overview);
    expect(t).to.include('@acme/data-platform').and.include('organization').and.include('spark, ray').and.include('--shm-size=2g');
    expect(t).to.include('Jupyter').and.include('VS Code').and.include('8888');
    expect(tags(overview, 'svg', /class="tool-icon"/)).to.have.length(2);
    for (const [path, content] of files) {
      expect(content, path).not.to.include('Jupyter.svg');
      expect(content, path).not.to.include('icons.example.net');
    }
    expect(element(jupyter, 'section', /id="overview"/)).to.include('<a href="base-py.html">base-py</a>');
    expect(text(element(legacy, 'section', /id="overview"/))).to.include('image quay.io/org/img:1.2');
  });

  it('lists the projects, models and data sets using the environment', () => {
    const projects = element(basePy, 'section', /id="projects"/);
    expect(spaced(projects)).to.include('project churn active').and.include('model fraud revision 2');
    expect(projects).to.include('href="#revision-2"');
    expect(text(element(jupyter, 'section', /id="projects"/))).to.include('No project, model or data set uses this environment.');
  });

  it('shows the active and latest Dockerfiles and the diff with + and - lines styled', () => {
    const panel = element(basePy, 'section', /id="dockerfile"/);
    expect(tags(panel, 'pre')).to.have.length(3);
    expect(panel).to.include('<span class="diff-line add">+RUN exit 1\n</span>');
    expect(panel).to.include('<span class="diff-line del">-RUN echo &quot;&lt;script&gt;&quot;\n</span>');
    expect(panel).to.include('<span class="diff-line hunk">@@ -1,2 +1,2 @@\n</span>');
    expect(panel).to.include('<span class="diff-line context"> FROM registry.local/debian:12\n</span>');
    expect(text(panel)).to.include('Active revision (3)').and.include('Latest revision (4)');
    // Same revision active and latest: one Dockerfile, no diff.
    const same = siteData();
    same.environments.find((e) => e.name === 'jupyter')!.latestRevision = 1;
    const samePanel = element(renderSite(same).get('environments/jupyter.html')!, 'section', /id="dockerfile"/);
    expect(tags(samePanel, 'pre')).to.have.length(1);
    expect(samePanel).not.to.include('diff-line');
    // Never built: nothing active to compare with.
    const never = element(legacy, 'section', /id="dockerfile"/);
    expect(tags(never, 'pre')).to.have.length(1);
    expect(text(never)).to.include('Active revision: none').and.include('Nothing to compare: no active revision.');
  });

  it('has tabs controlling panels, hidden until the script runs so that every section shows without it', () => {
    for (const page of [basePy, jupyter, legacy]) {
      expect(tags(page, 'div', /role="tablist"/)[0]).to.include(' hidden');
      const tabs = tags(page, 'button', /role="tab"/);
      expect(tabs.map((t) => /aria-controls="([^"]+)"/.exec(t)![1])).to.deep.equal(['overview', 'revisions', 'packages', 'builds', 'projects', 'dockerfile']);
      expect(tabs.filter((t) => t.includes('aria-selected="true"'))).to.have.length(1);
      const panels = tags(page, 'section', /role="tabpanel"/);
      expect(panels).to.have.length(6);
      for (const p of panels) expect(p).not.to.include('hidden');
      for (const t of tabs) expect(ids(page).has(/aria-controls="([^"]+)"/.exec(t)![1]!)).to.equal(true);
    }
  });

  it('draws the graph by depth, bases left, every environment a link, default and image bases as roots', () => {
    // The section around the graph: each node's label sits in an <svg> of its own, so the graph's <svg> nests.
    const svg = element(graph, 'section', /class="graph-scroll"/);
    const links = tags(svg, 'a', /class="node-link"/);
    expect(links.map((a) => /href="([^"]+)"/.exec(a)![1]).sort()).to.deep.equal(['environments/base-py.html', 'environments/jupyter.html', 'environments/legacy.html']);
    for (const a of links) expect(a).to.match(/aria-label="[^"]+"/);
    const x = (name: string) => Number(new RegExp(`data-name="${name}"><g [^>]*><rect x="(\\d+)"`).exec(svg)![1]);
    const rootX = Number(/class="node node-default[^"]*"[^>]*><title>[^<]*<\/title><rect x="(\d+)"/.exec(svg)![1]);
    expect(rootX).to.be.lessThan(x('base-py'));
    expect(x('base-py')).to.be.lessThan(x('jupyter'));
    expect(x('legacy')).to.equal(x('base-py'));
    expect(svg).to.include('class="node node-image"');
    expect(svg).to.include('<title>jupyter is built on base-py</title>');
    expect(svg).to.include('<title>legacy is built on quay.io/org/img:1.2</title>');
    expect(svg).to.include('<title>base-py is built on default base</title>');
    expect(svg.match(/class="edge[ "]/g)).to.have.length(3);
    // The same as a list, nested under the base.
    expect(spaced(graph)).to.match(/default base .*Python & "friends" base-py Jupyter on base-py jupyter/);
  });

  it('draws a base that is not in the catalog as an unlinked node, and survives a cycle', () => {
    const odd = siteData();
    const jup = odd.environments.find((e) => e.name === 'jupyter')!;
    jup.base = { kind: 'environment', environment: 'gone', revision: 2 };
    const legacyEnv = odd.environments.find((e) => e.name === 'legacy')!;
    legacyEnv.base = { kind: 'environment', environment: 'base-py', revision: 9 };
    const bp = odd.environments.find((e) => e.name === 'base-py')!;
    bp.base = { kind: 'environment', environment: 'legacy', revision: 'active' };
    const out = renderSite(odd);
    checkLinks(out, new Set(['logs/base-py/4.log', 'logs/base-py/1.log']), SOURCE);
    const g = out.get('graph.html')!;
    expect(g).to.include('class="node node-missing"');
    expect(g).to.include('gone (not in this catalog)');
    expect(tags(g, 'a', /class="node-link"/)).to.have.length(3);
    // A pinned revision that does not exist is named, not linked.
    expect(out.get('environments/legacy.html')).to.include('<a href="base-py.html">base-py</a>, revision 9');
    expect(out.get('environments/jupyter.html')).to.include('<code>gone</code> <span class="muted">(not in this catalog)</span>');
  });

  it('makes every page standalone, responsive and locked down', () => {
    for (const [path, html] of pages(files)) {
      expect(html, path).to.match(/^<!DOCTYPE html>\n<html lang="en">/);
      expect(html, path).to.include('<meta name="viewport" content="width=device-width, initial-scale=1">');
      expect(html, path).to.include(`<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">`);
      expect(html, path).to.include('id="announcer"');
      expect(html, path).not.to.match(/\sstyle=/);
      expect(html, path).not.to.match(/\son[a-z]+=/i);
      expect(html, path).not.to.match(/<style|<iframe|<object|<embed|<form/);
    }
    expect(CONTENT_SECURITY_POLICY).to.include("script-src 'self'").and.include("style-src 'self'").and.include("img-src 'self' data:");
    expect(CONTENT_SECURITY_POLICY).not.to.include('unsafe');
    const css = files.get('assets/site.css')!;
    expect(css).not.to.match(/@import|url\(|@font-face/);
    expect(css).to.include('@media (max-width').and.include('overflow-x: auto');
    const js = files.get('assets/site.js')!;
    expect(js).not.to.match(/fetch\(|XMLHttpRequest|import\(|https?:\/\/|eval\(|innerHTML/);
    expect(() => new Script(js)).not.to.throw();
  });

  it('gives every control an accessible name', () => {
    for (const [path, html] of pages(files)) {
      const labels = new Set(attributes(html, 'for'));
      for (const control of [...tags(html, 'input'), ...tags(html, 'select')]) {
        const id = /id="([^"]+)"/.exec(control)?.[1];
        expect(id !== undefined && labels.has(id), `${path}: ${control} has a label`).to.equal(true);
      }
      for (const button of [...html.matchAll(/<button\b([^>]*)>([^<]*)<\/button>/g)]) {
        expect(/aria-label="[^"]+"/.test(button[1]!) || button[2]!.trim() !== '', `${path}: ${button[0]}`).to.equal(true);
      }
      expect(html.match(/<button\b/g)?.length ?? 0, path).to.equal([...html.matchAll(/<button\b([^>]*)>([^<]*)<\/button>/g)].length);
    }
  });

  it('is deterministic and leaves its input alone', () => {
    const input = siteData();
    const before = JSON.stringify(input);
    const a = renderSite(input);
    expect(JSON.stringify(input)).to.equal(before);
    const b = renderSite(siteData());
    expect([...a]).to.deep.equal([...b]);
    // Input order does not matter: environments are listed by name.
    const reversed = siteData();
    reversed.environments.reverse();
    expect(renderSite(reversed).get('index.html')).to.equal(a.get('index.html'));
  });

  it('refuses environment names that are not safe file names, and duplicates', () => {
    for (const name of ['../evil', 'a/b', 'Upper', '', 'x.html', '-lead']) {
      const bad = siteData();
      bad.environments[0]!.name = name;
      expect(() => renderSite(bad), name).to.throw(/not a safe file name/);
    }
    const dup = siteData();
    dup.environments[1]!.name = dup.environments[2]!.name;
    expect(() => renderSite(dup)).to.throw(/appears twice/);
  });

  it('never turns a source that is not http(s) into a link', () => {
    const out = renderSite({ ...siteData(), source: 'javascript:alert(1)//' });
    for (const [path, html] of pages(out)) expect(html, path).not.to.match(/href="javascript:/i);
    expect(out.get('environments/base-py.html')).not.to.include('/commit/');
  });

  it('renders an empty catalog', () => {
    const out = renderSite({ title: 'Empty', generatedAt: '2024-06-01T00:00:00Z', environments: [] });
    expect([...out.keys()].sort()).to.deep.equal(['assets/site.css', 'assets/site.js', 'graph.html', 'index.html']);
    expect(out.get('index.html')).to.include('This repository has no environments yet.');
    checkLinks(out, new Set(), SOURCE);
  });
});

// ---------------------------------------------------------------------------
// site.js against a small fake DOM
// ---------------------------------------------------------------------------

type Listener = (event: { key?: string; target?: unknown; preventDefault(): void }) => void;

class FakeElement {
  hidden = false;
  value = '';
  checked = false;
  textContent = '';
  tabIndex = 0;
  focused = false;
  readonly attrs = new Map<string, string>();
  readonly listeners = new Map<string, Listener[]>();
  readonly children: FakeElement[] = [];
  readonly classList = { add: () => undefined };
  constructor(attrs: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(attrs)) this.attrs.set(k, v);
  }
  getAttribute(name: string) {
    return this.attrs.get(name) ?? null;
  }
  setAttribute(name: string, value: string) {
    this.attrs.set(name, value);
  }
  addEventListener(type: string, listener: Listener) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  fire(type: string, event: Partial<Parameters<Listener>[0]> = {}) {
    for (const l of this.listeners.get(type) ?? []) l({ preventDefault: () => undefined, target: this, ...event });
  }
  /** Only the selectors site.js uses. */
  querySelectorAll(selector: string): FakeElement[] {
    const found: FakeElement[] = [];
    const walk = (e: FakeElement) => {
      for (const c of e.children) {
        if ((selector === '[role="tab"]' && c.attrs.get('role') === 'tab') || (selector === '[role="tablist"]' && c.attrs.get('role') === 'tablist') || (selector === 'tbody tr[data-name]' && c.attrs.has('data-name'))) found.push(c);
        walk(c);
      }
    };
    walk(this);
    return found;
  }
  contains(other: FakeElement): boolean {
    return other === this || this.children.some((c) => c.contains(other));
  }
  closest() {
    return null;
  }
  focus() {
    this.focused = true;
  }
}

function runSiteJs(root: FakeElement, hash = '') {
  const byId = (id: string): FakeElement | null => {
    const find = (e: FakeElement): FakeElement | null => (e.attrs.get('id') === id ? e : e.children.map(find).find(Boolean) ?? null);
    return find(root);
  };
  const errors: unknown[] = [];
  const document = Object.assign(root, {
    readyState: 'complete',
    documentElement: new FakeElement(),
    getElementById: byId,
  });
  const window = { location: { hash }, addEventListener: () => undefined, getSelection: () => null };
  const context = createContext({ document, window, navigator: {}, console: { error: (...a: unknown[]) => errors.push(a) }, setTimeout, clearTimeout, Promise });
  new Script(renderSite(siteData()).get('assets/site.js')!).runInContext(context);
  expect(errors, 'site.js logged errors').to.deep.equal([]);
  return byId;
}

describe('site: site.js', () => {
  function indexDom() {
    const root = new FakeElement();
    const filters = new FakeElement({ id: 'filters' });
    filters.hidden = true;
    const text = new FakeElement({ id: 'filter-text' });
    const status = new FakeElement({ id: 'filter-status' });
    status.value = 'all';
    const archived = new FakeElement({ id: 'show-archived' });
    const table = new FakeElement({ id: 'environments' });
    const row = (name: string, status: string, isArchived: boolean, search: string) =>
      new FakeElement({ 'data-name': name, 'data-status': status, 'data-archived': String(isArchived), 'data-search': search });
    table.children.push(row('base-py', 'failed', false, 'base-py python @acme/data'), row('jupyter', 'building', false, 'jupyter notebooks ada'), row('legacy', 'not-built', true, 'legacy old r'));
    root.children.push(filters, text, status, archived, table, new FakeElement({ id: 'filter-count' }), new FakeElement({ id: 'no-match' }));
    return { root, filters, text, status, archived, rows: table.children };
  }
  const visible = (rows: FakeElement[]) => rows.filter((r) => !r.hidden).map((r) => r.getAttribute('data-name'));

  it('shows the filters, hides archived environments until asked, and filters by text and status', () => {
    const dom = indexDom();
    const byId = runSiteJs(dom.root);
    expect(dom.filters.hidden).to.equal(false);
    expect(visible(dom.rows)).to.deep.equal(['base-py', 'jupyter']);
    expect(byId('filter-count')!.textContent).to.equal('2 of 3 environments shown');
    dom.archived.checked = true;
    dom.archived.fire('change');
    expect(visible(dom.rows)).to.deep.equal(['base-py', 'jupyter', 'legacy']);
    dom.text.value = '  ACME  py ';
    dom.text.fire('input');
    expect(visible(dom.rows)).to.deep.equal(['base-py']);
    dom.text.value = '';
    dom.text.fire('input');
    dom.status.value = 'not-built';
    dom.status.fire('change');
    expect(visible(dom.rows)).to.deep.equal(['legacy']);
    dom.archived.checked = false;
    dom.archived.fire('change');
    expect(visible(dom.rows)).to.deep.equal([]);
    expect(byId('no-match')!.hidden).to.equal(false);
  });

  function pageDom() {
    const root = new FakeElement();
    const list = new FakeElement({ role: 'tablist' });
    list.hidden = true;
    const names = ['overview', 'revisions', 'builds'];
    const tabs = names.map((n, i) => new FakeElement({ role: 'tab', id: `tab-${n}`, 'aria-controls': n, 'aria-selected': i === 0 ? 'true' : 'false' }));
    list.children.push(...tabs);
    const panels = names.map((n) => new FakeElement({ id: n, role: 'tabpanel' }));
    panels[1]!.children.push(new FakeElement({ id: 'revision-3' }));
    root.children.push(list, ...panels);
    return { root, list, tabs, panels };
  }
  const shown = (panels: FakeElement[]) => panels.filter((p) => !p.hidden).map((p) => p.getAttribute('id'));

  it('turns sections into tabs that follow clicks, arrow keys and the link target', () => {
    const dom = pageDom();
    runSiteJs(dom.root);
    expect(dom.list.hidden).to.equal(false);
    expect(shown(dom.panels)).to.deep.equal(['overview']);
    dom.tabs[2]!.fire('click');
    expect(shown(dom.panels)).to.deep.equal(['builds']);
    expect(dom.tabs.map((t) => t.getAttribute('aria-selected'))).to.deep.equal(['false', 'false', 'true']);
    expect(dom.tabs.map((t) => t.tabIndex)).to.deep.equal([-1, -1, 0]);
    dom.tabs[2]!.fire('keydown', { key: 'ArrowRight' });
    expect(shown(dom.panels)).to.deep.equal(['overview']);
    expect(dom.tabs[0]!.focused).to.equal(true);
    dom.tabs[0]!.fire('keydown', { key: 'End' });
    expect(shown(dom.panels)).to.deep.equal(['builds']);

    const linked = pageDom();
    runSiteJs(linked.root, '#revision-3');
    expect(shown(linked.panels)).to.deep.equal(['revisions']);
  });

  it('leaves a page without its elements untouched and raises nothing', () => {
    const root = new FakeElement();
    runSiteJs(root);
    expect(root.children).to.have.length(0);
  });
});
