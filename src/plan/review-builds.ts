/**
 * What a review build found, as the plan comment shows it: whether each
 * changed environment (and each that rebuilds on it) built and passed its
 * tests in the pull request, with the log's tail when it did not, its image
 * size against the active revision's, and its package diff against the
 * active revision's packages. Pure: the builds come in as data
 * (repository/review-builds.ts reads them); every value from an image or a
 * log goes through the escaper for where it sits.
 */
import type { EcosystemDiff } from '../packages/index.js';
import { codeSpan, fenced, markdownText } from './markdown-escape.js';

/** One environment's build in review: built, not pushed. */
export interface ReviewBuild {
  environment: string;
  revision: number;
  status: 'succeeded' | 'failed';
  /**
   * Why it failed, as data: `build` (a step failed), `test` (a test or tool
   * check failed), `skipped` (its base failed), or `unbuildable` (it needs
   * a build secret, which a pull request is not given: said, not a failure).
   */
  failure?: { kind: string };
  /** One line for people: the failed step or test. */
  reason?: string;
  logTail?: string;
  /** Compressed bytes of the image built in review. */
  size?: number;
  /** The revision that is active now, what the size and packages are compared with (none for a new environment). */
  active?: { revision: number; size?: number };
  /** Package changes against the active revision; undefined when either side's packages are not known. */
  packages?: EcosystemDiff[];
}

/** Lines of a log tail shown in the comment; the artifact has the whole log. */
const TAIL_LINES = 30;
/** Package rows past this are collapsed into a <details>. */
const PACKAGES_SHOWN = 15;

/** `✅` / `❌` after the table's build cell, nothing when there was no review build. */
export function reviewMark(build: ReviewBuild | undefined): string {
  return build === undefined ? '' : build.status === 'succeeded' ? ' ✅' : unbuildable(build) ? ' ⚠️' : ' ❌';
}

/** Could not be built in review at all (it needs a build secret): said, but not a failure of the change. */
const unbuildable = (b: ReviewBuild) => b.status === 'failed' && b.failure?.kind === 'unbuildable';

/** The heading's count of failed review builds, when there are any. */
export function failedLine(builds: readonly ReviewBuild[]): string | undefined {
  const failed = builds.filter((b) => b.status === 'failed' && !unbuildable(b));
  if (failed.length === 0) return undefined;
  const names = failed.map((b) => codeSpan(b.environment)).join(', ');
  return `**${failed.length === 1 ? '1 review build fails' : `${failed.length} review builds fail`}**: ${names}; the check stays red until ${failed.length === 1 ? 'it builds' : 'they build'} and ${failed.length === 1 ? 'passes its' : 'pass their'} tests.`;
}

/** The lines of one environment's section about its review build (and, under `of`, a dependent's). */
export function reviewBuildLines(build: ReviewBuild, of?: string): string[] {
  const who = of === undefined ? 'Review build' : `Review build of ${codeSpan(of)}`;
  const out: string[] = [];
  if (unbuildable(build)) return [`- ${who}: ⚠️ not built in review: ${markdownText(build.reason ?? 'it cannot be built here')}`];
  if (build.status === 'failed') {
    const kind = build.failure?.kind;
    const what = kind === 'test' ? 'a test failed' : kind === 'skipped' ? 'not built' : 'the build failed';
    out.push(`- ${who}: ❌ ${what}${build.reason ? `: ${markdownText(build.reason)}` : ''}`);
    if (build.logTail) out.push('', ...logBlock(build.logTail));
    return out;
  }
  const parts = ['✅ builds and passes its tests'];
  const size = sizeText(build);
  if (size) parts.push(size);
  out.push(`- ${who}: ${parts.join(', ')}`);
  if (build.packages !== undefined) out.push(...packageLines(build));
  return out;
}

/** `412.3 MB (+12.1 MB against revision 2)`. */
function sizeText(build: ReviewBuild): string | undefined {
  if (build.size === undefined) return undefined;
  const against = build.active?.size !== undefined ? ` (${signed(build.size - build.active.size)} against revision ${build.active.revision})` : '';
  return `${megabytes(build.size)}${against}`;
}

function megabytes(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

function signed(n: number): string {
  return `${n >= 0 ? '+' : '−'}${megabytes(Math.abs(n))}`;
}

function packageLines(build: ReviewBuild): string[] {
  const diff = build.packages!;
  const against = build.active ? `revision ${build.active.revision}` : 'nothing (a new environment)';
  const added = diff.reduce((n, d) => n + d.added.length, 0);
  const removed = diff.reduce((n, d) => n + d.removed.length, 0);
  const changed = diff.reduce((n, d) => n + d.changed.length, 0);
  if (added + removed + changed === 0) return [`- Packages: the same as ${against}`];
  const summary = `Package diff against ${against}: ${added} added, ${removed} removed, ${changed} changed`;
  const rows = ['| ecosystem | package | before | after |', '| --- | --- | --- | --- |'];
  for (const d of diff) {
    for (const p of d.added) rows.push(row(d.ecosystem, p.name, '–', p.version));
    for (const p of d.removed) rows.push(row(d.ecosystem, p.name, p.version, '–'));
    for (const p of d.changed) rows.push(row(d.ecosystem, p.name, p.from, p.to));
  }
  const total = added + removed + changed;
  // The markers let comment-split.ts leave a long table out for its summary, as it does a diff.
  const start = `<!-- envctl-plan-diff Package diff, ${total} ${total === 1 ? 'line' : 'lines'} -->`;
  if (total <= PACKAGES_SHOWN) return ['', start, `**${summary}**`, '', ...rows, '<!-- /envctl-plan-diff -->'];
  return ['', start, '<details>', `<summary>${summary}</summary>`, '', ...rows, '', '</details>', '<!-- /envctl-plan-diff -->'];
}

/** A table row: every value from the image is escaped for a cell (no pipe, no HTML, no link). */
function row(ecosystem: string, name: string, before: string, after: string): string {
  return `| ${markdownText(ecosystem)} | ${markdownText(name)} | ${markdownText(before)} | ${markdownText(after)} |`;
}

function logBlock(tail: string): string[] {
  const lines = tail.replace(/\n+$/, '').split('\n').slice(-TAIL_LINES);
  return ['<details>', `<summary>The log's last ${lines.length === 1 ? 'line' : `${lines.length} lines`}</summary>`, '', fenced(lines.join('\n')), '', '</details>'];
}

/** The review builds file envctl build --results writes (sync/review-build.ts), for envctl plan --review-builds. */
export const REVIEW_BUILDS_FORMAT = 'envctl-review-builds/1';

/**
 * The builds in a review builds file, checked field by field (it is made in
 * the pull request's own job, so it is as trusted as the plan it joins; a
 * field of the wrong type is dropped, not believed). Undefined for a file
 * that is not one.
 */
export function parseReviewBuilds(text: string): ReviewBuild[] | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const file = data as { format?: unknown; builds?: unknown };
  if (file?.format !== REVIEW_BUILDS_FORMAT || !Array.isArray(file.builds)) return undefined;
  const out: ReviewBuild[] = [];
  for (const raw of file.builds as Record<string, unknown>[]) {
    if (typeof raw?.environment !== 'string' || !Number.isInteger(raw.revision) || (raw.status !== 'succeeded' && raw.status !== 'failed')) continue;
    const b: ReviewBuild = { environment: raw.environment, revision: raw.revision as number, status: raw.status };
    const failure = raw.failure as { kind?: unknown } | undefined;
    if (typeof failure?.kind === 'string') b.failure = { kind: failure.kind };
    if (typeof raw.reason === 'string') b.reason = raw.reason;
    if (typeof raw.logTail === 'string') b.logTail = raw.logTail;
    if (isSize(raw.size)) b.size = raw.size;
    const active = raw.active as { revision?: unknown; size?: unknown } | undefined;
    if (active && Number.isInteger(active.revision)) b.active = { revision: active.revision as number, ...(isSize(active.size) ? { size: active.size } : {}) };
    if (Array.isArray(raw.packages)) b.packages = (raw.packages as EcosystemDiff[]).filter(isEcosystemDiff);
    out.push(b);
  }
  return out;
}

const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isEntry = (p: unknown): boolean => typeof (p as { name?: unknown })?.name === 'string';

function isEcosystemDiff(d: EcosystemDiff): boolean {
  if (typeof d?.ecosystem !== 'string' || !Array.isArray(d.added) || !Array.isArray(d.removed) || !Array.isArray(d.changed)) return false;
  return d.added.every((p) => isEntry(p) && typeof p.version === 'string') && d.removed.every((p) => isEntry(p) && typeof p.version === 'string')
    && d.changed.every((p) => isEntry(p) && typeof p.from === 'string' && typeof p.to === 'string');
}
