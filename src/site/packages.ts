/**
 * The Packages tab of an environment page: per revision, newest first, what
 * its image holds (ecosystem, name, version) and what changed from the
 * image of the revision before (added, removed, changed per ecosystem). Names and
 * versions come from whoever wrote the image, so they are text through the
 * html`` tag like everything else, attributes included.
 *
 * Hooks (for site.js and the tests): `#package-filters` (hidden until
 * site.js runs), `#filter-packages`, `#package-filter-count`,
 * `#no-package-match`; per revision `section.package-revision#packages-<n>`;
 * package rows `tr.package[data-search]`, change rows
 * `tr.package-change[data-change][data-search]`, each list
 * `details.package-list` with `[data-package-count]` in its summary.
 */
import { comparePackages, diffPackages, ECOSYSTEMS, type Ecosystem, type InstalledPackage, type PackageCounts } from '../packages/index.js';
import { plural } from '../model/words.js';
import { html, type Html } from './html.js';
import type { SiteEnvironment, SiteRevision } from './model.js';

/** What the page calls each ecosystem, beside its purl type. */
export const ECOSYSTEM_NAMES: Record<Ecosystem, string> = { deb: 'Debian', apk: 'Alpine', pypi: 'Python', conda: 'conda', cran: 'R' };

const ecosystemCell = (e: Ecosystem) => html`${ECOSYSTEM_NAMES[e] ?? e} <span class="muted">(${e})</span>`;

/** What the filter matches a row against: every word in it, lower case. */
const searchOf = (ecosystem: Ecosystem, ...words: string[]) => [ecosystem, ECOSYSTEM_NAMES[ecosystem] ?? '', ...words].filter(Boolean).join(' ').toLowerCase();

/**
 * Counts as the page may print them: ecosystems in their fixed order, only
 * whole non-negative numbers (the counts come from the ledger, written by
 * any sync), none when nothing is left.
 */
function cleanCounts(counts: PackageCounts | undefined): [Ecosystem, number][] {
  if (!counts || typeof counts !== 'object') return [];
  return ECOSYSTEMS.flatMap((e): [Ecosystem, number][] => {
    const n = counts[e];
    return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? [[e, n]] : [];
  });
}

function countsSentence(counts: [Ecosystem, number][]): string {
  const total = counts.reduce((sum, [, n]) => sum + n, 0);
  return `${plural(total, 'package')}${counts.length ? `: ${counts.map(([e, n]) => `${n} ${ECOSYSTEM_NAMES[e]}`).join(', ')}` : ''}`;
}

function countsOf(packages: readonly InstalledPackage[]): [Ecosystem, number][] {
  return ECOSYSTEMS.flatMap((e): [Ecosystem, number][] => {
    const n = packages.filter((p) => p.ecosystem === e).length;
    return n > 0 ? [[e, n]] : [];
  });
}

function packageList(revision: number, packages: readonly InstalledPackage[], open: boolean): Html {
  const sorted = [...packages].sort(comparePackages);
  const rows = sorted.map(
    (p) => html`<tr class="package" data-search="${searchOf(p.ecosystem, p.name, p.version, p.arch ?? '')}"><td>${ecosystemCell(p.ecosystem)}</td><th scope="row"><code>${p.name}</code></th><td><code>${p.version}</code>${p.arch ? html` <span class="muted">${p.arch}</span>` : ''}</td></tr>`,
  );
  return html`<details class="package-list" id="package-list-${revision}"${open ? html` open` : ''}>
<summary>All ${plural(sorted.length, 'package')} of revision ${revision} <span class="package-count" data-package-count></span></summary>
<div class="table-scroll"><table class="packages">
<thead><tr><th scope="col">Ecosystem</th><th scope="col">Name</th><th scope="col">Version</th></tr></thead>
<tbody>
${rows}
</tbody>
</table></div>
</details>`;
}

function changes(revision: number, previous: SiteRevision | undefined, packages: readonly InstalledPackage[]): Html {
  if (!previous) return html`<p class="package-diff-note">No revision before it has an image: nothing to compare with.</p>`;
  if (!previous.packages) return html`<p class="package-diff-note">Changes from revision ${previous.number} are not known: its packages are not known.</p>`;
  const diff = diffPackages(previous.packages, packages);
  if (!diff.length) return html`<p class="package-diff-note">The same packages as revision ${previous.number}.</p>`;
  const added = diff.reduce((n, d) => n + d.added.length, 0);
  const removed = diff.reduce((n, d) => n + d.removed.length, 0);
  const changed = diff.reduce((n, d) => n + d.changed.length, 0);
  const none = html`<span class="muted">—</span>`;
  const rows = diff.flatMap((d) =>
    [
      ...d.added.map((p) => ({ name: p.name, change: 'added' as const, before: null, after: p.version })),
      ...d.removed.map((p) => ({ name: p.name, change: 'removed' as const, before: p.version, after: null })),
      ...d.changed.map((p) => ({ name: p.name, change: 'changed' as const, before: p.from, after: p.to })),
    ]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(
        (row) =>
          html`<tr class="package-change change-${row.change}" data-change="${row.change}" data-search="${searchOf(d.ecosystem, row.name, row.change, row.before ?? '', row.after ?? '')}"><td>${ecosystemCell(d.ecosystem)}</td><th scope="row"><code>${row.name}</code></th><td>${row.change}</td><td>${row.before === null ? none : html`<code>${row.before}</code>`}</td><td>${row.after === null ? none : html`<code>${row.after}</code>`}</td></tr>`,
      ),
  );
  return html`<div class="table-scroll"><table class="package-diff" id="package-diff-${revision}">
<caption>Changes from revision ${previous.number}: ${added} added, ${removed} removed, ${changed} changed</caption>
<thead><tr><th scope="col">Ecosystem</th><th scope="col">Package</th><th scope="col">Change</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
<tbody>
${rows}
</tbody>
</table></div>`;
}

/**
 * Full lists are written for this many of the newest revisions that have
 * one, and the active revision: a list runs to thousands of rows, and a long
 * history would make the page tens of megabytes. Older revisions keep their
 * counts and their changes, which are small.
 */
export const LISTED_REVISIONS = 5;

function revisionBlock(env: SiteEnvironment, r: SiteRevision, previous: SiteRevision | undefined, list: 'open' | 'closed' | 'none'): Html {
  const active = isActive(env, r);
  let content: Html;
  if (r.packages) {
    content = html`<p class="package-summary">${countsSentence(countsOf(r.packages))}.</p>
${changes(r.number, previous, r.packages)}
${
  !r.packages.length
    ? ''
    : list === 'none'
      ? html`<p class="muted">The full list is written for the ${LISTED_REVISIONS} newest revisions that have one and the active revision.</p>`
      : packageList(r.number, r.packages, list === 'open')
}`;
  } else {
    const counts = cleanCounts(r.packageCounts);
    content = counts.length
      ? html`<p class="package-summary">${countsSentence(counts)}, as its build recorded them; the list itself is not in this catalog.</p>`
      : html`<p class="empty">Packages are not known for this revision${r.build === null ? ': it was not built' : r.build.status === 'succeeded' ? '' : ': its build did not succeed'}.</p>`;
  }
  return html`<section class="package-revision" id="packages-${r.number}" aria-labelledby="packages-${r.number}-heading" data-revision="${r.number}">
<h3 id="packages-${r.number}-heading">Revision ${r.number}${active ? ' (active)' : ''}</h3>
${content}
</section>`;
}

const isActive = (env: SiteEnvironment, r: SiteRevision) => r.active || r.number === env.activeRevision;

/**
 * What a revision is compared with: the newest older one that has an image
 * (a revision whose build failed has none, so its successor's changes are
 * the ones from the image before it).
 */
function previousImage(older: readonly SiteRevision[]): SiteRevision | undefined {
  return older.find((r) => r.packages !== undefined || r.build?.status === 'succeeded');
}

export function packagesPanel(env: SiteEnvironment): Html {
  if (!env.revisions.length) return html`<p class="empty">No revisions yet.</p>`;
  const withList = env.revisions.filter((r) => r.packages?.length);
  const listed = new Set([...withList.slice(0, LISTED_REVISIONS), ...withList.filter((r) => isActive(env, r))].map((r) => r.number));
  // Only the newest list opens by itself: the lists can be long, and the filter opens the ones it matches.
  const list = (r: SiteRevision) => (!listed.has(r.number) ? 'none' : r === withList[0] ? 'open' : 'closed');
  const anyRows = withList.length > 0;
  return html`<p>What each revision's image holds, and what changed from the image of the revision before it.</p>
${
  anyRows
    ? html`<div class="filters" id="package-filters" role="search" aria-label="Filter packages" hidden>
<div class="field"><label for="filter-packages">Filter packages</label><input id="filter-packages" type="search" autocomplete="off" spellcheck="false" placeholder="Name or version"></div>
<p class="filter-count" id="package-filter-count" aria-live="polite"></p>
</div>
<p id="no-package-match" class="empty" hidden>No package matches this filter.</p>`
    : ''
}
${env.revisions.map((r, i) => revisionBlock(env, r, previousImage(env.revisions.slice(i + 1)), list(r)))}`;
}
