/**
 * One product revision → the environment's files: `<dir>/<name>.yaml`, or
 * `<dir>/<name>/environment.yaml` beside the build-context files when its
 * source archive has some. The YAML is produced by js-yaml's dump from a
 * value (never by joining strings), every field under envctl's own name
 * (schemas/environment.schema.json); what cannot be expressed is left out
 * and said in `notes`. Secret variables are named, their values never
 * arrive here (hosted/ drops them as it reads). Pure.
 *
 * The first lines are comments naming the product revision. They make every
 * imported revision's file differ from the one before, so each product
 * revision is one envctl revision even when its definition did not change
 * (a rebuild, a gap), and numbers stay the product's.
 */
import { dump } from 'js-yaml';
import { oneLine } from './message.js';
import { toolsFrom } from './tools.js';
import type { ArchiveFile, ProductEnvironment, ProductRevision, ProductVariable } from './types.js';

export interface MappedFile {
  /** Repository path. */
  path: string;
  bytes: Uint8Array;
  executable: boolean;
}

export interface Mapped {
  files: MappedFile[];
  /** The spec as written (for dry runs and tests). */
  spec: Record<string, unknown>;
  notes: string[];
  /** Fields envctl's policy gives to administrators (policy.administratorFields in envctl.yaml): dockerArguments, vpn, username, global visibility. */
  adminFields: string[];
}

export interface MapContext {
  /** The environments folder (envctl.yaml `environments`). */
  dir: string;
  name: string;
  /** A base environment's imported name and the number of the revision this one is built on; undefined when not imported. */
  baseOf(environmentId: string, revisionId: string): { environment: string; revision: number } | undefined;
}

const CLUSTERS = new Set(['spark', 'ray', 'dask', 'mpi']);
const OWNER = /^@?[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const VARIABLE = /^[A-Za-z][A-Za-z0-9_]*$/;
const SCRIPT_FILES = { preSetup: 'scripts/pre-setup.sh', postSetup: 'scripts/post-setup.sh', preRun: 'scripts/pre-run.sh', postRun: 'scripts/post-run.sh' } as const;
/** Context file paths envctl can keep in an environment folder (no hidden or odd segments, not the spec itself). */
const CONTEXT_PATH = /^[A-Za-z0-9_][A-Za-z0-9._ +-]*(\/[A-Za-z0-9_][A-Za-z0-9._ +-]*)*$/;

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** The owner as envctl spells one (a GitHub login or @org/team): other characters become dashes; `imported` when nothing is left. */
export function ownerName(owner: string | undefined): string {
  const cleaned = (owner ?? '').trim().replace(/[^A-Za-z0-9._/@-]/g, '-').replace(/^[^@A-Za-z0-9]+/, '');
  return OWNER.test(cleaned) ? cleaned : cleaned.replace(/[@/]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'imported';
}

/** The header comments: the schema for editors, then the product revision this file is. */
function header(ctx: MapContext, folder: boolean, lines: string[]): string {
  const schema = `${folder ? '../../' : '../'}${'../'.repeat(ctx.dir.split('/').length - 1)}schemas/environment.schema.json`;
  return [`# yaml-language-server: $schema=${schema}`, ...lines.map((l) => `# ${oneLine(l, 300)}`), ''].join('\n');
}

function yamlText(spec: Record<string, unknown>): string {
  return dump(spec, { lineWidth: -1, noRefs: true, sortKeys: false });
}

/** The environment-level fields (the product's current metadata), in envctl's order. */
function metadata(env: ProductEnvironment, description: string | undefined, notes: string[]): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  const title = oneLine(env.name, 200);
  if (title !== '') spec.title = title;
  const text = description ?? env.description;
  if (text !== undefined && text.trim() !== '') spec.description = text.slice(0, 10_000);
  const owner = ownerName(env.owner);
  if (owner !== (env.owner ?? '').trim()) notes.push(`owner "${env.owner ?? ''}" written as ${owner}`);
  spec.owner = owner;
  if (env.visibility !== undefined) spec.visibility = env.visibility;
  if (env.archived) spec.archived = true;
  return spec;
}

/** A revision's spec and files. */
export function mapRevision(env: ProductEnvironment, revision: ProductRevision, archive: ArchiveFile[] | undefined, ctx: MapContext): Mapped {
  const notes: string[] = [];
  const fromArchive = readArchive(archive ?? [], notes);
  const spec = metadata(env, revision.description, notes);

  const b = revision.base;
  if (b.kind === 'default') spec.base = 'default';
  else if (b.kind === 'image') spec.base = { image: b.image };
  else {
    const base = ctx.baseOf(b.environmentId, b.revisionId);
    if (base === undefined) throw new MappingError(`its base, revision ${b.revisionId} of environment ${b.environmentId}, was not imported`);
    spec.base = { environment: base.environment, revision: base.revision };
  }

  let instructions = fromArchive.instructions ?? revision.instructions;
  if (instructions !== undefined) {
    const lines = instructions.split('\n');
    const first = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    if (first >= 0 && /^\s*FROM\s/i.test(lines[first]!)) {
      notes.push(`the FROM line "${lines[first]!.trim()}" was dropped: the base decides it`);
      lines.splice(first, 1);
      instructions = lines.join('\n');
    }
    if (instructions.trim() !== '') spec.instructions = instructions.endsWith('\n') ? instructions : `${instructions}\n`;
  }

  const tools = toolsFrom(fromArchive.tools ?? revision.workspaceTools, notes);
  if (tools !== undefined) spec.workspaceTools = tools;

  const scripts: Record<string, string> = {};
  for (const key of Object.keys(SCRIPT_FILES) as (keyof typeof SCRIPT_FILES)[]) {
    const text = fromArchive.scripts[key] ?? revision.scripts[key];
    if (text !== undefined && text.trim() !== '') scripts[key] = text;
  }
  if (Object.keys(scripts).length) spec.scripts = scripts;

  const variables = variablesOf(revision.variables, notes);
  if (Object.keys(variables).length) spec.variables = variables;

  const args = revision.dockerArguments.map((a) => a.trim()).filter((a) => a !== '');
  const multiline = args.filter((a) => /[\r\n]/.test(a));
  if (multiline.length) notes.push(`${multiline.length} docker argument(s) spanning lines were split at their line breaks`);
  const dockerArguments = args.flatMap((a) => a.split(/[\r\n]+/)).map((a) => a.trim()).filter((a) => a !== '');
  if (dockerArguments.length) spec.dockerArguments = dockerArguments;

  if (revision.username !== undefined && revision.username !== '') {
    if (USERNAME.test(revision.username)) spec.username = revision.username;
    else notes.push(`username "${revision.username}" is not a Linux user name envctl accepts; left out`);
  }
  if (revision.vpn) spec.vpn = true;
  const clusters = revision.clusterTypes ?? env.clusterTypes ?? [];
  const known = [...new Set(clusters.map((c) => c.toLowerCase()))].filter((c) => CLUSTERS.has(c));
  const unknown = clusters.filter((c) => !CLUSTERS.has(c.toLowerCase()));
  if (unknown.length) notes.push(`cluster types envctl does not know were left out: ${unknown.join(', ')}`);
  if (known.length) spec.clusterTypes = known;
  if (revision.noCache) spec.noCache = true;

  const folder = fromArchive.context.length > 0;
  const lines = [`Imported from the hosted product: environment ${env.id}, revision ${revision.number} (${revision.id}).`];
  const text = header(ctx, folder, lines) + yamlText(spec);
  const specPath = folder ? `${ctx.dir}/${ctx.name}/environment.yaml` : `${ctx.dir}/${ctx.name}.yaml`;
  const files: MappedFile[] = [{ path: specPath, bytes: encoder.encode(text), executable: false }];
  for (const f of fromArchive.context) files.push({ path: `${ctx.dir}/${ctx.name}/${f.path}`, bytes: f.bytes, executable: f.executable });
  const adminFields = [
    ...(spec.dockerArguments ? ['dockerArguments'] : []), ...(spec.vpn ? ['vpn'] : []), ...(spec.username !== undefined ? ['username'] : []),
    ...(spec.visibility === 'global' ? ['global visibility'] : []),
  ];
  return { files, spec, notes, adminFields };
}

/**
 * The files of a revision that could not be read: the previous revision's
 * files with the header saying which revision this is and why it is
 * unreadable (so the file changes and the numbering holds), or, for a first
 * revision, a spec of the environment's metadata on the default base.
 */
export function gapFiles(env: ProductEnvironment, number: number, revisionId: string, reason: string, previous: MappedFile[] | undefined, ctx: MapContext): MappedFile[] {
  const note = [`Revision ${number} (${revisionId}) of product environment ${env.id} could not be read: ${reason}.`,
    'Its content is that of the revision before; the revision is kept so numbers match the product.'];
  if (previous === undefined || previous.length === 0) {
    const spec = { ...metadata(env, undefined, []), base: 'default' };
    return [{ path: `${ctx.dir}/${ctx.name}.yaml`, bytes: encoder.encode(header(ctx, false, note) + yamlText(spec)), executable: false }];
  }
  return previous.map((f) => {
    if (!f.path.endsWith('.yaml') || (f.path !== `${ctx.dir}/${ctx.name}.yaml` && f.path !== `${ctx.dir}/${ctx.name}/environment.yaml`)) return f;
    const body = new TextDecoder().decode(f.bytes).split('\n').filter((l) => !l.startsWith('# ')).join('\n');
    return { ...f, bytes: encoder.encode(header(ctx, f.path.endsWith('/environment.yaml'), note) + body) };
  });
}

/** A revision cannot be mapped (its base was not imported, its archive is unusable): a gap, with this reason. */
export class MappingError extends Error {}

interface FromArchive {
  instructions?: string;
  tools?: unknown;
  scripts: Partial<Record<keyof typeof SCRIPT_FILES, string>>;
  context: ArchiveFile[];
}

/** The archive's parts by path: `Dockerfile`, `workspace-tools.yaml`, `scripts/*.sh`, `context/**` (build context); the rest noted and left. */
function readArchive(archive: ArchiveFile[], notes: string[]): FromArchive {
  const out: FromArchive = { scripts: {}, context: [] };
  const text = (f: ArchiveFile) => {
    try {
      return decoder.decode(f.bytes);
    } catch {
      throw new MappingError(`${f.path} in its source archive is not UTF-8 text`);
    }
  };
  const ignored: string[] = [];
  for (const f of archive) {
    if (f.path === 'Dockerfile') out.instructions = text(f);
    else if (f.path === 'workspace-tools.yaml') {
      out.tools = text(f);
    } else if (Object.values(SCRIPT_FILES).includes(f.path as never)) {
      const key = (Object.keys(SCRIPT_FILES) as (keyof typeof SCRIPT_FILES)[]).find((k) => SCRIPT_FILES[k] === f.path)!;
      out.scripts[key] = text(f);
    } else if (f.path.startsWith('context/')) {
      const path = f.path.slice('context/'.length);
      if (CONTEXT_PATH.test(path) && path !== 'environment.yaml') out.context.push({ ...f, path });
      else ignored.push(f.path);
    } else ignored.push(f.path);
  }
  if (ignored.length) notes.push(`source archive files not imported: ${ignored.slice(0, 5).join(', ')}${ignored.length > 5 ? ', …' : ''}`);
  out.context.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

function variablesOf(list: ProductVariable[], notes: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of list) {
    if (!VARIABLE.test(v.name)) {
      notes.push(`variable "${v.name}" is not a name envctl accepts; left out`);
      continue;
    }
    out[v.name] = v.secret ? { secret: true } : (v.value ?? '');
  }
  return out;
}
