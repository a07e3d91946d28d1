/**
 * The catalog site as files: a pure function of SiteData (no fs, no
 * network, no clock). The writer puts each returned file at its relative
 * path; builds' `logHref` values are paths relative to the site's root,
 * which the writer fills with the copied logs.
 *
 * - `index.html`: every environment, filterable by text, build status and archived;
 * - `graph.html`: what is built on what;
 * - `environments/<name>.html`: overview, revisions, builds chart, projects, Dockerfile;
 * - `assets/site.css`, `assets/site.js`.
 */
import { SITE_CSS, SITE_JS } from './assets.js';
import type { SiteData, SiteEnvironment } from './model.js';
import { environmentPage, graphPage, indexPage, type SiteContext } from './templates.js';

export { CONTENT_SECURITY_POLICY } from './templates.js';

/** Environment names become file names: refuse anything but the names envctl allows. */
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,126}[a-z0-9])?$/;

/** `source` for commit links: an http(s) URL without a trailing slash, else null (never a javascript: or relative link). */
function sourceUrl(source: string | undefined): string | null {
  if (!source) return null;
  const trimmed = source.trim().replace(/\/+$/, '');
  return /^https?:\/\/[^\s"'<>`\\]+$/i.test(trimmed) ? trimmed : null;
}

export function renderSite(data: SiteData): Map<string, string> {
  const environments = [...data.environments].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const byName = new Map<string, SiteEnvironment>();
  for (const env of environments) {
    if (!NAME.test(env.name)) throw new Error(`site: environment name ${JSON.stringify(env.name)} is not a safe file name`);
    if (byName.has(env.name)) throw new Error(`site: environment ${env.name} appears twice`);
    byName.set(env.name, env);
  }
  const ctx: SiteContext = { data, environments: byName, source: sourceUrl(data.source) };
  const files = new Map<string, string>();
  files.set('index.html', indexPage(ctx, environments));
  files.set('graph.html', graphPage(ctx, environments));
  for (const env of environments) files.set(`environments/${env.name}.html`, environmentPage(ctx, env));
  files.set('assets/site.css', SITE_CSS);
  files.set('assets/site.js', SITE_JS);
  return files;
}
