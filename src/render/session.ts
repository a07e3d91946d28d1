/**
 * Workspace tools' `httpProxy.internalPath` resolved for one session. The
 * templates were checked for unknown placeholders when validated; here a
 * placeholder the session does not give (other than pathToOpen, which is
 * optional) leaves the path unresolved rather than silently empty.
 * Handlebars with HTML escaping off: these are URL paths, not HTML.
 */
import Handlebars from 'handlebars';
import type { WorkspaceTool } from '../model/spec.js';

export const SESSION_FIELDS = ['ownerUsername', 'projectName', 'sessionPathComponent', 'runId', 'pathToOpen'] as const;
export type Session = Partial<Record<(typeof SESSION_FIELDS)[number], string>>;

export interface ResolvedTool extends WorkspaceTool {
  /** The session's path, when every placeholder it uses was given. */
  resolvedPath?: string;
  /** Placeholders the session lacks. */
  missing?: string[];
}

const compiled = new Map<string, HandlebarsTemplateDelegate>();

export function resolveTools(tools: Record<string, WorkspaceTool>, session: Session): Record<string, ResolvedTool> {
  return Object.fromEntries(Object.entries(tools).map(([name, tool]) => [name, resolveTool(tool, session)]));
}

function resolveTool(tool: WorkspaceTool, session: Session): ResolvedTool {
  const template = tool.httpProxy?.internalPath;
  if (template === undefined) return { ...tool };
  const used = SESSION_FIELDS.filter((f) => new RegExp(`\\b${f}\\b`).test(template));
  const missing = used.filter((f) => f !== 'pathToOpen' && session[f] === undefined);
  if (missing.length > 0) return { ...tool, missing };
  let render = compiled.get(template);
  if (!render) {
    render = Handlebars.compile(template, { noEscape: true, strict: false, knownHelpersOnly: true, knownHelpers: { if: true, unless: true } });
    compiled.set(template, render);
  }
  // Each value is one path segment's worth: encoded so a value cannot add segments or a query.
  const values = Object.fromEntries(Object.entries(session).map(([k, v]) => [k, k === 'pathToOpen' ? encodeURI(v!) : encodeURIComponent(v!)]));
  return { ...tool, resolvedPath: render(values) };
}
