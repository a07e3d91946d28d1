/**
 * The catalog's only stylesheet and script, written as `assets/site.css`
 * and `assets/site.js`. Nothing is fetched from anywhere: system fonts, no
 * framework, no network. The pages work without the script (every section
 * shows, the filters stay hidden); with it, sections become tabs, the index
 * and the packages filter, and copy buttons copy.
 */

export const SITE_CSS = `:root {
  color-scheme: light dark;
  --bg: #ffffff;
  --fg: #1b1f24;
  --muted: #57606a;
  --border: #d0d7de;
  --panel: #f6f8fa;
  --link: #0550ae;
  --focus: #0969da;
  --ok-bg: #dafbe1; --ok-fg: #0a3622;
  --bad-bg: #ffebe9; --bad-fg: #82071e;
  --busy-bg: #fff8c5; --busy-fg: #4d2d00;
  --idle-bg: #eaeef2; --idle-fg: #24292f;
  --add-bg: #e6ffec; --add-fg: #0a3622;
  --del-bg: #ffebe9; --del-fg: #82071e;
  --duration: #0969da;
  --size: #bc4c00;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  line-height: 1.5;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --border: #3d444d; --panel: #151b23;
    --link: #4493f8; --focus: #4493f8;
    --ok-bg: #12361f; --ok-fg: #aff5b4; --bad-bg: #4c1419; --bad-fg: #ffc1ba;
    --busy-bg: #3b2e00; --busy-fg: #f8e3a1; --idle-bg: #262c36; --idle-fg: #d1d7e0;
    --add-bg: #12361f; --add-fg: #aff5b4; --del-bg: #4c1419; --del-fg: #ffc1ba;
    --duration: #4493f8; --size: #f0883e;
  }
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg); }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px;
}
code, pre, kbd { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.875em; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.skip-link { position: absolute; left: -9999px; top: 0; background: var(--bg); padding: 0.5rem; z-index: 10; }
.skip-link:focus { left: 0.5rem; }
.site-header { border-bottom: 1px solid var(--border); background: var(--panel); }
.site-header nav, main, .site-footer { max-width: 80rem; margin: 0 auto; padding: 0.75rem 1rem; }
.site-header nav { display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; align-items: baseline; }
.site-header .site-title { font-weight: 600; font-size: 1.1rem; }
.site-footer { color: var(--muted); font-size: 0.875rem; border-top: 1px solid var(--border); }
h1 { font-size: 1.6rem; margin: 0.5rem 0; overflow-wrap: anywhere; }
h1 code { font-size: 0.9rem; font-weight: normal; color: var(--muted); }
h2 { font-size: 1.25rem; margin: 1.5rem 0 0.5rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 0.5rem; }
.muted, .empty { color: var(--muted); }
.description { white-space: pre-line; overflow-wrap: anywhere; }
.breadcrumb { font-size: 0.9rem; color: var(--muted); }

.badge, .tag {
  display: inline-block; padding: 0 0.5em; border-radius: 1em; font-size: 0.8rem; font-weight: 600;
  white-space: nowrap; border: 1px solid transparent;
}
.status-succeeded.badge { background: var(--ok-bg); color: var(--ok-fg); }
.status-failed.badge, .status-cancelled.badge { background: var(--bad-bg); color: var(--bad-fg); }
.status-building.badge, .status-queued.badge { background: var(--busy-bg); color: var(--busy-fg); }
.status-not-built.badge { background: var(--idle-bg); color: var(--idle-fg); }
.tag { border-color: var(--border); color: var(--muted); font-weight: normal; }
.tag-archived { border-style: dashed; }
.label-active { background: var(--ok-bg); color: var(--ok-fg); border-color: var(--ok-fg); }

.filters { display: flex; flex-wrap: wrap; gap: 0.75rem 1.5rem; align-items: flex-end; margin: 1rem 0; }
.field { display: flex; flex-direction: column; gap: 0.25rem; }
.field.checkbox { flex-direction: row; align-items: center; }
.field label { font-weight: 600; font-size: 0.9rem; }
input[type="search"], select {
  font: inherit; padding: 0.35rem 0.5rem; border: 1px solid var(--border); border-radius: 6px;
  background: var(--bg); color: var(--fg); min-width: 12rem; max-width: 100%;
}
input[type="checkbox"] { width: 1.1rem; height: 1.1rem; }
.filter-count { margin: 0; color: var(--muted); }

.table-scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%; border: 1px solid var(--border); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.45rem 0.6rem; border-bottom: 1px solid var(--border); }
thead th { background: var(--panel); font-size: 0.85rem; white-space: nowrap; }
tbody tr:last-child > * { border-bottom: none; }
.environments th[scope="row"], .revisions th[scope="row"] { font-weight: normal; }
.environments .env-title { font-weight: 600; }
.environments td, .environments th { min-width: 6rem; }
tr.revision.active { background: var(--ok-bg); }
tr.revision.active > * { color: var(--ok-fg); }
tr.revision.active a { color: inherit; }
.revision-summary { min-width: 14rem; overflow-wrap: anywhere; }
.image-cell { min-width: 18rem; }
.image-ref { word-break: break-all; }
.reused, .reason, .failure, .tests { font-size: 0.85rem; margin: 0.25rem 0 0; }
.tests-passed { color: var(--ok-fg); }
.tests-failed { color: var(--bad-fg); }
tr.revision.active .tests-failed { color: inherit; }
.package-revision { border-top: 1px solid var(--border); margin-top: 1rem; }
.package-list summary { cursor: pointer; margin: 0.5rem 0; }
.package-diff caption { text-align: left; font-weight: 600; padding: 0.45rem 0.6rem; }
.package-diff .change-added td:nth-child(3) { color: var(--add-fg); }
.package-diff .change-removed td:nth-child(3) { color: var(--del-fg); }
.nowrap { white-space: nowrap; }

button {
  font: inherit; color: var(--fg); background: var(--panel); border: 1px solid var(--border);
  border-radius: 6px; padding: 0.2rem 0.6rem; cursor: pointer;
}
button.copy { font-size: 0.8rem; margin-left: 0.25rem; }

.tabs { display: flex; flex-wrap: wrap; gap: 0.25rem; border-bottom: 1px solid var(--border); margin-top: 1rem; }
.tabs [role="tab"] { border: 1px solid transparent; border-bottom: none; border-radius: 6px 6px 0 0; background: none; padding: 0.5rem 0.9rem; margin-bottom: -1px; }
.tabs [role="tab"][aria-selected="true"] { border-color: var(--border); background: var(--bg); font-weight: 600; }
.panel { padding: 0.25rem 0 1rem; }
.js .panel > h2.panel-heading { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.35rem 1rem; margin: 0.5rem 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 40rem) {
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: 0.5rem; }
  h1 { font-size: 1.35rem; }
}
.tools { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: 0.75rem; }
.tool { display: flex; gap: 0.75rem; align-items: flex-start; border: 1px solid var(--border); border-radius: 6px; padding: 0.6rem; }
.tool-icon { flex: none; }
.tool-icon text { font-weight: 700; fill: #ffffff; font-family: system-ui, sans-serif; }
.tool-title { font-weight: 600; display: block; }
.tool code { overflow-wrap: anywhere; }
.secret { font-style: italic; color: var(--muted); }
.arguments { padding-left: 1.25rem; }

pre { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 0.75rem; overflow-x: auto; max-width: 100%; margin: 0.5rem 0; }
pre.diff .diff-line { display: block; }
pre.diff .add { background: var(--add-bg); color: var(--add-fg); }
pre.diff .del { background: var(--del-bg); color: var(--del-fg); }
pre.diff .hunk { color: var(--muted); font-style: italic; }
pre.diff .meta { font-weight: 600; }

.chart { margin: 0.5rem 0; max-width: 48rem; overflow-x: auto; }
.chart-svg { width: 100%; min-width: 30rem; height: auto; display: block; }
.chart-svg .grid { stroke: var(--border); stroke-width: 1; }
.chart-svg .axis { stroke: var(--muted); stroke-width: 1; }
.chart-svg text { fill: var(--fg); font-size: 12px; font-family: system-ui, sans-serif; }
.chart-svg .axis-label { font-weight: 600; }
.chart-svg .series { fill: none; stroke-width: 2; }
.chart-svg .series-duration { stroke: var(--duration); }
.chart-svg .series-size { stroke: var(--size); stroke-dasharray: 6 4; }
.chart-svg .point-duration { fill: var(--duration); }
.chart-svg .point-size { fill: var(--size); }
.chart-svg .point.status-failed, .chart-svg .point.status-cancelled { fill: var(--bg); stroke-width: 2; }
.chart-svg .point-duration.status-failed, .chart-svg .point-duration.status-cancelled { stroke: var(--duration); }
.chart-svg .point-size.status-failed, .chart-svg .point-size.status-cancelled { stroke: var(--size); }
.legend { font-size: 0.85rem; color: var(--muted); }
.legend-duration { color: var(--duration); }
.legend-size { color: var(--size); }

.graph-scroll { overflow: auto; max-width: 100%; border: 1px solid var(--border); border-radius: 6px; background: var(--panel); }
.graph-svg { display: block; }
.graph-svg .edge { fill: none; stroke: var(--muted); stroke-width: 1.5; }
.graph-svg .edge-pinned { stroke-dasharray: 5 3; }
.graph-svg .node rect { fill: var(--bg); stroke: var(--border); stroke-width: 1.5; }
.graph-svg .node text { fill: var(--fg); font-size: 13px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.graph-svg .node-default rect, .graph-svg .node-image rect { fill: var(--idle-bg); }
.graph-svg .node-missing rect { stroke-dasharray: 4 3; }
.graph-svg .node.status-succeeded rect { stroke: var(--ok-fg); }
.graph-svg .node.status-failed rect { stroke: var(--bad-fg); }
.graph-svg .node.archived rect { stroke-dasharray: 4 3; }
.graph-svg .node.archived text { fill: var(--muted); }
.graph-svg a.node-link:hover rect, .graph-svg a.node-link:focus rect { stroke: var(--focus); stroke-width: 3; }
.graph-svg a.node-link:focus { outline: none; }
.tree, .tree ul { padding-left: 1.25rem; }
.tree li { margin: 0.2rem 0; }
`;

/**
 * Plain ES2017 that tolerates missing elements: each feature looks for its
 * own elements and leaves the page as it is when they are absent, and one
 * feature failing does not stop the others.
 */
export const SITE_JS = `(function () {
  'use strict';
  var doc = document;
  doc.documentElement.classList.add('js');

  function byId(id) { return doc.getElementById(id); }
  function all(root, selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

  var announceTimer = null;
  /** Says a message in the page's aria-live region (cleared first so a repeat is announced again). */
  function announce(message) {
    var region = byId('announcer');
    if (!region) return;
    region.textContent = '';
    if (announceTimer) clearTimeout(announceTimer);
    announceTimer = setTimeout(function () { region.textContent = message; }, 30);
  }

  /* ---------- Tabs: buttons with role="tab" controlling role="tabpanel" sections ---------- */
  var tabSets = [];
  function initTabs() {
    all(doc, '[role="tablist"]').forEach(function (list) {
      var tabs = all(list, '[role="tab"]');
      var panels = tabs.map(function (tab) { return byId(tab.getAttribute('aria-controls') || ''); });
      if (!tabs.length || panels.some(function (p) { return !p; })) return;
      function select(index, focus) {
        tabs.forEach(function (tab, i) {
          var on = i === index;
          tab.setAttribute('aria-selected', on ? 'true' : 'false');
          tab.tabIndex = on ? 0 : -1;
          panels[i].hidden = !on;
        });
        if (focus) tabs[index].focus();
      }
      tabs.forEach(function (tab, i) {
        tab.addEventListener('click', function () { select(i, false); });
        tab.addEventListener('keydown', function (event) {
          var next = null;
          if (event.key === 'ArrowRight' || event.key === 'ArrowDown') next = (i + 1) % tabs.length;
          else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') next = (i - 1 + tabs.length) % tabs.length;
          else if (event.key === 'Home') next = 0;
          else if (event.key === 'End') next = tabs.length - 1;
          if (next === null) return;
          event.preventDefault();
          select(next, true);
        });
      });
      var initial = 0;
      tabs.forEach(function (tab, i) { if (tab.getAttribute('aria-selected') === 'true') initial = i; });
      select(initial, false);
      tabSets.push({ panels: panels, select: select });
      list.hidden = false;
    });
  }

  /** Shows the tab panel holding the element with this id; true when it did. */
  function reveal(id) {
    if (!id) return false;
    var target = byId(id);
    if (!target) return false;
    var shown = false;
    tabSets.forEach(function (set) {
      set.panels.forEach(function (panel, i) {
        if (panel === target || panel.contains(target)) { set.select(i, false); shown = true; }
      });
    });
    return shown;
  }

  function hashId() {
    var hash = window.location.hash.slice(1);
    try { return decodeURIComponent(hash); } catch (e) { return hash; }
  }

  function initLinks() {
    if (reveal(hashId())) {
      var target = byId(hashId());
      if (target && target.scrollIntoView) target.scrollIntoView();
    }
    window.addEventListener('hashchange', function () { reveal(hashId()); });
    // A link to a section on the same page shows its panel before the browser scrolls to it.
    doc.addEventListener('click', function (event) {
      var link = event.target && event.target.closest ? event.target.closest('a[href^="#"]') : null;
      if (link) reveal(link.getAttribute('href').slice(1));
    });
  }

  /* ---------- Index filters ---------- */
  function initFilters() {
    var controls = byId('filters');
    var text = byId('filter-text');
    var status = byId('filter-status');
    var archived = byId('show-archived');
    var table = byId('environments');
    if (!controls || !text || !status || !archived || !table) return;
    var rows = all(table, 'tbody tr[data-name]');
    var count = byId('filter-count');
    var none = byId('no-match');
    function apply() {
      var words = text.value.toLowerCase().split(/\\s+/).filter(Boolean);
      var wanted = status.value || 'all';
      var showArchived = archived.checked;
      var shown = 0;
      rows.forEach(function (row) {
        var haystack = (row.getAttribute('data-search') || row.getAttribute('data-name') || '').toLowerCase();
        var visible = (showArchived || row.getAttribute('data-archived') !== 'true') &&
          (wanted === 'all' || row.getAttribute('data-status') === wanted) &&
          words.every(function (w) { return haystack.indexOf(w) !== -1; });
        row.hidden = !visible;
        if (visible) shown++;
      });
      if (count) count.textContent = shown + ' of ' + rows.length + ' environment' + (rows.length === 1 ? '' : 's') + ' shown';
      if (none) none.hidden = shown !== 0;
    }
    [text, status, archived].forEach(function (control) {
      control.addEventListener('input', apply);
      control.addEventListener('change', apply);
    });
    // The browser may restore form values when coming back to the page.
    window.addEventListener('pageshow', apply);
    apply();
    controls.hidden = false;
  }

  /* ---------- Packages filter: rows with data-search in #packages; each list says how many match and opens ---------- */
  function initPackageFilter() {
    var controls = byId('package-filters');
    var text = byId('filter-packages');
    var panel = byId('packages');
    if (!controls || !text || !panel) return;
    var rows = all(panel, 'tr[data-search]');
    var lists = all(panel, 'details.package-list');
    var count = byId('package-filter-count');
    var none = byId('no-package-match');
    function apply() {
      var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var haystack = row.getAttribute('data-search') || '';
        var visible = words.every(function (w) { return haystack.indexOf(w) !== -1; });
        row.hidden = !visible;
        if (visible) shown++;
      });
      lists.forEach(function (list) {
        var matches = all(list, 'tr[data-search]').filter(function (row) { return !row.hidden; }).length;
        var label = list.querySelector('[data-package-count]');
        if (label) label.textContent = words.length ? '(' + matches + ' matching)' : '';
        if (words.length && matches > 0) list.open = true;
      });
      if (count) count.textContent = words.length ? shown + ' of ' + rows.length + ' rows match' : '';
      if (none) none.hidden = !words.length || shown !== 0;
    }
    text.addEventListener('input', apply);
    window.addEventListener('pageshow', apply);
    apply();
    controls.hidden = false;
  }

  /* ---------- Copy buttons: button.copy[data-copy-target] copies that element's text ---------- */
  function selectText(element) {
    var selection = window.getSelection ? window.getSelection() : null;
    if (!selection || !doc.createRange) return false;
    var range = doc.createRange();
    range.selectNodeContents(element);
    selection.removeAllRanges();
    selection.addRange(range);
    return true;
  }
  function fallbackCopy(element) {
    var selected = false;
    try {
      selected = selectText(element);
      if (selected && doc.execCommand && doc.execCommand('copy')) return 'copied';
    } catch (e) { /* fall through */ }
    return selected ? 'selected' : 'failed';
  }
  function copy(element) {
    var text = (element.textContent || '').trim();
    var clipboard = navigator.clipboard;
    if (clipboard && typeof clipboard.writeText === 'function') {
      try {
        return clipboard.writeText(text).then(function () { return 'copied'; }, function () { return fallbackCopy(element); });
      } catch (e) { /* fall back below */ }
    }
    return Promise.resolve(fallbackCopy(element));
  }
  function initCopy() {
    doc.addEventListener('click', function (event) {
      var button = event.target && event.target.closest ? event.target.closest('button.copy') : null;
      if (!button) return;
      var target = byId(button.getAttribute('data-copy-target') || '');
      if (!target) return;
      copy(target).then(function (outcome) {
        button.setAttribute('data-copied', outcome);
        if (outcome === 'copied') announce('Copied');
        else if (outcome === 'selected') announce('Copy is not available here: the text is selected, press Ctrl+C or Cmd+C to copy it');
        else announce('Copy failed');
      });
    });
  }

  function run() {
    [initTabs, initLinks, initFilters, initPackageFilter, initCopy].forEach(function (init) {
      try { init(); } catch (e) { if (window.console) console.error('envctl site: ' + init.name + ' failed', e); }
    });
  }
  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', run);
  else run();
})();
`;
