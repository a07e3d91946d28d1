/**
 * `envctl import`, first half: what the product holds that the repository
 * lacks. The imported state comes from the branch's trailers; the product
 * is asked for the environments (and, transitively, the environments their
 * new revisions are built on), their revision lists and each new
 * revision's definition. A revision that is not there (404) or whose
 * answer is malformed is a gap; any other failure (401, 403, 5xx, no
 * connection) stops the run before anything is written.
 */
import { isEnvctlError } from '../model/errors.js';
import { readTrailers } from '../product/message.js';
import type { ProductEnvironment, ProductRevisionRef, ReadRevision } from '../product/types.js';
import { checkVersion, getEnvironment, getRevision, listEnvironments, listRevisions, ProductError, type ProductEndpoint } from '../hosted/client.js';

/** What earlier imports wrote for one product environment, read from trailers. */
export interface ImportedState {
  name: string;
  /** Product revision id by number. */
  ids: Map<number, string>;
  last: number;
  /** Author time of its last import commit (seconds). */
  lastTime: number;
  /** Gaps since its last readable revision, named in the next one's message. */
  trailingGaps: { number: number; reason: string }[];
}

/** Oldest first through the first-parent messages: per product environment id. */
export function importedState(messages: { message: string; time: number }[]): Map<string, ImportedState> {
  const out = new Map<string, ImportedState>();
  for (const m of [...messages].reverse()) {
    const t = readTrailers(m.message);
    if (!t) continue;
    const s = out.get(t.environmentId) ?? { name: t.name, ids: new Map(), last: 0, lastTime: 0, trailingGaps: [] };
    s.ids.set(t.number, t.revisionId);
    s.last = Math.max(s.last, t.number);
    s.lastTime = m.time;
    s.trailingGaps = t.unreadable !== undefined ? [...s.trailingGaps, { number: t.number, reason: t.unreadable }] : [];
    out.set(t.environmentId, s);
  }
  return out;
}

export interface ProductEnvironmentRead {
  environment: ProductEnvironment;
  refs: ProductRevisionRef[];
  /** The revisions after the last imported one, by number. */
  fresh: ReadRevision[];
}

export interface ProductRead {
  version: string;
  environments: Map<string, ProductEnvironmentRead>;
  /** Base environments named by a revision that the product would not show, with why. */
  unavailable: Map<string, string>;
}

/** A failure that makes one revision a gap rather than stopping the run. */
export function isGapError(err: unknown): err is ProductError {
  return isEnvctlError(err) && (err.code === 'product-not-found' || err.code === 'product-bad-response');
}

export async function readProduct(endpoint: ProductEndpoint, state: Map<string, ImportedState>, only: string[] | undefined): Promise<ProductRead> {
  const version = await checkVersion(endpoint);
  const queue = only ?? (await listEnvironments(endpoint));
  const environments = new Map<string, ProductEnvironmentRead>();
  const unavailable = new Map<string, string>();
  // Those asked for (or listed) must be readable; a base found through a revision may not be (its dependants get gaps).
  const asked = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    if (environments.has(id) || unavailable.has(id)) continue;
    let environment: ProductEnvironment;
    let refs: ProductRevisionRef[];
    try {
      environment = await getEnvironment(endpoint, id);
      refs = await listRevisions(endpoint, id);
    } catch (err) {
      // A base environment the key cannot see makes its dependants' revisions gaps; a named one is the caller's error.
      if (!asked.has(id) && isEnvctlError(err) && (err.code === 'product-not-found' || err.code === 'product-forbidden')) {
        unavailable.set(id, err.code === 'product-not-found' ? 'the product has no such environment' : 'the API key may not read it');
        continue;
      }
      throw err;
    }
    const done = state.get(id);
    for (const [number, revisionId] of done?.ids ?? []) {
      const now = refs.find((r) => r.number === number);
      if (now !== undefined && now.id !== revisionId) {
        throw new ProductError(`product ${new URL(endpoint.url).host}`, 'product-bad-response', `revision ${number} of environment ${id} is ${now.id} now, but ${revisionId} was imported as it`, { data: { environment: id, number } });
      }
    }
    const fresh: ReadRevision[] = [];
    for (const ref of refs.filter((r) => r.number > (done?.last ?? 0))) {
      try {
        const revision = await getRevision(endpoint, ref.id);
        if (revision.environmentId !== id || revision.number !== ref.number) {
          fresh.push({ ok: false, ref, reason: `its definition names revision ${revision.number} of environment ${revision.environmentId}` });
          continue;
        }
        fresh.push({ ok: true, ref, revision });
        if (revision.base.kind === 'environment' && revision.base.environmentId !== id) queue.push(revision.base.environmentId);
      } catch (err) {
        if (!isGapError(err)) throw err;
        fresh.push({ ok: false, ref, reason: err.code === 'product-not-found' ? 'the product answered 404 for its definition' : err.message });
      }
    }
    environments.set(id, { environment, refs, fresh });
  }
  return { version, environments, unavailable };
}
