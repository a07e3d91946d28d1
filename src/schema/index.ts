/**
 * The JSON Schemas under `schemas/`, compiled once, and their errors turned
 * into located problems with plain-language messages.
 *
 * ajv reports every branch of a `oneOf` that failed; users only care about
 * the branch they meant. So errors under a failed `oneOf` are replaced by
 * the errors of the one branch whose shape the value has (same JSON type,
 * its required keys present), or by one message when no branch fits.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import environmentSchema from '../../schemas/environment.schema.json' with { type: 'json' };
import configSchema from '../../schemas/config.schema.json' with { type: 'json' };
import projectSchema from '../../schemas/project.schema.json' with { type: 'json' };
import { problem, type Problem } from '../model/problem.js';
import { escapePointer, type PositionLookup } from '../source/yaml.js';
import type { LineIndex } from '../source/lines.js';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false });
ajv.addKeyword({ keyword: 'x-pattern-message', schemaType: 'string' });
ajv.addSchema(environmentSchema);
ajv.addSchema(configSchema);
ajv.addSchema(projectSchema);

/** Every `oneOf` list in the schemas → its absolute reference, so a branch can be compiled alone. */
const oneOfRefs = new Map<unknown, string>();
function indexOneOfs(node: unknown, ref: string): void {
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'oneOf' && Array.isArray(v)) oneOfRefs.set(v, `${ref}/oneOf`);
    indexOneOfs(v, `${ref}/${k}`);
  }
}
indexOneOfs(environmentSchema, `${environmentSchema.$id}#`);
indexOneOfs(configSchema, `${configSchema.$id}#`);
indexOneOfs(projectSchema, `${projectSchema.$id}#`);

export const ENVIRONMENT_SCHEMA_ID = environmentSchema.$id;
export const CONFIG_SCHEMA_ID = configSchema.$id;
/** Projects, models and data sets share one schema. */
export const PROJECT_SCHEMA_ID = projectSchema.$id;

const compiled = new Map<string, ValidateFunction>();
function validator(ref: string): ValidateFunction {
  let v = compiled.get(ref);
  if (!v) {
    v = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
    compiled.set(ref, v);
  }
  return v;
}

/** What a schema problem needs to be located in its file. */
export interface SourceMap {
  file: string;
  positions: PositionLookup;
  lines: LineIndex;
}

export function schemaProblems(schemaId: string, value: unknown, source: SourceMap): Problem[] {
  return schemaFindings(schemaId, value, source).problems;
}

/**
 * The problems and, for each, the JSON pointer it is about (an unknown or
 * missing field's own pointer, else the failing value's), so a check can
 * tell the well-formed parts of an invalid value from the broken ones.
 */
export function schemaFindings(schemaId: string, value: unknown, source: SourceMap): { problems: Problem[]; pointers: string[] } {
  const errors = collect(schemaId, `${schemaId}#`, value, '');
  return { problems: errors.map((e) => toProblem(e, source)), pointers: errors.map((e) => e.pointer) };
}

type Located = ErrorObject & { at: 'key' | 'value'; pointer: string };

function collect(schemaId: string, ref: string, value: unknown, prefix: string): Located[] {
  const validate = validator(ref);
  if (validate(value)) return [];
  // propertyNames errors repeat the inner error that carries the name.
  const raw = (validate.errors ?? []).filter((e) => e.keyword !== 'propertyNames').map((e) => ({ ...e, instancePath: prefix + e.instancePath }));
  const oneOfs = raw.filter((e) => e.keyword === 'oneOf');
  const out: Located[] = [];
  for (const e of raw) {
    if (e.keyword === 'oneOf') continue;
    if (oneOfs.some((o) => isUnder(e.instancePath, o.instancePath))) continue;
    out.push(locate(e));
  }
  for (const o of oneOfs) {
    if (oneOfs.some((p) => p !== o && isUnder(o.instancePath, p.instancePath) && p.instancePath !== o.instancePath)) continue;
    out.push(...explainOneOf(schemaId, o));
  }
  return out;
}

function explainOneOf(schemaId: string, e: ErrorObject): Located[] {
  const branches = (e.schema as unknown[]) ?? [];
  const listRef = oneOfRefs.get(e.schema);
  for (let i = 0; listRef && i < branches.length; i++) {
    const branch = resolve(schemaId, branches[i]);
    if (!fits(branch, e.data)) continue;
    const errs = collect(schemaId, `${listRef}/${i}`, e.data, e.instancePath);
    if (errs.length > 0) return errs;
    // Fits and validates: the failure was "matches more than one"; fall through.
  }
  const hint = (e.parentSchema as { description?: string } | undefined)?.description;
  const kinds = [...new Set(branches.map((b) => kindName(resolve(schemaId, b))))].filter((k) => k !== '');
  const expected = kinds.length ? `must be ${kinds.join(' or ')}, not ${kindOf(e.data)}` : 'has none of the allowed forms';
  return [{ ...locate(e), message: `${label(e.instancePath)} ${expected}${hint ? ` (${hint})` : ''}` }];
}

/** Follow a branch's `$ref` so its type and required keys can be read. */
function resolve(schemaId: string, branch: unknown): Record<string, unknown> {
  const b = branch as Record<string, unknown>;
  if (typeof b.$ref === 'string') {
    const target = ajv.getSchema(b.$ref.startsWith('#') ? `${schemaId}${b.$ref}` : b.$ref)?.schema;
    if (target && typeof target === 'object') return target as Record<string, unknown>;
  }
  return b;
}

function fits(schema: Record<string, unknown>, value: unknown): boolean {
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  if ('const' in schema) return typeof schema.const === typeof value && kind !== 'object';
  const types = schema.type === undefined ? [] : ([] as unknown[]).concat(schema.type);
  if (types.length > 0) {
    const ok = types.some((t) => t === kind || (t === 'integer' && kind === 'number'));
    if (!ok) return false;
  }
  if (kind === 'object' && Array.isArray(schema.required)) {
    return schema.required.every((k) => typeof k === 'string' && Object.hasOwn(value as object, k));
  }
  return types.length > 0;
}

function isUnder(path: string, parent: string): boolean {
  return path === parent || path.startsWith(`${parent}/`);
}

function locate(e: ErrorObject): Located {
  if (e.keyword === 'additionalProperties') {
    const prop = (e.params as { additionalProperty: string }).additionalProperty;
    return { ...e, pointer: `${e.instancePath}/${escapePointer(prop)}`, at: 'key' };
  }
  if (e.propertyName !== undefined) {
    return { ...e, pointer: `${e.instancePath}/${escapePointer(e.propertyName)}`, at: 'key' };
  }
  return { ...e, pointer: e.instancePath, at: e.keyword === 'required' ? 'key' : 'value' };
}

/** `/workspaceTools/jupyter/httpProxy/port` → `workspaceTools.jupyter.httpProxy.port`. */
export function label(pointer: string): string {
  if (pointer === '') return 'the document';
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

function toProblem(e: Located, source: SourceMap): Problem {
  const at = position(source, e.pointer, e.at);
  const { rule, message } = describe(e);
  return problem(at, 'error', rule, message);
}

/** The nearest recorded node at or above `pointer`. */
export function position(source: SourceMap, pointer: string, at: 'key' | 'value') {
  let p = pointer;
  for (;;) {
    const pos = source.positions.get(p);
    if (pos) return source.lines.locate(source.file, at === 'key' && pos.key !== undefined ? pos.key : pos.value);
    if (p === '') return { file: source.file, line: 1, col: 1 };
    p = p.slice(0, p.lastIndexOf('/'));
  }
}

function describe(e: Located): { rule: string; message: string } {
  const where = label(e.instancePath);
  const params = e.params as Record<string, unknown>;
  const schema = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = String(params.additionalProperty);
      const known = Object.keys((schema.properties as object | undefined) ?? {});
      const guess = closest(prop, known);
      const inside = e.instancePath === '' ? '' : ` in ${where}`;
      return {
        rule: 'schema-unknown-field',
        message: `unknown field "${prop}"${inside}${guess ? `; did you mean "${guess}"?` : known.length ? `; known fields: ${known.join(', ')}` : ''}`,
      };
    }
    case 'required':
      return { rule: 'schema-required', message: `${e.instancePath === '' ? 'missing' : `${where} is missing`} required field "${String(params.missingProperty)}"` };
    case 'type':
      return { rule: 'schema-type', message: `${where} must be ${article(String(params.type))}, not ${kindOf(e.data)}` };
    case 'enum':
      return { rule: 'schema-enum', message: `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}; got ${JSON.stringify(e.data)}` };
    case 'const':
      return { rule: 'schema-enum', message: `${where} must be ${JSON.stringify(params.allowedValue)}; got ${JSON.stringify(e.data)}` };
    case 'pattern': {
      const custom = schema['x-pattern-message'];
      if (e.propertyName !== undefined) {
        return { rule: 'schema-name', message: `invalid name "${e.propertyName}" in ${label(e.instancePath)}${typeof custom === 'string' ? `: ${custom}` : `: must match ${String(params.pattern)}`}` };
      }
      return { rule: 'schema-pattern', message: `${where} ${JSON.stringify(e.data)} is not valid${typeof custom === 'string' ? `: ${custom}` : `: must match ${String(params.pattern)}`}` };
    }
    case 'oneOf':
      return { rule: 'schema', message: e.message ?? `${where} has none of the allowed forms` };
    default:
      return { rule: 'schema', message: `${where} ${e.message ?? 'is not valid'}` };
  }
}

/** How a oneOf branch reads in a message: `"default"`, a string, a mapping with image … */
function kindName(schema: Record<string, unknown>): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'object') {
    const req = Array.isArray(schema.required) ? schema.required : [];
    return req.length ? `a mapping with ${req.join(', ')}` : 'a mapping';
  }
  return typeof type === 'string' ? article(type) : '';
}

function article(type: string): string {
  const t = type.split(',').join(' or ');
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A known name within edit distance 2, for "did you mean". */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
