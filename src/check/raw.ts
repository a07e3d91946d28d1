/**
 * Fields read from sources that have not passed the schema (yet): the few
 * facts gathering needs before checking (which images to ask the registry
 * about, which bases are archived, whom a file names as owner). Each reads
 * defensively and answers undefined for anything of the wrong shape. This is
 * the one place outside the checks that looks at unvalidated `.data`.
 */
import type { LoadedEnvironment } from '../load/environments.js';
import type { EnvironmentChoice } from '../load/consumers.js';
import { baseOf, type BaseSpec, type EnvironmentSpec, type StageSpec } from '../model/spec.js';

type Raw = { data?: unknown };
const field = (src: Raw, key: string): unknown =>
  src.data !== null && typeof src.data === 'object' && !Array.isArray(src.data) ? (src.data as Record<string, unknown>)[key] : undefined;
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The base environment a loaded file names, read defensively: its spec may not have passed the schema. */
export function rawBaseEnvironment(env: Raw): string | undefined {
  const base = field(env, 'base');
  if (base === null || typeof base !== 'object') return undefined;
  const name = (base as { environment?: unknown }).environment;
  return typeof name === 'string' ? name : undefined;
}

/** The revision of its base environment an environment pins, when it pins a whole number. */
export function rawBasePinnedRevision(env: Raw): number | undefined {
  const base = field(env, 'base');
  const revision = base !== null && typeof base === 'object' ? (base as { revision?: unknown }).revision : undefined;
  return typeof revision === 'number' && Number.isInteger(revision) ? revision : undefined;
}

/** The custom image an environment is built FROM, when it names one (through its stages, when it stands on one). */
export function rawBaseImage(env: Raw): string | undefined {
  const base = field(env, 'base');
  if (base === null || typeof base !== 'object') return undefined;
  // Filled in from buildArgs as check and render read it (model/build-args.ts); not one yet, nothing to ask about.
  const args = field(env, 'buildArgs');
  const strings = args !== null && typeof args === 'object' && !Array.isArray(args)
    ? Object.fromEntries(Object.entries(args as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};
  const rawStages = field(env, 'stages');
  // Only stages of the shape baseOf reads; a broken one breaks the chain, read as the default (check reports it).
  const stages = (Array.isArray(rawStages) ? rawStages : []).filter((s): s is StageSpec => s !== null && typeof s === 'object'
    && typeof (s as StageSpec).name === 'string' && wellFormedBase((s as StageSpec).base));
  if (!wellFormedBase(base)) return undefined;
  const resolved = baseOf({ owner: '', base: base as BaseSpec, stages, buildArgs: strings });
  return resolved.kind === 'image' && !resolved.image.includes('$') ? resolved.image : undefined;
}

function wellFormedBase(b: unknown): boolean {
  if (b === 'default') return true;
  if (b === null || typeof b !== 'object') return false;
  const o = b as Record<string, unknown>;
  const keys = ['image', 'stage', 'environment'].filter((k) => k in o);
  return keys.length > 0 && keys.every((k) => typeof o[k] === 'string');
}

export const isArchived = (src: Raw): boolean => field(src, 'archived') === true;
export const rawRenamedFrom = (src: Raw): string | undefined => text(field(src, 'renamedFrom'));
export const rawOwner = (src: Raw): string | undefined => text(field(src, 'owner'));
export const rawVisibility = (src: Raw): string | undefined => text(field(src, 'visibility'));

/** The named environments and everything they are built on, valid or not. */
export function withBases(names: Iterable<string>, loaded: LoadedEnvironment[]): Set<string> {
  const byName = new Map(loaded.map((e) => [e.name, e]));
  const out = new Set<string>();
  const pending = [...names];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (out.has(name)) continue;
    out.add(name);
    const env = byName.get(name);
    const base = env && rawBaseEnvironment(env);
    if (base !== undefined) pending.push(base);
  }
  return out;
}

/**
 * The environment a loaded file asks for, read defensively (its spec may not
 * have passed the schema): a name, or a mapping with a string `name`; a
 * revision that is not a whole number counts as `active`.
 */
export function rawEnvironmentChoice(data: unknown): EnvironmentChoice | undefined {
  const env = (data as { environment?: unknown } | null | undefined)?.environment;
  if (typeof env === 'string') return { name: env, revision: 'active' };
  if (env === null || typeof env !== 'object') return undefined;
  const { name, revision } = env as { name?: unknown; revision?: unknown };
  if (typeof name !== 'string') return undefined;
  return { name, revision: typeof revision === 'number' && Number.isInteger(revision) ? revision : 'active' };
}

/** The well-formed part of a spec that failed the schema, and the top-level fields left out of it. */
export interface UsableSpec {
  spec: EnvironmentSpec;
  dropped: Set<string>;
}

/**
 * The spec's top-level fields that no schema error points inside (`pointers`:
 * schemaFindings' pointers), so checks of the other fields still run on a
 * spec with a broken one; undefined when the document is no mapping. Each
 * field kept is valid on its own, so it has its EnvironmentSpec type; what
 * the spec lacks as a whole (a required field) is the schema's problem.
 */
export function usableSpec(data: unknown, pointers: string[]): UsableSpec | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const broken = new Set(pointers.filter((p) => p !== '').map((p) => p.split('/')[1]!.replace(/~1/g, '/').replace(/~0/g, '~')));
  // fromEntries defines own properties: a `__proto__` key (an unknown field, so dropped anyway) sets no prototype.
  const spec = Object.fromEntries(Object.entries(data).filter(([key]) => !broken.has(key)));
  return { spec: spec as unknown as EnvironmentSpec, dropped: broken };
}
