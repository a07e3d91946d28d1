/**
 * The grammar of workspace-tool templates (`httpProxy.internalPath`): text,
 * `{{key}}` and `{{#if key}}…{{else}}…{{/if}}` over the keys a session
 * gives, nothing else. Handlebars' own parser reads the template (so the
 * syntax is the product's), and the AST is kept to this subset: no helpers,
 * sub-expressions, partials, decorators, `lookup`, `this`, `../`, `@data`,
 * paths with dots, or triple-stash. The check reports what falls outside
 * at its place in the template; rendering (render/session.ts) evaluates the
 * parts built here and never runs Handlebars' compiler.
 */
import Handlebars from 'handlebars';

/** What a workspace session provides to `internalPath` templates (the product's names). */
export const SESSION_KEYS = ['ownerUsername', 'projectName', 'sessionPathComponent', 'runId', 'pathToOpen'] as const;
export type SessionKey = (typeof SESSION_KEYS)[number];

export type TemplatePart =
  | { text: string }
  | { key: SessionKey }
  | { if: SessionKey; then: TemplatePart[]; else: TemplatePart[] };

/** A problem at a place in the template: line from 1, column from 0 (Handlebars' loc). */
export interface TemplateProblem {
  message: string;
  line: number;
  column: number;
}

export type ParsedTemplate = { parts: TemplatePart[]; problems: [] } | { parts?: undefined; problems: TemplateProblem[] };

const cache = new Map<string, ParsedTemplate>();

/** Memoised: tool definitions repeat across environments and sessions. */
export function parseToolTemplate(template: string): ParsedTemplate {
  let found = cache.get(template);
  if (!found) {
    found = parse(template);
    if (cache.size > 10_000) cache.clear();
    cache.set(template, found);
  }
  return found;
}

/** The keys a template reads, in the order of SESSION_KEYS. */
export function templateKeys(parts: TemplatePart[]): SessionKey[] {
  const used = new Set<SessionKey>();
  const walk = (ps: TemplatePart[]) => {
    for (const p of ps) {
      if ('key' in p) used.add(p.key);
      else if ('if' in p) {
        used.add(p.if);
        walk(p.then);
        walk(p.else);
      }
    }
  };
  walk(parts);
  return SESSION_KEYS.filter((k) => used.has(k));
}

function parse(template: string): ParsedTemplate {
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(template);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const line = Number(/on line (\d+)/.exec(message)?.[1] ?? 1);
    return { problems: [{ message: `internalPath is not a valid template: ${lastLine(message)}`, line, column: 0 }] };
  }
  const problems: TemplateProblem[] = [];
  const parts = program(ast, problems);
  return problems.length ? { problems } : { parts, problems: [] };
}

const KNOWN = `known: ${SESSION_KEYS.join(', ')}`;

function program(p: hbs.AST.Program, problems: TemplateProblem[]): TemplatePart[] {
  const out: TemplatePart[] = [];
  for (const st of p.body) {
    const refuse = (message: string, node: hbs.AST.Node = st) =>
      problems.push({ message, line: node.loc.start.line, column: node.loc.start.column });
    if (st.type === 'ContentStatement') out.push({ text: (st as hbs.AST.ContentStatement).value });
    else if (st.type === 'CommentStatement') continue;
    else if (st.type === 'MustacheStatement') {
      const m = st as hbs.AST.MustacheStatement;
      const key = plainKey(m.path);
      if (m.params.length > 0 || m.hash) refuse(`helpers are not available in internalPath ({{${describe(m.path)} …}}); write {{key}} with a session key`);
      else if (!key) refuse(`unknown placeholder {{${describe(m.path)}}}; ${KNOWN}`);
      else if (!m.escaped) refuse(`write {{${key}}}, not the unescaped form: session values are always URL-encoded`);
      else out.push({ key });
    } else if (st.type === 'BlockStatement') {
      const b = st as hbs.AST.BlockStatement;
      const helper = describe(b.path);
      const cond = b.params.length === 1 && !b.hash ? plainKey(b.params[0]!) : undefined;
      if (helper !== 'if' || b.path.type !== 'PathExpression' || !b.program) refuse(`only {{#if key}} blocks are available in internalPath, not {{#${helper}}}`);
      else if (!cond) refuse(`{{#if}} takes one session key; ${KNOWN}`, b.params[0] ?? b);
      else out.push({ if: cond, then: program(b.program, problems), else: b.inverse ? program(b.inverse, problems) : [] });
    } else refuse(`${st.type === 'PartialStatement' || st.type === 'PartialBlockStatement' ? 'partials' : 'decorators'} are not available in internalPath`);
  }
  return out;
}

/** The session key a path names exactly (`{{runId}}`), or undefined (`this.runId`, `../runId`, `@root`, `runId.length`, a literal). */
function plainKey(node: hbs.AST.Node): SessionKey | undefined {
  if (node.type !== 'PathExpression') return undefined;
  const p = node as hbs.AST.PathExpression;
  if (p.data || p.depth !== 0 || p.parts.length !== 1 || p.original !== p.parts[0]) return undefined;
  return (SESSION_KEYS as readonly string[]).includes(p.original) ? p.original as SessionKey : undefined;
}

function describe(node: hbs.AST.Node): string {
  if (node.type === 'PathExpression') return (node as hbs.AST.PathExpression).original;
  if (node.type === 'SubExpression') return `(${describe((node as hbs.AST.SubExpression).path)} …)`;
  return String((node as { original?: unknown }).original ?? node.type);
}

/** Handlebars' parse errors end with what was expected: the useful line. */
function lastLine(message: string): string {
  return message.trim().split('\n').pop()!.slice(0, 300);
}
