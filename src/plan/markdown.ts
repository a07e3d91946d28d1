/**
 * A review as GitHub-flavoured Markdown: the pull-request comment and the
 * job summary. What matters comes first: one heading line with the totals
 * (environments changed, dependents that rebuild, builds, reuses, the
 * commit, the run), then the table, then who is affected (projects, models
 * and data sets and their owners), then each environment's details. Every
 * value from a spec, a branch or a message goes through one escaper for
 * where it sits (markdown-escape.ts).
 *
 * The text carries hidden markers for comment-split.ts, which cuts it into
 * comments GitHub accepts: a meta line first (head commit, run link), a
 * line between blocks that can go to different comments, and each diff
 * between markers so it can be left out for its summary. Each block is
 * whole on its own: every <details> and fence it opens it closes.
 */
import { failedLine, reviewBuildLines, reviewMark, type ReviewBuild } from './review-builds.js';
import { errorCount, type Problem } from '../model/problem.js';
import type { EnvironmentReview, Reached, Review } from './review.js';
import { noun, plural } from '../model/words.js';
import { codeSpan, fenced, htmlText, markdownText } from './markdown-escape.js';
import { RUN_URL } from './run-link.js';
import { shortKey } from '../render/index.js';

export { codeSpan, fenced, htmlText, markdownText, visibleControls } from './markdown-escape.js';

/** Diffs longer than this many lines are collapsed. */
const COLLAPSE_AFTER = 25;
/** A comment longer than this (bytes), or with more environments than COLLAPSE_ENVIRONMENTS, shows each environment collapsed. */
const COLLAPSE_BYTES = 16_000;
const COLLAPSE_ENVIRONMENTS = 3;
/** The head block names at most this many consumers; each environment's block names them all. */
const HEAD_REACHES = 20;
/** The table's rebuilds cell names at most this many. */
const CELL_NAMES = 5;

export const BLOCK_MARKER = '<!-- envctl-plan-block -->';
export const DIFF_END_MARKER = '<!-- /envctl-plan-diff -->';
/** `<!-- envctl-plan-diff Spec diff, 40 lines -->`: the diff's summary, kept when the diff is left out. */
export const DIFF_START = /^<!-- envctl-plan-diff ((?:Spec|Dockerfile|Package) diff), (\d+) lines? -->$/;
/** `<!-- envctl-plan-meta head=<sha> run=<url> -->`, the first line: what `comment` checks and links to. */
export const META = /^<!-- envctl-plan-meta(?: head=([0-9a-f]{40}))?(?: run=(\S+))? -->$/;

export interface MarkdownOptions {
  /** The workflow run's page (plan/run-link.ts), linked in the heading. */
  run?: string;
  /** Each environment in a collapsed <details>; default: when the comment is long. */
  collapse?: boolean;
}

export interface PlanMeta {
  head?: string;
  run?: string;
}

/** The head commit and run link a plan's first line names (values checked again: the file may come from a fork's run). */
export function planMeta(markdown: string): PlanMeta {
  const m = META.exec(markdown.slice(0, markdown.indexOf('\n') >>> 0));
  const out: PlanMeta = {};
  if (m?.[1]) out.head = m[1];
  if (m?.[2] && RUN_URL.test(m[2])) out.run = m[2];
  return out;
}

export function reviewMarkdown(review: Review, opts: MarkdownOptions = {}): string {
  const run = opts.run !== undefined && RUN_URL.test(opts.run) ? opts.run : undefined;
  const head = headBlock(review, run);
  const sections = (collapse: boolean) => review.environments.map((e) => environmentSection(e, collapse, review));
  let blocks = sections(opts.collapse ?? false);
  if (opts.collapse === undefined) {
    const long = review.environments.length > COLLAPSE_ENVIRONMENTS || bytes([head, ...blocks].join('\n')) > COLLAPSE_BYTES;
    if (long) blocks = sections(true);
  }
  if (review.otherProblems.length > 0) blocks.push(['#### Other problems', '', ...problemList(review.otherProblems)].join('\n'));
  const meta = `<!-- envctl-plan-meta${review.head && /^[0-9a-f]{40}$/.test(review.head) ? ` head=${review.head}` : ''}${run ? ` run=${run}` : ''} -->`;
  return `${[`${meta}\n${head}`, ...blocks].join(`\n\n${BLOCK_MARKER}\n\n`)}\n`;
}

export const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** The totals a reviewer reads first. */
export function totals(review: Review): { changed: number; dependents: number; builds: number; reuses: number } {
  const changed = new Set(review.environments.map((e) => e.environment));
  const dependents = new Set(review.environments.flatMap((e) => e.rebuilds).filter((n) => !changed.has(n)));
  const own = review.environments.filter((e) => e.build?.action === 'build').length;
  const reuses = review.environments.filter((e) => e.build?.action === 'reuse').length;
  return { changed: changed.size, dependents: dependents.size, builds: own + dependents.size, reuses };
}

function heading(review: Review, run: string | undefined): string {
  const t = totals(review);
  const what = t.changed === 0 ? 'no environment changes'
    : [
      `${plural(t.changed, 'environment')} ${noun(t.changed, 'changes', 'change')}`,
      `${plural(t.dependents, 'dependent')} ${noun(t.dependents, 'rebuilds', 'rebuild')}`,
    ].join(', ') + `: ${plural(t.builds, 'build')}, ${plural(t.reuses, 'reuse')}`;
  const parts = [`### envctl plan: ${what}`];
  if (review.head && /^[0-9a-f]{40}$/.test(review.head)) parts.push(`for ${codeSpan(review.head.slice(0, 12))}`);
  if (run) parts.push(`[workflow run](${run})`);
  return parts.join(' · ');
}

function headBlock(review: Review, run: string | undefined): string {
  const out = [heading(review, run)];
  out.push('', `Merging ${codeSpan(review.change)} into ${codeSpan(review.target)}.`);
  if (review.errors > 0) out.push('', `**${plural(review.errors, 'error')}**: the validate check fails until ${noun(review.errors, 'it is', 'they are')} fixed.`);
  const failed = failedLine(review.builds ?? []);
  if (failed) out.push('', failed);
  if (review.environments.length > 0) {
    out.push('', '| environment | revision | build | layers | rebuilds | problems |', '| --- | --- | --- | --- | --- | --- |');
    for (const e of review.environments) {
      out.push(`| ${markdownText(e.environment)} | ${revisionCell(e)} | ${buildCell(e)}${reviewMark(buildOf(review, e.environment))} | ${layersCell(e)} | ${rebuildsCell(e.rebuilds)} | ${problemsCell(e.problems)} |`);
    }
  }
  const reached = review.environments.flatMap((e) => e.reaches.map((r) => ({ via: e.environment, r })));
  if (reached.length > 0) {
    out.push('', '#### Who is affected', '');
    for (const { via, r } of reached.slice(0, HEAD_REACHES)) out.push(`- ${reachedLine(r, via)}`);
    if (reached.length > HEAD_REACHES) out.push(`- and ${reached.length - HEAD_REACHES} more, listed under each environment`);
    out.push('', `Owners to ask: ${ownersOf(reached.map((x) => x.r)).map(codeSpan).join(', ')}`);
  }
  return out.join('\n');
}

/**
 * `project `churn-analysis`, owner `@acme/analytics`: on `jupyter-vscode`, which rebuilds after `python-datascience``.
 * Owners in code spans: named for the reviewer, never mentioned (a spec's owner field must not ping anyone).
 */
function reachedLine(r: Reached, changed: string): string {
  const kind = r.kind === 'dataset' ? 'data set' : r.kind;
  const how = r.pinned !== null ? `pinned to revision ${r.pinned} of ${codeSpan(r.environment)}, does not move`
    : r.environment === changed ? `follows ${codeSpan(changed)}`
      : `on ${codeSpan(r.environment)}, which rebuilds after ${codeSpan(changed)}`;
  return `${kind} ${codeSpan(r.name)}, owner ${codeSpan(r.owner)}: ${how}`;
}

function ownersOf(reached: Reached[]): string[] {
  return [...new Set(reached.map((r) => r.owner))].sort();
}

function environmentSection(e: EnvironmentReview, collapse: boolean, review: Review): string {
  const title = `${e.environment}${e.revision !== null ? ` → revision ${e.revision}` : ' (removed)'}`;
  const out: string[] = [];
  if (e.build?.action === 'reuse') out.push(`- Build: none; reuses revision ${e.build.reusedRevision}'s image (identical build inputs)`);
  else if (e.build) out.push(`- Build: new image${e.build.contentKey ? ` (content key ${codeSpan(shortKey(e.build.contentKey))})` : ', after its base'}`);
  else if (e.change !== 'removed') out.push('- Build: none needed');
  const own = buildOf(review, e.environment);
  if (own) out.push(...reviewBuildLines(own));
  const known = e.layers.total ?? e.layers.atLeast;
  if (known !== undefined) out.push(`- Layers: ${e.layers.total === null ? 'at least ' : ''}${known} of ${e.layers.limit}${known > e.layers.limit ? ' (over the limit)' : ''}`);
  if (e.rebuilds.length > 0) out.push(`- Rebuilds after it: ${e.rebuilds.map(codeSpan).join(', ')}`);
  for (const name of e.rebuilds) {
    const theirs = buildOf(review, name);
    if (theirs) out.push(...reviewBuildLines(theirs, name));
  }
  if (e.reaches.length === 0) out.push('- Reaches no project, model or data set');
  for (const r of e.reaches) out.push(`- Reaches ${reachedLine(r, e.environment)}`);
  if (e.problems.length > 0) out.push('', ...problemList(e.problems));
  if (!e.rendered) out.push('', '_The Dockerfile is rendered once the errors above are fixed._');
  for (const [name, diff] of [['Spec diff', e.specDiff], ['Dockerfile diff', e.dockerfileDiff]] as const) {
    if (diff) out.push('', ...collapsible(name, diff));
  }
  if (!collapse) return [`#### ${markdownText(title)}`, '', ...out].join('\n');
  return ['<details>', `<summary><strong>${htmlText(title)}</strong>: ${htmlText(summaryOf(e))}</summary>`, '', ...out, '', '</details>'].join('\n');
}

/** One line for a collapsed environment: what it builds, what rebuilds, its problems. */
function summaryOf(e: EnvironmentReview): string {
  const build = !e.build ? 'nothing to build' : e.build.action === 'reuse' ? `reuses revision ${e.build.reusedRevision}` : 'builds';
  const parts = [build];
  if (e.rebuilds.length > 0) parts.push(`${plural(e.rebuilds.length, 'dependent')} ${noun(e.rebuilds.length, 'rebuilds', 'rebuild')}`);
  if (e.reaches.length > 0) parts.push(`reaches ${plural(e.reaches.length, 'consumer')}`);
  const problems = problemsCell(e.problems);
  if (problems !== '–') parts.push(problems);
  return parts.join(', ');
}

function collapsible(title: string, diff: string): string[] {
  const lines = diff.replace(/\n$/, '').split('\n');
  const block = fenced(lines.join('\n'), 'diff');
  const start = `<!-- envctl-plan-diff ${title}, ${plural(lines.length, 'line')} -->`;
  if (lines.length <= COLLAPSE_AFTER) return [start, `**${title}**`, '', block, DIFF_END_MARKER];
  return [start, '<details>', `<summary>${title} (${lines.length} lines)</summary>`, '', block, '', '</details>', DIFF_END_MARKER];
}

function problemList(problems: Problem[]): string[] {
  return problems.map((p) => `- ${p.severity === 'error' ? '❌' : '⚠️'} ${codeSpan(`${p.file}:${p.line}:${p.col}`)} ${markdownText(p.message)} ${codeSpan(`[${p.rule}]`)}`);
}

const revisionCell = (e: EnvironmentReview) =>
  e.revision === null ? 'removed' : e.previousRevision === null ? `new: ${e.revision}` : `${e.previousRevision} → ${e.revision}`;

const buildCell = (e: EnvironmentReview) =>
  !e.build ? '–' : e.build.action === 'reuse' ? `reuse r${e.build.reusedRevision}` : 'build';

/** A base with 300 dependents keeps its row readable: the first few names and the count of the rest. */
function rebuildsCell(names: string[]): string {
  if (names.length === 0) return '–';
  const shown = names.slice(0, CELL_NAMES).map(markdownText).join(', ');
  return names.length > CELL_NAMES ? `${shown} and ${names.length - CELL_NAMES} more` : shown;
}

/** `≥ 131/127`: a lower bound, the base image's layers unknown. */
function layersCell(e: EnvironmentReview): string {
  const known = e.layers.total ?? e.layers.atLeast;
  if (known === undefined) return '?';
  return `${e.layers.total === null ? '≥ ' : ''}${known}/${e.layers.limit}${known > e.layers.limit ? ' ❌' : ''}`;
}

function problemsCell(problems: Problem[]): string {
  const errors = errorCount(problems);
  const warnings = problems.length - errors;
  return [errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ') || '–';
}

/** The review build of an environment, when the change was built in review. */
function buildOf(review: Review, environment: string): ReviewBuild | undefined {
  return review.builds?.find((b) => b.environment === environment);
}
