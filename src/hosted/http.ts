/**
 * Requests to the hosted product's REST API: the API key in the header the
 * product's own client sends (`X-Domino-Api-Key`), redirects refused (the
 * key must not follow one to another host), bodies read up to a limit, and
 * every failure a ProductError whose code says which (never matched by text).
 */
import { EnvctlError } from '../model/errors.js';

export type ProductErrorCode =
  | 'product-unauthorized' | 'product-forbidden' | 'product-not-found' | 'product-failed'
  | 'product-unreachable' | 'product-bad-response' | 'product-version-unknown';

/** The hosted product failed or refused (external; `code` says how, `data.path` the route). */
export class ProductError extends EnvctlError {
  constructor(host: string, code: ProductErrorCode, message: string, details: { hint?: string; data?: Record<string, unknown>; cause?: unknown } = {}) {
    super('external', code, message, { ...details, host });
  }
}

export interface ProductEndpoint {
  /** The product's origin and any path prefix, without a trailing slash: https://domino.example.com */
  url: string;
  token: string;
}

const JSON_LIMIT = 16 * 1024 * 1024;
export const ARCHIVE_LIMIT = 256 * 1024 * 1024;

export function hostOf(endpoint: ProductEndpoint): string {
  return `product ${new URL(endpoint.url).host}`;
}

/** GET a route; the raw body, or undefined for a 404 when `missingOk`. */
export async function get(endpoint: ProductEndpoint, path: string, opts: { accept: string; limit: number; missingOk?: boolean }): Promise<Uint8Array | undefined> {
  const host = hostOf(endpoint);
  let res: Response;
  try {
    res = await fetch(`${endpoint.url}${path}`, {
      headers: { 'X-Domino-Api-Key': endpoint.token, Accept: opts.accept },
      redirect: 'manual',
      signal: AbortSignal.timeout(120_000),
    });
  } catch (err) {
    throw new ProductError(host, 'product-unreachable', `cannot reach the product (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message})`, { data: { path }, cause: err });
  }
  if (res.status === 404 && opts.missingOk) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw statusError(host, res.status, path);
  }
  return readLimited(res, opts.limit, host, path);
}

function statusError(host: string, status: number, path: string): ProductError {
  const data = { path, status };
  if (status === 401) return new ProductError(host, 'product-unauthorized', 'the API key was refused (401)', { data, hint: 'check the key in the variable --token-env names (default DOMINO_API_KEY)' });
  if (status === 403) return new ProductError(host, 'product-forbidden', `the API key may not read ${path} (403)`, { data, hint: 'an administrator\'s key sees every environment; a user\'s key only those it may use' });
  if (status === 404) return new ProductError(host, 'product-not-found', `no ${path} (404)`, { data });
  if (status >= 300 && status < 400) return new ProductError(host, 'product-bad-response', `answered ${status} (a redirect) for ${path}; give --url as the product's own address`, { data });
  return new ProductError(host, status >= 500 ? 'product-failed' : 'product-bad-response', `answered ${status} for ${path}`, { data });
}

async function readLimited(res: Response, limit: number, host: string, path: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += (chunk as Uint8Array).byteLength;
      if (size > limit) {
        await res.body?.cancel();
        throw new ProductError(host, 'product-bad-response', `the answer for ${path} is larger than ${limit} bytes`, { data: { path } });
      }
      chunks.push(chunk as Uint8Array);
    }
  } catch (err) {
    if (err instanceof ProductError) throw err;
    throw new ProductError(host, 'product-unreachable', `the connection broke while reading ${path}`, { data: { path }, cause: err });
  }
  return Buffer.concat(chunks);
}

/** GET a JSON route; undefined for a 404 when `missingOk`. */
export async function getJson(endpoint: ProductEndpoint, path: string, missingOk = false): Promise<unknown> {
  const body = await get(endpoint, path, { accept: 'application/json', limit: JSON_LIMIT, missingOk });
  if (body === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
  } catch (err) {
    throw new ProductError(hostOf(endpoint), 'product-bad-response', `the answer for ${path} is not JSON`, { data: { path }, cause: err });
  }
}
