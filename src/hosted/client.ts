/**
 * The hosted product's environments API, read-only, as its public client
 * (python-domino) calls it:
 *
 * - `GET /version` → `{ version }`: the deployment's version, checked first;
 * - `GET /v1/environments` → the environments the key may see (a list, or
 *   `{ objectType: "list", data: [...] }` as deployments answer);
 * - `GET /api/environments/v1/environments/{id}` → one environment
 *   (`{ environment: {...} }` or the object itself);
 * - `GET /api/environments/v1/environments/{id}/revisions?offset&limit` →
 *   its revisions (`{ revisions: [...], metadata: { totalCount } }`);
 * - `GET /v4/environments/environmentRevision/{revisionId}` → one revision's
 *   definition;
 * - `GET /v4/environments/environmentRevision/{revisionId}/sourceArchive` →
 *   the revision's source archive (tar.gz: Dockerfile, workspace-tools.yaml,
 *   scripts/, context/), 404 when it has none.
 *
 * Responses are shape-checked into product/types.ts; a secret variable's
 * value is dropped here, so it never reaches the mapping.
 */
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { PRODUCT_ID, type ArchiveFile, type ProductEnvironment, type ProductRevision, type ProductRevisionRef } from '../product/types.js';
import { ARCHIVE_LIMIT, get, getJson, hostOf, ProductError, type ProductEndpoint } from './http.js';
import { parseEnvironment, parseRevision, revisionRefs, shapeError } from './shapes.js';

export { ProductError, type ProductEndpoint, type ProductErrorCode } from './http.js';

/** Major versions of the product whose environments API this client knows. */
export const KNOWN_MAJOR_VERSIONS = [5, 6];

/** The deployment's version; a ProductError (`product-version-unknown`) when this client does not know it. */
export async function checkVersion(endpoint: ProductEndpoint): Promise<string> {
  const body = await getJson(endpoint, '/version');
  const version = body !== null && typeof body === 'object' ? (body as { version?: unknown }).version : undefined;
  if (typeof version !== 'string') throw shapeError(endpoint, '/version', 'has no version');
  const major = /^(\d+)\.\d+/.exec(version)?.[1];
  if (major === undefined || !KNOWN_MAJOR_VERSIONS.includes(Number(major))) {
    throw new ProductError(hostOf(endpoint), 'product-version-unknown', `product version ${JSON.stringify(version.slice(0, 40))} is not one envctl knows (${KNOWN_MAJOR_VERSIONS.map((v) => `${v}.x`).join(', ')})`, {
      data: { version: version.slice(0, 40) },
      hint: 'its environments API may differ; please report the version',
    });
  }
  return version;
}

/** Ids of the environments the key may see. */
export async function listEnvironments(endpoint: ProductEndpoint): Promise<string[]> {
  const body = await getJson(endpoint, '/v1/environments');
  const list = Array.isArray(body) ? body : body !== null && typeof body === 'object' && Array.isArray((body as { data?: unknown }).data) ? (body as { data: unknown[] }).data : undefined;
  if (list === undefined) throw shapeError(endpoint, '/v1/environments', 'is not a list of environments');
  return list.map((e) => {
    const id = e !== null && typeof e === 'object' ? (e as { id?: unknown }).id : undefined;
    if (typeof id !== 'string' || !PRODUCT_ID.test(id)) throw shapeError(endpoint, '/v1/environments', 'holds an environment without a usable id');
    return id;
  });
}

/** Revisions of one environment envctl will list: years of daily saves, and a bound on a product that never stops paging. */
const MAX_REVISIONS = 100_000;

const envPath = (id: string) => `/api/environments/v1/environments/${encodeURIComponent(id)}`;
const revisionPath = (id: string) => `/v4/environments/environmentRevision/${encodeURIComponent(id)}`;

export async function getEnvironment(endpoint: ProductEndpoint, id: string): Promise<ProductEnvironment> {
  const path = envPath(id);
  return parseEnvironment(endpoint, path, await getJson(endpoint, path));
}

/** The environment's revisions, oldest first, numbers checked to run 1, 2, 3 … without repeats. */
export async function listRevisions(endpoint: ProductEndpoint, id: string): Promise<ProductRevisionRef[]> {
  const out: ProductRevisionRef[] = [];
  const limit = 100;
  const seen = new Set<string>();
  for (let offset = 0; ; offset += limit) {
    const path = `${envPath(id)}/revisions?offset=${offset}&limit=${limit}`;
    const page = revisionRefs(endpoint, path, await getJson(endpoint, path));
    const fresh = page.refs.filter((r) => !seen.has(r.id));
    for (const r of fresh) seen.add(r.id);
    out.push(...fresh);
    if (page.refs.length < limit || (page.total !== undefined && out.length >= page.total)) break;
    // A product that pages over and over the same revisions, or without end, is not followed for ever.
    if (fresh.length === 0) break;
    if (out.length >= MAX_REVISIONS) throw shapeError(endpoint, `${envPath(id)}/revisions`, `lists more than ${MAX_REVISIONS} revisions`);
  }
  out.sort((a, b) => a.number - b.number);
  const numbers = new Set(out.map((r) => r.number));
  if (numbers.size !== out.length) throw shapeError(endpoint, `${envPath(id)}/revisions`, 'numbers two revisions alike');
  return out;
}

export async function getRevision(endpoint: ProductEndpoint, id: string): Promise<ProductRevision> {
  const path = revisionPath(id);
  return parseRevision(endpoint, path, await getJson(endpoint, path));
}

/** The revision's source archive's regular files, or undefined when the product has none for it. */
export async function getSourceArchive(endpoint: ProductEndpoint, id: string): Promise<ArchiveFile[] | undefined> {
  const path = `${revisionPath(id)}/sourceArchive`;
  const body = await get(endpoint, path, { accept: 'application/gzip, application/x-tar', limit: ARCHIVE_LIMIT, missingOk: true });
  if (body === undefined) return undefined;
  try {
    const tarBytes = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body, { maxOutputLength: ARCHIVE_LIMIT }) : Buffer.from(body);
    return await untar(tarBytes);
  } catch (err) {
    if (err instanceof ArchiveEntryError) throw shapeError(endpoint, path, err.message);
    throw shapeError(endpoint, path, 'is not a readable tar or tar.gz archive');
  }
}

class ArchiveEntryError extends Error {}

/** Regular files only; a link, device or path outside the archive (absolute, `..`) refuses the archive. */
async function untar(bytes: Buffer): Promise<ArchiveFile[]> {
  const extract = tar.extract();
  const files: ArchiveFile[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const { name, type, mode } = entry.header;
      const path = name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
      if (type === 'directory' || path === '' || path === '.') {
        entry.resume();
        continue;
      }
      if (type !== 'file' && type !== 'contiguous-file') throw new ArchiveEntryError(`holds ${JSON.stringify(path.slice(0, 100))}, a ${type ?? 'special'} entry (only files are taken)`);
      if (path.startsWith('/') || path.split('/').some((s) => s === '..' || s === '') || path.includes('\\')) throw new ArchiveEntryError(`holds a path outside it: ${JSON.stringify(path.slice(0, 100))}`);
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      files.push({ path, bytes: Buffer.concat(chunks), executable: ((mode ?? 0o644) & 0o111) !== 0 });
    }
  })();
  extract.end(bytes);
  await done;
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new ArchiveEntryError(`holds ${JSON.stringify(f.path.slice(0, 100))} twice`);
    seen.add(f.path);
  }
  return files;
}
