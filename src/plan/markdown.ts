/**
 * A review as GitHub-flavoured Markdown: the pull-request comment and the
 * job summary. Long diffs are collapsed in <details>; user text goes only
 * into code blocks (fenced longer than any backtick run inside) or is
 * escaped, so a spec cannot inject Markdown or HTML into the comment.
 */
import { errorCount, type Problem } from '../model/problem.js';
import type { EnvironmentReview, Review } from './review.js';
import { noun, plural } from '../model/words.js';

/** Diffs longer than this many lines are collapsed. */
const COLLAPSE_AFTER = 25;

export function reviewMarkdown(review: Review, opts: { projects?: Map<string, string[]> } = {}): string {
  const out: string[] = [];
  const n = review.environments.length;
  out.push(`### envctl plan: ${n === 0 ? 'no environment changes' : `${plural(n, 'environment')} ${noun(n, 'changes', 'change')}`}`);
  out.push('', `Merging \`${inline(review.change)}\` into \`${inline(review.target)}\`.`);
  if (review.errors > 0) out.push('', `**${plural(review.errors, 'error')}**: the validate check fails until ${noun(review.errors, 'it is', 'they are')} fixed.`);
  if (n > 0) {
    out.push('', '| environment | revision | build | layers | rebuilds | problems |', '| --- | --- | --- | --- | --- | --- |');
    for (const e of review.environments) {
      out.push(`| ${cell(e.environment)} | ${revisionCell(e)} | ${buildCell(e)} | ${layersCell(e)} | ${e.rebuilds.map(cell).join(', ') || '–'} | ${problemsCell(e.problems)} |`);
    }
  }
  for (const e of review.environments) out.push('', ...environmentSection(e, opts.projects?.get(e.environment)));
  if (review.otherProblems.length > 0) out.push('', '#### Other problems', '', ...problemList(review.otherProblems));
  return `${out.join('\n')}\n`;
}

function environmentSection(e: EnvironmentReview, projects: string[] | undefined): string[] {
  const out = [`#### ${cell(e.environment)}${e.revision !== null ? ` → revision ${e.revision}` : ' (removed)'}`, ''];
  if (e.build?.action === 'reuse') out.push(`- Build: none; reuses revision ${e.build.reusedRevision}'s image (identical build inputs)`);
  else if (e.build) out.push(`- Build: new image${e.build.contentKey ? ` (content key \`${e.build.contentKey.slice(0, 12)}\`)` : ', after its base'}`);
  else if (e.change !== 'removed') out.push('- Build: none needed');
  if (e.layers.total !== null) out.push(`- Layers: ${e.layers.total} of ${e.layers.limit}${e.layers.total > e.layers.limit ? ' (over the limit)' : ''}`);
  if (e.rebuilds.length > 0) out.push(`- Rebuilds after it: ${e.rebuilds.map((r) => `\`${inline(r)}\``).join(', ')}`);
  if (projects) out.push(`- Projects using it: ${projects.length ? projects.map((p) => `\`${inline(p)}\``).join(', ') : 'none'}`);
  if (e.problems.length > 0) out.push('', ...problemList(e.problems));
  if (!e.rendered) out.push('', '_The Dockerfile is rendered once the errors above are fixed._');
  for (const [title, diff] of [['Spec diff', e.specDiff], ['Dockerfile diff', e.dockerfileDiff]] as const) {
    if (diff) out.push('', ...collapsible(title, diff));
  }
  return out;
}

function collapsible(title: string, diff: string): string[] {
  const lines = diff.replace(/\n$/, '').split('\n');
  const block = fenced(lines.join('\n'), 'diff');
  if (lines.length <= COLLAPSE_AFTER) return [`**${title}**`, '', block];
  return ['<details>', `<summary>${title} (${lines.length} lines)</summary>`, '', block, '', '</details>'];
}

function problemList(problems: Problem[]): string[] {
  return problems.map((p) => `- ${p.severity === 'error' ? '❌' : '⚠️'} \`${inline(`${p.file}:${p.line}:${p.col}`)}\` ${escapeText(p.message)} \`[${inline(p.rule)}]\``);
}

const revisionCell = (e: EnvironmentReview) =>
  e.revision === null ? 'removed' : e.previousRevision === null ? `new: ${e.revision}` : `${e.previousRevision} → ${e.revision}`;

const buildCell = (e: EnvironmentReview) =>
  !e.build ? '–' : e.build.action === 'reuse' ? `reuse r${e.build.reusedRevision}` : 'build';

const layersCell = (e: EnvironmentReview) =>
  e.layers.total === null ? '?' : `${e.layers.total}/${e.layers.limit}${e.layers.total > e.layers.limit ? ' ❌' : ''}`;

function problemsCell(problems: Problem[]): string {
  const errors = errorCount(problems);
  const warnings = problems.length - errors;
  return [errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : ''].filter(Boolean).join(', ') || '–';
}

/** A fence longer than any backtick run in the text, so nothing inside can close it. */
export function fenced(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${text}\n${fence}`;
}

/** Text inside an inline code span: backticks cannot end it early. */
const inline = (s: string) => s.replace(/`/g, "'").replace(/\r?\n/g, ' ');
/** Table cells: no pipes or line breaks from user text. */
const cell = (s: string) => escapeText(s).replace(/\|/g, '\\|');
/** Markdown and HTML specials in running text. */
export const escapeText = (s: string) => s.replace(/[\\`*_{}[\]<>#|!~]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
