/**
 * Publishing a built envctl revision to the hosted product: create a product
 * revision from product/publish.ts's form, find it again by the content
 * marker in its summary, set a revision active, read which one is.
 *
 * - `POST /environments/{id}/revisions`, form-encoded, as the public client
 *   python-domino-environments sends it; the web form answers with a
 *   redirect, so 200/201/302/303 all mean created. Its answer does not
 *   reliably name the new revision, so it is found again by its summary.
 * - Setting a revision active has no public route: SET_ACTIVE_ROUTE is the
 *   web app's route as envctl understands it.
 *
 * Redirects are never followed (the key must not go to another host); every
 * failure is a ProductError whose code says which.
 */
import { contentMarker, publishedContent, revisionForm, type PublishInput } from '../product/publish.js';
import { oneLine } from '../product/message.js';
import { PRODUCT_ID, type ProductRevisionRef } from '../product/types.js';
import { getRevision, listRevisions } from './client.js';
import { getJson, hostOf, ProductError, type ProductEndpoint } from './http.js';
import { parseEnvironment, shapeError } from './shapes.js';

/**
 * Sets a revision active. Not from the public client: this is the product
 * web app's own route as envctl understands it, kept in this one place so a
 * deployment that differs fails with an error naming it.
 */
export const SET_ACTIVE_ROUTE = (environmentId: string, revisionId: string) =>
  `/v4/environments/${encodeURIComponent(environmentId)}/revisions/${encodeURIComponent(revisionId)}/setActive`;

const createPath = (environmentId: string) => `/environments/${encodeURIComponent(environmentId)}/revisions`;
const envPath = (id: string) => `/api/environments/v1/environments/${encodeURIComponent(id)}`;

const TIMEOUT_MS = 120_000;
/** What of a refusal's body is kept for the message: the start, made one printable line. */
const ANSWER_LIMIT = 4096;
const CREATED = [200, 201, 302, 303];
const DONE = [200, 201, 204, 302, 303];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

interface PostOptions {
  /** Statuses that mean it was done. */
  ok: number[];
  /** Said with a 404 (a route envctl is not sure of). */
  notFoundHint?: string;
}

/** POST a form (or nothing); resolves when the status is one of `ok`, else a ProductError. */
async function post(endpoint: ProductEndpoint, path: string, fields: [string, string][] | undefined, opts: PostOptions): Promise<void> {
  const host = hostOf(endpoint);
  let res: Response;
  try {
    res = await fetch(`${endpoint.url}${path}`, {
      method: 'POST',
      headers: {
        'X-Domino-Api-Key': endpoint.token, Accept: 'application/json',
        ...(fields ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(fields ? { body: new URLSearchParams(fields).toString() } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const why = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    throw new ProductError(host, 'product-unreachable', `cannot reach the product, or it did not answer POST ${path} (${why})`, { data: { path }, cause: err });
  }
  if (opts.ok.includes(res.status)) {
    await res.body?.cancel();
    return;
  }
  const answer = await answerText(res);
  throw postError(host, res.status, path, answer, opts);
}

/** The start of a refusal's body, one printable line (it is another host's text); '' when unreadable. */
async function answerText(res: Response): Promise<string> {
  try {
    const reader = res.body?.getReader();
    if (!reader) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size < ANSWER_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    await reader.cancel();
    return oneLine(new TextDecoder().decode(Buffer.concat(chunks).subarray(0, ANSWER_LIMIT)), 300);
  } catch {
    return '';
  }
}

/** http.ts's status → code mapping, for a POST. */
function postError(host: string, status: number, path: string, answer: string, opts: PostOptions): ProductError {
  const data = { path, status, method: 'POST', ...(answer !== '' ? { answer } : {}) };
  const said = answer !== '' ? `: ${answer}` : '';
  if (status === 401) return new ProductError(host, 'product-unauthorized', 'the API key was refused (401)', { data, hint: 'check the key in the variable --token-env names (default DOMINO_API_KEY)' });
  if (status === 403) return new ProductError(host, 'product-forbidden', `the API key may not POST ${path} (403)`, { data, hint: 'creating a revision or setting one active needs a key that may edit the environment' });
  if (status === 404) return new ProductError(host, 'product-not-found', `no POST ${path} (404)${said}`, { data, ...(opts.notFoundHint ? { hint: opts.notFoundHint } : {}) });
  if (status >= 300 && status < 400) return new ProductError(host, 'product-bad-response', `answered ${status} (a redirect) for POST ${path}; give --url as the product's own address`, { data });
  return new ProductError(host, status >= 500 ? 'product-failed' : 'product-bad-response', `answered ${status} for POST ${path}${said}`, { data });
}

/**
 * Creates the product revision for a built envctl revision and returns it,
 * found by its summary's marker. A lost answer is a ProductError
 * (product-unreachable) although the revision may exist: findPublished
 * tells, so a caller retrying does not make it twice.
 */
export async function createRevision(endpoint: ProductEndpoint, environmentId: string, input: PublishInput): Promise<ProductRevisionRef> {
  const fields = revisionForm(input);
  const path = createPath(environmentId);
  await post(endpoint, path, fields, { ok: CREATED });
  const ref = await findPublished(endpoint, environmentId, input.contentKey);
  if (ref === undefined) {
    throw new ProductError(hostOf(endpoint), 'product-bad-response', `the product accepted POST ${path} but the created revision could not be found among the environment's revisions`, {
      data: { path, environmentId, marker: contentMarker(input.contentKey) },
      hint: 'a redirect to a sign-in page also looks accepted: check the key and --url',
    });
  }
  return ref;
}

/**
 * Among the environment's newest `look` revisions, the newest whose summary
 * carries this content key's marker. Every revision is listed (client.ts
 * pages through them and orders by number), so the product's list order
 * does not matter; summaries are read newest first, stopping at a match.
 */
export async function findPublished(endpoint: ProductEndpoint, environmentId: string, contentKey: string, look = 50): Promise<ProductRevisionRef | undefined> {
  const marker = contentMarker(contentKey);
  const all = await listRevisions(endpoint, environmentId);
  const refs = all.slice(Math.max(0, all.length - Math.max(0, Math.floor(look)))).reverse();
  for (const ref of refs) {
    const summary = await summaryOf(endpoint, environmentId, ref);
    if (summary !== undefined && publishedContent(summary) === marker) return ref;
  }
  return undefined;
}

/** A listed revision's summary; undefined when its definition is gone (404) or it says it is another environment's. */
async function summaryOf(endpoint: ProductEndpoint, environmentId: string, ref: ProductRevisionRef): Promise<string | undefined> {
  try {
    const revision = await getRevision(endpoint, ref.id);
    return revision.environmentId === environmentId && revision.id === ref.id ? revision.summary : undefined;
  } catch (err) {
    // Only a missing definition is passed over: a failure or an odd answer could hide envctl's revision, and a duplicate is worse than an error.
    if (err instanceof ProductError && err.code === 'product-not-found') return undefined;
    throw err;
  }
}

/** Makes the revision the environment's active one (SET_ACTIVE_ROUTE). */
export async function setActiveRevision(endpoint: ProductEndpoint, environmentId: string, revisionId: string): Promise<void> {
  const path = SET_ACTIVE_ROUTE(environmentId, revisionId);
  await post(endpoint, path, undefined, {
    ok: DONE,
    notFoundHint: `envctl sets a revision active with POST /v4/environments/{environmentId}/revisions/{revisionId}/setActive, the product web app's route as envctl understands it (there is no public one); this deployment does not have it, or has no such environment or revision`,
  });
}

/**
 * The environment's active revision: the detail's `activeRevision` {id,
 * number}, else its `activeRevisionId` (its number read from the revision);
 * undefined when it has none.
 */
export async function activeRevisionOf(endpoint: ProductEndpoint, environmentId: string): Promise<ProductRevisionRef | undefined> {
  const path = envPath(environmentId);
  const body = await getJson(endpoint, path);
  parseEnvironment(endpoint, path, body);
  const env = isObject(body) && isObject(body.environment) ? body.environment : body as Json;
  const active = env.activeRevision;
  if (isObject(active)) {
    const id = active.id;
    if (typeof id !== 'string' || !PRODUCT_ID.test(id)) throw shapeError(endpoint, path, 'has an activeRevision without a usable id');
    const number = active.number;
    if (number === undefined || number === null) return refOf(endpoint, environmentId, path, id);
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) throw shapeError(endpoint, path, 'has an activeRevision without a usable number');
    return { id, number };
  }
  if (active !== undefined && active !== null) throw shapeError(endpoint, path, 'has an activeRevision that is not an object');
  const id = env.activeRevisionId;
  if (id === undefined || id === null) return undefined;
  if (typeof id !== 'string' || !PRODUCT_ID.test(id)) throw shapeError(endpoint, path, 'has no usable activeRevisionId');
  return refOf(endpoint, environmentId, path, id);
}

/** The ref of a revision known by id alone: its number from the revision route, which must say it is this environment's. */
async function refOf(endpoint: ProductEndpoint, environmentId: string, path: string, id: string): Promise<ProductRevisionRef> {
  const revision = await getRevision(endpoint, id);
  if (revision.environmentId !== environmentId) throw shapeError(endpoint, path, `names an active revision ${id} of another environment`);
  return { id, number: revision.number };
}
