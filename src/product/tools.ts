/**
 * The product's workspace-tool definitions ("properties": a YAML map, one
 * entry per tool, or the list the product's API takes) → envctl's
 * `workspaceTools` map, keeping the fields envctl's schema has and saying
 * what was left. Pure.
 */
import { parseYaml } from '../source/yaml.js';

const TOOL_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const EXTENSION = /^\.[A-Za-z0-9._-]+$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Undefined when there are no tools; `notes` gets every tool or field left out. */
export function toolsFrom(given: unknown, notes: string[]): Record<string, Json> | undefined {
  let value = given;
  if (typeof value === 'string') {
    if (value.trim() === '') return undefined;
    const parsed = parseYaml(value, 'workspaceTools');
    if (parsed.problems.length) {
      notes.push('the workspace tools are not valid YAML; left out');
      return undefined;
    }
    value = parsed.value;
  }
  if (value === undefined || value === null) return undefined;
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((t, i) => [isObject(t) && typeof t.name === 'string' ? t.name : `tool${i + 1}`, t])
    : isObject(value) ? Object.entries(value) : [];
  if (!Array.isArray(value) && !isObject(value)) notes.push('the workspace tools are neither a map nor a list; left out');
  const out: Record<string, Json> = {};
  for (const [name, def] of entries) {
    if (!TOOL_NAME.test(name)) {
      notes.push(`workspace tool "${name}" has a name envctl does not accept; left out`);
      continue;
    }
    const tool = toolOf(def);
    if (tool === undefined) {
      notes.push(`workspace tool ${name} has no start command; left out`);
      continue;
    }
    out[name] = tool;
  }
  return Object.keys(out).length ? out : undefined;
}

function toolOf(def: unknown): Json | undefined {
  if (!isObject(def)) return undefined;
  const start = typeof def.start === 'string' ? [def.start] : Array.isArray(def.start) ? def.start.filter((s): s is string => typeof s === 'string' && s !== '') : [];
  if (start.length === 0) return undefined;
  const tool: Json = { title: typeof def.title === 'string' && def.title !== '' ? def.title : String(def.name ?? 'tool') };
  if (typeof def.iconUrl === 'string') tool.iconUrl = def.iconUrl;
  tool.start = start;
  const proxy = def.httpProxy;
  if (isObject(proxy) && Number.isInteger(proxy.port) && (proxy.port as number) >= 1 && (proxy.port as number) <= 65535) {
    const p: Json = { port: proxy.port };
    if (typeof proxy.rewrite === 'boolean') p.rewrite = proxy.rewrite;
    if (typeof proxy.internalPath === 'string') p.internalPath = proxy.internalPath;
    if (typeof proxy.requireSubdomain === 'boolean') p.requireSubdomain = proxy.requireSubdomain;
    tool.httpProxy = p;
  }
  if (Array.isArray(def.supportedFileExtensions)) {
    const ext = def.supportedFileExtensions.filter((e): e is string => typeof e === 'string' && EXTENSION.test(e));
    if (ext.length) tool.supportedFileExtensions = ext;
  }
  return tool;
}
