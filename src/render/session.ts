/**
 * Workspace tools' `httpProxy.internalPath` resolved for one session. The
 * template is read by the grammar in check/tool-template.ts (only `{{key}}`
 * and `{{#if key}}`) and evaluated here; Handlebars' compiler never runs, so
 * no helper, partial or property lookup can. A template outside the grammar
 * is refused; a placeholder the session does not give (other than
 * pathToOpen, which is optional) leaves the path unresolved rather than
 * silently empty.
 *
 * Session values cannot change the path's shape. ownerUsername,
 * projectName, sessionPathComponent and runId are one segment each: empty,
 * `.`, `..`, or holding `/` or `\` is refused. pathToOpen is a relative path:
 * `/` separates its segments, and an empty (but a trailing one), `.` or `..`
 * segment, or a `\`, is refused. Every segment is percent-encoded
 * (encodeURIComponent), so `?`, `#`, `%` and the other reserved characters
 * stay inside it.
 */
import { EnvctlError } from '../model/errors.js';
import type { WorkspaceTool } from '../model/spec.js';
import { parseToolTemplate, SESSION_KEYS, templateKeys, type SessionKey, type TemplatePart } from '../check/tool-template.js';

export const SESSION_FIELDS = SESSION_KEYS;
export type Session = Partial<Record<SessionKey, string>>;

export interface ResolvedTool extends WorkspaceTool {
  /** The session's path, when every placeholder it uses was given. */
  resolvedPath?: string;
  /** The same path without the file to open (pathToOpen): where the tool serves, its base URL. */
  basePath?: string;
  /** Placeholders the session lacks. */
  missing?: string[];
}

/** A session value or a template that could change the path's shape (input; codes `session-value`, `tool-template`). */
export class SessionError extends EnvctlError {
  constructor(code: 'session-value' | 'tool-template', message: string, data: Record<string, unknown>) {
    super('input', code, message, { data });
  }
}

export function resolveTools(tools: Record<string, WorkspaceTool>, session: Session): Record<string, ResolvedTool> {
  const values = encodeSession(session);
  return Object.fromEntries(Object.entries(tools).map(([name, tool]) => [name, resolveTool(name, tool, session, values)]));
}

function resolveTool(name: string, tool: WorkspaceTool, session: Session, values: Session): ResolvedTool {
  const template = tool.httpProxy?.internalPath;
  if (template === undefined) return { ...tool };
  const parsed = parseToolTemplate(template);
  if (!parsed.parts) {
    const first = parsed.problems[0]!;
    throw new SessionError('tool-template', `workspace tool ${name}: ${first.message}`, { tool: name, line: first.line, column: first.column });
  }
  const missing = templateKeys(parsed.parts).filter((k) => k !== 'pathToOpen' && session[k] === undefined);
  if (missing.length > 0) return { ...tool, missing };
  const { pathToOpen: _open, ...base } = values;
  return { ...tool, resolvedPath: evaluate(parsed.parts, values), basePath: evaluate(parsed.parts, base) };
}

function evaluate(parts: TemplatePart[], values: Session): string {
  let out = '';
  for (const p of parts) {
    if ('text' in p) out += p.text;
    else if ('key' in p) out += values[p.key] ?? '';
    else out += evaluate(values[p.if] ? p.then : p.else, values); // Handlebars' if: an empty string is false
  }
  return out;
}

/** Every given value checked and encoded, whether or not a template reads it: a bad value is wrong for any tool. */
function encodeSession(session: Session): Session {
  const out: Session = {};
  for (const key of SESSION_KEYS) {
    const value = session[key];
    if (value === undefined) continue;
    out[key] = key === 'pathToOpen' ? encodePath(value) : encodeSegment(key, value);
  }
  return out;
}

function encodeSegment(key: SessionKey, value: string): string {
  if (value === '' || value === '.' || value === '..' || /[/\\]/.test(value)) {
    throw refused(key, value, 'one path segment: not empty, not "." or "..", without "/" or "\\"');
  }
  return encodeURIComponent(value);
}

function encodePath(value: string): string {
  if (value === '') return '';
  const segments = value.split('/');
  const bad = segments.some((s, i) => s === '.' || s === '..' || (s === '' && i < segments.length - 1)) || value.includes('\\');
  if (bad) throw refused('pathToOpen', value, 'a relative path: no "." or ".." segment, no empty segment (a trailing "/" aside), no "\\"');
  return segments.map(encodeURIComponent).join('/');
}

function refused(key: SessionKey, value: string, what: string): SessionError {
  return new SessionError('session-value', `session value ${key}=${JSON.stringify(value)} must be ${what}`, { option: 'session', key, value });
}
