/** Rules on single fields: variables and workspace-tool templates. */
import { problem, type Location, type Problem } from '../model/problem.js';
import { isSecret, type EnvironmentSpec } from '../model/spec.js';
import { escapePointer } from '../source/yaml.js';
import { position, type SourceMap } from '../schema/index.js';
import { parseToolTemplate, type TemplateProblem } from './tool-template.js';

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)/i;

export function checkVariables(spec: EnvironmentSpec, source: SourceMap): Problem[] {
  const out: Problem[] = [];
  for (const [name, value] of Object.entries(spec.variables ?? {})) {
    if (isSecret(value)) continue;
    const pointer = () => `/variables/${escapePointer(name)}`; // built only for a problem: most variables have none
    const text = String(value);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(text)) {
      out.push(problem(position(source, pointer(), 'value'), 'error', 'variable-value',
        `variable ${name} holds a line break or control character; Dockerfile ENV and docker run take one line`));
    }
    if (SECRET_NAME.test(name) && text !== '') {
      out.push(problem(position(source, pointer(), 'value'), 'warning', 'variable-secret-value',
        `variable ${name} looks like a secret but its value is written here, so it lands in git and the image; write \`${name}: { secret: true }\` and provide it at run time`));
    }
  }
  return out;
}

/** Each template outside the grammar (check/tool-template.ts) is an error at its place inside the YAML value. */
export function checkTools(spec: EnvironmentSpec, source: SourceMap): Problem[] {
  const out: Problem[] = [];
  for (const [name, tool] of Object.entries(spec.workspaceTools ?? {})) {
    const template = tool.httpProxy?.internalPath;
    if (template === undefined || !template.includes('{{')) continue;
    const pointer = `/workspaceTools/${escapePointer(name)}/httpProxy/internalPath`;
    for (const p of parseToolTemplate(template).problems) {
      out.push(problem(templateLocation(source, pointer, template, p), 'error', 'tool-template', `${name}: ${p.message}`));
    }
  }
  return out;
}

/**
 * A place in the template as a place in the file: exact when the scalar's
 * source is the template verbatim (plain, or quoted without escapes before
 * it); otherwise the value's start.
 */
function templateLocation(source: SourceMap, pointer: string, template: string, at: TemplateProblem): Location {
  const pos = source.positions.get(pointer);
  if (!pos) return position(source, pointer, 'value');
  const text = source.lines.text;
  const start = [pos.value, pos.value + 1].find((o) => text.startsWith(template, o));
  if (start === undefined) return source.lines.locate(source.file, pos.value);
  const lines = template.split('\n');
  const before = lines.slice(0, at.line - 1).reduce((n, l) => n + l.length + 1, 0);
  return source.lines.locate(source.file, start + before + at.column);
}
