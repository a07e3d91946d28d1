/**
 * The catalog site from a real repository with a real ledger (made by
 * envctl's own sync on busybox images built with buildah into a local
 * registry), opened in headless Chromium (Debian's, driven by
 * playwright-core) from file://: the index, the filters, an environment's
 * revisions against the ledger, no console errors, nothing fetched from
 * elsewhere, and a screenshot kept as a test artefact. Accessibility by
 * axe-core run inside the pages, markup by html-validate on every file.
 */
import type { AxeResults } from 'axe-core';
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { readLedger } from '../src/git/ledger.js';
import type { Ledger } from '../src/ledger/model.js';
import type { InstalledPackage } from '../src/packages/index.js';
import { writeSite } from '../src/repository/site.js';
import type { RunningRegistry } from '../src/registry/embedded.js';
import { pushBusybox } from './fixtures/images.js';
import { commit, git } from './fixtures/repo.js';
import { startRegistry } from './fixtures/registry.js';
import { markupErrors } from './fixtures/site-markup.js';
import { freePort, removeDir, tempDir, yaml } from './helpers.js';

// A port of this run's own: two test runs on one machine never share a registry.
const PORT = await freePort();
const REGISTRY = `127.0.0.1:${PORT}`;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'envctl.js');
const AXE = join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const ARTEFACTS = join(ROOT, 'test-artifacts');
const spec = (run: string, extra: string[] = []) => yaml('owner: "@acme/data"', ...extra, 'instructions: |', `  RUN ${run}`);

describe('site: the catalog in headless Chromium', function () {
  this.timeout(300_000);
  let registry: RunningRegistry;
  let registryData: string;
  let dir: string;
  let site: string;
  /** The same repository's site written with a package loader standing in for the registry. */
  let withPackages: string;
  let browser: Browser;
  let ledger: Ledger;
  const consoleErrors: string[] = [];
  const leftTheMachine: string[] = [];

  const envctl = (...args: string[]) => execa(process.execPath, [BIN, ...args], { cwd: dir, reject: false });
  async function open(path: string, from = site, options: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, ...options });
    const page = await context.newPage();
    page.on('close', () => void context.close());
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${path}: ${m.text()}`); });
    page.on('pageerror', (e) => consoleErrors.push(`${path}: ${e.message}`));
    // Only the site's own files may load.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      leftTheMachine.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(join(from, path)).href);
    return page;
  }

  /**
   * axe's violations on the page as it is shown now, one line per element. axe
   * goes in through the DevTools protocol (page.evaluate), since the pages' CSP
   * rightly refuses an inline <script>; rules are axe's default set (WCAG 2.x
   * A and AA, best practices).
   */
  async function axeViolations(page: Page): Promise<string[]> {
    await page.evaluate(await readFile(AXE, 'utf8'));
    const results = await page.evaluate(() => (window as unknown as { axe: { run(context: Document): Promise<AxeResults> } }).axe.run(document));
    return results.violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')}: ${n.failureSummary ?? ''}`));
  }

  before(async () => {
    registryData = await tempDir('envctl-registry-');
    registry = await startRegistry(registryData, PORT);
    await pushBusybox(`${REGISTRY}/test/busybox:1`);
    dir = await tempDir('envctl-site-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml(`registry: { address: "${REGISTRY}" }`, 'defaultBase: { image: "{registry}/test/busybox:1", layers: 1 }', 'source: https://github.com/acme/environments'),
      '.gitignore': '.envctl/\n',
      'environments/base-tools.yaml': spec('echo one > /tools', ['title: Base tools', 'variables: { API_TOKEN: { secret: true }, MODE: "fast" }']),
      'environments/notebooks.yaml': spec('cat /tools > /nb', ['title: Notebooks', 'base: { environment: base-tools }']),
      'environments/old-stats.yaml': spec('echo old > /old', ['title: Old stats', 'archived: true']),
      'projects/churn.yaml': yaml('owner: "@acme/data"', 'environment: notebooks'),
    }, 'three environments and a project');
    expect((await envctl('sync')).exitCode).to.equal(0);
    await commit(dir, { 'environments/base-tools.yaml': spec('echo two > /tools', ['title: Base tools', 'variables: { API_TOKEN: { secret: true }, MODE: "fast" }']) }, 'base-tools: two');
    expect((await envctl('sync')).exitCode).to.equal(0);
    await git(dir, 'revert', '--no-edit', 'HEAD');
    expect((await envctl('sync')).exitCode).to.equal(0);
    await commit(dir, { 'environments/old-stats.yaml': spec('exit 3', ['title: Old stats', 'archived: true']) }, 'old-stats: breaks');
    expect((await envctl('sync')).exitCode).to.equal(1);
    ledger = (await readLedger(dir, 'envctl-state')).ledger;
    site = join(await tempDir('envctl-site-out-'), 'site');
    const written = await envctl('site', '--out', site);
    expect(written.exitCode).to.equal(0, written.stderr);
    // base-tools: revision 1 and its revert 3 share an image; revision 2 changes a package, adds one, removes one.
    const digests = ledger.get('base-tools')!.builds.map((b) => b.digest);
    const pkg = (ecosystem: InstalledPackage['ecosystem'], name: string, version: string): InstalledPackage => ({ ecosystem, name, version, path: 'var/lib/dpkg/status' });
    const first = [pkg('deb', 'busybox', '1:1.35.0-4'), pkg('deb', 'libc6', '2.36-9'), pkg('pypi', 'numpy', '1.26.0'), pkg('pypi', '<img src=x onerror=alert(1)>', '"><script>alert(2)</script>')];
    const second = [pkg('deb', 'busybox', '1:1.35.0-4'), pkg('deb', 'libc6', '2.36-10'), pkg('pypi', 'numpy', '1.26.0'), pkg('pypi', 'pandas', '2.2.1')];
    withPackages = join(dirname(site), 'with-packages');
    await writeSite(dir, withPackages, {
      loadPackages: async (environment, build) =>
        environment !== 'base-tools' ? undefined : build.digest === digests[0] ? first : build.digest === digests[1] ? second : undefined,
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await registry.stop();
    await removeDir(dir);
    await removeDir(registryData);
    await removeDir(dirname(site)); // withPackages too
  });

  it('the index lists every environment, archived ones only when asked', async () => {
    const page = await open('index.html');
    const visible = () => page.locator('#environments tbody tr.env-row:not([hidden])').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    expect(await visible()).to.deep.equal(['base-tools', 'notebooks']);
    await page.getByLabel('Show archived').check();
    expect(await visible()).to.deep.equal(['base-tools', 'notebooks', 'old-stats']);
    expect(await page.locator('#env-old-stats').getAttribute('data-status')).to.equal('failed');
    await mkdir(ARTEFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTEFACTS, 'site-index.png'), fullPage: true });
    expect(existsSync(join(ARTEFACTS, 'site-index.png'))).to.equal(true);
  });

  it('the text and status filters narrow the list', async () => {
    const page = await open('index.html');
    const visible = () => page.locator('#environments tbody tr.env-row:not([hidden])').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    await page.getByRole('searchbox', { name: 'Filter environments' }).fill('note');
    expect(await visible()).to.deep.equal(['notebooks']);
    await page.getByRole('searchbox', { name: 'Filter environments' }).fill('');
    await page.getByLabel('Show archived').check();
    await page.getByLabel('Build status').selectOption('failed');
    expect(await visible()).to.deep.equal(['old-stats']);
    expect(await page.locator('#filter-count').textContent()).to.contain('1 of 3');
  });

  it('an environment\'s revisions match the ledger: digests, the active mark, the reused image', async () => {
    const page = await open('environments/base-tools.html');
    await page.getByRole('tab', { name: 'Revisions' }).click();
    const builds = ledger.get('base-tools')!.builds;
    for (const b of builds) {
      const text = await page.locator(`#image-${b.revision}`).textContent();
      expect(text).to.equal(`${REGISTRY}/envctl/base-tools@${b.digest}`);
    }
    const active = await page.locator('tr.revision.active').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-revision')));
    expect(active).to.deep.equal([String(ledger.get('base-tools')!.active)]);
    expect(ledger.get('base-tools')!.active).to.equal(3);
    expect(await page.locator('#revision-3').textContent()).to.contain("reused revision 1's image");
    expect(await page.locator('#overview').textContent()).to.contain('API_TOKEN');
  });

  it('the copy button copies the image reference and says so', async () => {
    const page = await open('environments/notebooks.html');
    await page.getByRole('tab', { name: 'Revisions' }).click();
    await page.getByRole('button', { name: 'Copy image reference for revision 1' }).click();
    await page.locator('#announcer', { hasText: 'Copied' }).waitFor({ timeout: 5000 });
    expect(await page.locator('button.copy[data-copy-target="image-1"]').getAttribute('data-copied')).to.be.oneOf(['copied', 'selected']);
  });

  it('every page and every link in it loads, with no console errors and no request off the machine', async () => {
    const seen = new Set<string>();
    const queue = ['index.html', 'graph.html'];
    while (queue.length > 0) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const page = await open(path);
      // SVG links too (the graph): their href attribute, resolved against the page.
      const hrefs = await page.locator('a[href]').evaluateAll((as) => as.map((a) => new URL(a.getAttribute('href')!, document.baseURI).href));
      for (const href of hrefs.filter((h) => h.startsWith('file://'))) {
        const file = fileURLToPath(href.split('#')[0]!);
        expect(existsSync(file), `${path} links to ${href}`).to.equal(true);
        if (file.endsWith('.html')) queue.push(file.slice(site.length + 1));
      }
      await page.close();
    }
    expect(seen.has('environments/notebooks.html')).to.equal(true);
    expect(consoleErrors).to.deep.equal([]);
    expect(leftTheMachine).to.deep.equal([]);
  });

  it('has no accessibility violations axe finds: the index, every tab of two environment pages, the graph', async () => {
    const found: string[] = [];
    for (const path of ['index.html', 'graph.html']) {
      const page = await open(path);
      found.push(...(await axeViolations(page)).map((v) => `${path}: ${v}`));
      await page.close();
    }
    // One with a history and a reused image, one archived whose latest build failed.
    for (const path of ['environments/base-tools.html', 'environments/old-stats.html']) {
      const page = await open(path);
      const tabs = await page.getByRole('tab').all();
      expect(tabs.length).to.equal(6);
      for (const tab of tabs) {
        await tab.click();
        const name = (await tab.textContent()) ?? '';
        found.push(...(await axeViolations(page)).map((v) => `${path} (${name}): ${v}`));
      }
      await page.close();
    }
    expect(found).to.deep.equal([]);
  });

  it('writes markup html-validate finds no error in, on every page, packages included', async () => {
    const errors: string[] = [];
    for (const from of [site, withPackages]) {
      const files = (await readdir(from, { recursive: true })).filter((f) => f.endsWith('.html')).sort();
      expect(files).to.include.members(['index.html', 'graph.html', 'environments/base-tools.html', 'environments/notebooks.html']);
      errors.push(...(await markupErrors(await Promise.all(files.map(async (f): Promise<[string, string]> => [join(from, f), await readFile(join(from, f), 'utf8')])))));
    }
    expect(errors).to.deep.equal([]);
  });

  it('the Packages tab lists each revision\'s packages and its diff, and the filter narrows them', async () => {
    const page = await open('environments/base-tools.html', withPackages);
    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    await page.getByRole('tab', { name: 'Packages' }).click();
    // The names in the rows the reader can see (not hidden by the filter, not in a closed list).
    const shown = (selector: string) =>
      page.locator(selector).evaluateAll((rows) => rows.filter((r) => (r as HTMLElement).offsetParent !== null).map((r) => r.querySelector('th')!.textContent));
    // Revision 3 (newest, reusing revision 1's image) opens its list; revision 2's changes are shown.
    expect(await shown('#package-list-3 tr.package')).to.deep.equal(['busybox', 'libc6', '<img src=x onerror=alert(1)>', 'numpy']);
    expect(await page.locator('#package-diff-2 caption').textContent()).to.equal('Changes from revision 1: 1 added, 1 removed, 1 changed');
    expect(await page.locator('#package-diff-3 caption').textContent()).to.equal('Changes from revision 2: 1 added, 1 removed, 1 changed');
    const filter = page.getByRole('searchbox', { name: 'Filter packages' });
    await filter.fill('libc6');
    expect(await shown('#package-list-3 tr.package')).to.deep.equal(['libc6']);
    expect(await shown('#package-diff-2 tr.package-change')).to.deep.equal(['libc6']);
    // Revision 2's list was closed; a match opens it.
    expect(await page.locator('#package-list-2').evaluate((d) => (d as HTMLDetailsElement).open)).to.equal(true);
    expect(await page.locator('#package-list-2 [data-package-count]').textContent()).to.equal('(1 matching)');
    await filter.fill('pandas added');
    expect(await shown('#packages tr.package-change')).to.deep.equal(['pandas']);
    expect(await shown('#packages tr.package')).to.deep.equal([]);
    await filter.fill('no-such-package');
    expect(await page.locator('#no-package-match').isVisible()).to.equal(true);
    await filter.fill('');
    expect(await page.locator('#packages tr[data-search][hidden]').count()).to.equal(0);
    // The hostile name is text: no element made of it, nothing run.
    expect(await page.locator('#packages img, #packages script').count()).to.equal(0);
    expect(dialogs).to.deep.equal([]);
    const violations = await axeViolations(page);
    expect(violations).to.deep.equal([]);
    await page.screenshot({ path: join(ARTEFACTS, 'site-packages.png'), fullPage: true });
    await page.close();
  });

  it('the Packages tab without JavaScript shows every section and row, and no filter', async () => {
    const page = await open('environments/base-tools.html', withPackages, { javaScriptEnabled: false });
    expect(await page.locator('#packages').isVisible()).to.equal(true);
    expect(await page.locator('#package-filters').isVisible()).to.equal(false);
    expect(await page.locator('#packages tr[data-search][hidden]').count()).to.equal(0);
    expect(await page.locator('#package-list-3 tr.package').evaluateAll((rows) => rows.filter((r) => (r as HTMLElement).offsetParent !== null).length)).to.equal(4);
    expect(await page.locator('#package-diff-2 tr.package-change').evaluateAll((rows) => rows.filter((r) => (r as HTMLElement).offsetParent !== null).length)).to.equal(3);
    await page.close();
  });

  it('is usable at phone width: the index fits without sideways scrolling of the page', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
    await page.goto(pathToFileURL(join(site, 'index.html')).href);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).to.be.at.most(0);
    await page.screenshot({ path: join(ARTEFACTS, 'site-phone.png'), fullPage: true });
  });
});
