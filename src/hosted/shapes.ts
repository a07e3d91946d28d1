/**
 * The product's JSON answers → product/types.ts, checked field by field.
 * Ids must be PRODUCT_ID; strings stay as given (the mapping makes them
 * safe where they land); a secret variable's value is dropped here.
 * Field names are the product's (python-domino's payloads): the revision's
 * `dockerfileInstructions`, `environmentVariables` (`isSecret`),
 * `preSetupScript` …, `workspaceTools`, `dockerArguments`, `useVpn`,
 * `skipCache`, `supportedClusters`, `summary`, and the base as
 * `base: { type: DefaultImage | CustomImage | Environment, … }` (or the
 * plain `image` the client sends).
 */
import { PRODUCT_ID, type ProductAuthor, type ProductBase, type ProductEnvironment, type ProductRevision, type ProductRevisionRef, type ProductVariable, type ProductVisibility } from '../product/types.js';
import { hostOf, ProductError, type ProductEndpoint } from './http.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function shapeError(endpoint: ProductEndpoint, path: string, what: string): ProductError {
  return new ProductError(hostOf(endpoint), 'product-bad-response', `the answer for ${path} ${what}`, { data: { path } });
}

class Shape {
  constructor(readonly endpoint: ProductEndpoint, readonly path: string) {}
  fail(what: string): never {
    throw shapeError(this.endpoint, this.path, what);
  }
  id(v: unknown, field: string): string {
    if (typeof v !== 'string' || !PRODUCT_ID.test(v)) this.fail(`has no usable ${field}`);
    return v;
  }
  text(v: unknown, field: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') this.fail(`has a ${field} that is not text`);
    return v;
  }
  flag(v: unknown, field: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(`has a ${field} that is not true or false`);
    return v;
  }
  number(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) this.fail(`has no usable ${field}`);
    return v;
  }
  strings(v: unknown, field: string): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(`has a ${field} that is not a list`);
    return v.map((s) => (typeof s === 'string' ? s : isObject(s) && typeof s.type === 'string' ? s.type : this.fail(`has a ${field} entry that is not text`)));
  }
}

function unwrap(v: unknown, key: string): unknown {
  return isObject(v) && isObject(v[key]) ? v[key] : v;
}

export function parseEnvironment(endpoint: ProductEndpoint, path: string, body: unknown): ProductEnvironment {
  const s: Shape = new Shape(endpoint, path);
  const e = unwrap(body, 'environment');
  if (!isObject(e)) s.fail('is not an environment');
  const name = s.text(e.name, 'name');
  if (name === undefined) s.fail('has no name');
  const vis = s.text(e.visibility, 'visibility')?.toLowerCase();
  if (vis !== undefined && !['private', 'organization', 'global'].includes(vis)) s.fail(`has a visibility envctl does not know`);
  const owner = isObject(e.owner) ? s.text(e.owner.userName ?? e.owner.username ?? e.owner.name, 'owner') : s.text(e.owner ?? e.ownerName, 'owner');
  const description = s.text(e.description, 'description');
  const clusterTypes = s.strings(e.supportedClusters ?? e.clusterTypes, 'supportedClusters');
  return {
    id: s.id(e.id, 'id'), name, archived: s.flag(e.archived ?? e.isArchived, 'archived') ?? false,
    ...(vis !== undefined ? { visibility: vis as ProductVisibility } : {}),
    ...(owner !== undefined ? { owner } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(clusterTypes !== undefined ? { clusterTypes } : {}),
  };
}

export function revisionRefs(endpoint: ProductEndpoint, path: string, body: unknown): { refs: ProductRevisionRef[]; total?: number } {
  const s: Shape = new Shape(endpoint, path);
  const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.revisions) ? body.revisions : isObject(body) && Array.isArray(body.data) ? body.data : s.fail('is not a list of revisions');
  const meta = isObject(body) && isObject(body.metadata) ? body.metadata : undefined;
  const total = typeof meta?.totalCount === 'number' ? meta.totalCount : undefined;
  const refs = list.map((r) => {
    if (!isObject(r)) s.fail('holds a revision that is not an object');
    return { id: s.id(r.id, 'revision id'), number: s.number(r.number, 'revision number') };
  });
  return total === undefined ? { refs } : { refs, total };
}

function timeOf(s: Shape, v: unknown): number {
  const t = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t) || t < 0 || t > 253402300799000) s.fail('has no usable creation time');
  return t;
}

function authorOf(s: Shape, v: unknown): ProductAuthor {
  if (typeof v === 'string') return { name: v, username: v };
  if (!isObject(v)) s.fail('has no author');
  const username = s.text(v.username ?? v.userName, 'author user name') ?? s.text(v.name, 'author') ?? s.fail('has no author');
  const name = s.text(v.fullName ?? v.name, 'author name') ?? username;
  const email = s.text(v.email, 'author email');
  return { name, username, ...(email !== undefined ? { email } : {}) };
}

function baseOf(s: Shape, r: Json): ProductBase {
  const b = r.base;
  if (isObject(b)) {
    const type = s.text(b.type, 'base type')?.toLowerCase();
    if (type === 'defaultimage' || type === 'default') return { kind: 'default' };
    if (type === 'customimage' || type === 'image') return { kind: 'image', image: s.text(b.image, 'base image') ?? s.fail('has a custom base without an image') };
    if (type === 'environment' || type === 'environmentrevision') {
      return { kind: 'environment', environmentId: s.id(b.environmentId, 'base environment id'), revisionId: s.id(b.revisionId, 'base revision id') };
    }
    s.fail('has a base type envctl does not know');
  }
  const image = s.text(r.image, 'image');
  return image !== undefined && image !== '' ? { kind: 'image', image } : { kind: 'default' };
}

function variablesOf(s: Shape, v: unknown): ProductVariable[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) s.fail('has environmentVariables that are not a list');
  return v.map((x) => {
    if (!isObject(x)) s.fail('has an environment variable that is not an object');
    const name = s.text(x.name, 'variable name') ?? s.fail('has a variable without a name');
    const secret = s.flag(x.isSecret ?? x.secret, 'isSecret') ?? false;
    // A secret's value is never kept, whatever the product sent.
    if (secret) return { name, secret };
    return { name, secret, value: s.text(x.value, 'variable value') ?? '' };
  });
}

export function parseRevision(endpoint: ProductEndpoint, path: string, body: unknown): ProductRevision {
  const s: Shape = new Shape(endpoint, path);
  const r = unwrap(body, 'revision');
  if (!isObject(r)) s.fail('is not a revision');
  const d = isObject(r.definition) ? { ...r, ...r.definition } : r;
  const args = d.dockerArguments;
  const dockerArguments = typeof args === 'string' ? args.split(/\r?\n/) : s.strings(args, 'dockerArguments') ?? [];
  const opt = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : { [key]: value } as Record<K, V>);
  const scripts = {
    ...opt('preSetup', s.text(d.preSetupScript, 'preSetupScript')), ...opt('postSetup', s.text(d.postSetupScript, 'postSetupScript')),
    ...opt('preRun', s.text(d.preRunScript, 'preRunScript')), ...opt('postRun', s.text(d.postRunScript, 'postRunScript')),
  };
  const tools = d.workspaceTools ?? d.properties;
  return {
    id: s.id(r.id, 'id'), number: s.number(r.number, 'number'), environmentId: s.id(r.environmentId, 'environmentId'),
    created: timeOf(s, r.created ?? r.createdAt), author: authorOf(s, r.author ?? r.createdBy), summary: s.text(r.summary, 'summary') ?? '',
    base: baseOf(s, d), scripts, variables: variablesOf(s, d.environmentVariables), dockerArguments,
    ...opt('instructions', s.text(d.dockerfileInstructions, 'dockerfileInstructions')),
    ...(tools !== undefined && tools !== null ? { workspaceTools: tools } : {}),
    ...opt('username', s.text(d.username, 'username')),
    ...opt('vpn', s.flag(d.useVpn, 'useVpn')),
    ...opt('noCache', s.flag(d.skipCache, 'skipCache')),
    ...opt('clusterTypes', s.strings(d.supportedClusters, 'supportedClusters')),
    ...opt('description', s.text(d.description, 'description')),
  };
}
