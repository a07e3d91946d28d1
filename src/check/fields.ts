/** Rules on single fields: variables and workspace-tool templates. */
import Handlebars from 'handlebars';
import { problem, type Problem } from '../model/problem.js';
import { isSecret, type EnvironmentSpec } from '../model/spec.js';
import { escapePointer } from '../source/yaml.js';
import { position, type SourceMap } from '../schema/index.js';

/** What a workspace session provides to `internalPath` templates (the product's names). */
export const SESSION_PLACEHOLDERS = ['ownerUsername', 'projectName', 'sessionPathComponent', 'runId', 'pathToOpen'] as const;
const BLOCK_HELPERS = new Set(['if', 'unless']);
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)/i;

export function checkVariables(spec: EnvironmentSpec, source: SourceMap): Problem[] {
  const out: Problem[] = [];
  for (const [name, value] of Object.entries(spec.variables ?? {})) {
    if (isSecret(value)) continue;
    const pointer = `/variables/${escapePointer(name)}`;
    const text = String(value);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(text)) {
      out.push(problem(position(source, pointer, 'value'), 'error', 'variable-value',
        `variable ${name} holds a line break or control character; Dockerfile ENV and docker run take one line`));
    }
    if (SECRET_NAME.test(name) && text !== '') {
      out.push(problem(position(source, pointer, 'value'), 'warning', 'variable-secret-value',
        `variable ${name} looks like a secret but its value is written here, so it lands in git and the image; write \`${name}: { secret: true }\` and provide it at run time`));
    }
  }
  return out;
}

export function checkTools(spec: EnvironmentSpec, source: SourceMap): Problem[] {
  const out: Problem[] = [];
  for (const [name, tool] of Object.entries(spec.workspaceTools ?? {})) {
    const template = tool.httpProxy?.internalPath;
    if (template === undefined) continue;
    for (const message of templateProblems(template)) {
      const at = position(source, `/workspaceTools/${escapePointer(name)}/httpProxy/internalPath`, 'value');
      out.push(problem(at, 'error', 'tool-template', `${name}: ${message}`));
    }
  }
  return out;
}

const templateCache = new Map<string, string[]>();

/** Unknown placeholders are errors, not empty strings at session start. Memoised: tool definitions repeat across environments. */
export function templateProblems(template: string): string[] {
  if (!template.includes('{{')) return [];
  let found = templateCache.get(template);
  if (!found) {
    found = parseTemplateProblems(template);
    if (templateCache.size > 10_000) templateCache.clear();
    templateCache.set(template, found);
  }
  return found;
}

function parseTemplateProblems(template: string): string[] {
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(template);
  } catch (err) {
    return [`internalPath is not a valid template: ${String((err as Error).message).split('\n')[0]}`];
  }
  const out: string[] = [];
  const allowed = new Set<string>(SESSION_PLACEHOLDERS);
  const path = (node: hbs.AST.Expression) => {
    if (node.type !== 'PathExpression') return;
    const name = (node as hbs.AST.PathExpression).original;
    if (!allowed.has(name)) out.push(`unknown placeholder {{${name}}}; known: ${SESSION_PLACEHOLDERS.join(', ')}`);
  };
  const walk = (program: hbs.AST.Program) => {
    for (const st of program.body) {
      if (st.type === 'MustacheStatement') {
        const m = st as hbs.AST.MustacheStatement;
        if (m.params.length > 0) out.push(`helpers are not available in internalPath ({{${(m.path as hbs.AST.PathExpression).original} …}})`);
        else path(m.path as hbs.AST.Expression);
      } else if (st.type === 'BlockStatement') {
        const b = st as hbs.AST.BlockStatement;
        const helper = (b.path as hbs.AST.PathExpression).original;
        if (!BLOCK_HELPERS.has(helper)) out.push(`only {{#if}} and {{#unless}} blocks are available, not {{#${helper}}}`);
        b.params.forEach(path);
        walk(b.program);
        if (b.inverse) walk(b.inverse);
      } else if (st.type === 'PartialStatement' || st.type === 'PartialBlockStatement' || st.type === 'DecoratorBlock') {
        out.push('partials are not available in internalPath');
      }
    }
  };
  walk(ast);
  return out;
}
