/**
 * envctl and the hosted product side by side: which product environment
 * each envctl environment publishes to (an import's Product-Environment
 * trailer, or envctl.yaml's publish.environments), and whether the
 * product's active revision is still the one envctl published (drift:
 * someone made another active in the web form). `envctl status` shows it;
 * `validate --against-product` turns drift into errors.
 */
import { branchTip, firstParentMessages } from '../git/import-commit.js';
import { readLedger } from '../git/ledger.js';
import { activeBuild, lastPublished } from '../ledger/model.js';
import type { Config } from '../model/config.js';
import { errorLine, isEnvctlError } from '../model/errors.js';
import { problem, type Problem } from '../model/problem.js';
import { activeRevisionOf } from '../hosted/publish.js';
import { importedState } from './import-read.js';
import { PRODUCT_ID } from '../product/types.js';

/** Product environment id by envctl name: the first import trailer naming it, overridden by envctl.yaml's map. */
export async function productLinks(root: string, config: Config): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  // The first import that named it links it: a later commit message claiming another product environment for the
  // same name (anyone can write trailers; a squash merge carries a pull request's) does not move the link.
  for (const [id, state] of importedState(firstParentMessages(root, await branchTip(root, config.branch)))) {
    if (PRODUCT_ID.test(id) && !links.has(state.name)) links.set(state.name, id);
  }
  for (const [name, id] of Object.entries(config.publish?.environments ?? {})) links.set(name, id);
  return links;
}

type ProductRef = { id: string; number: number };

/** Per environment, the product's side. */
export type ProductState =
  /** The product's active revision is the one envctl last published (or made active again). */
  | { state: 'in-sync'; environment: string; revision: ProductRef }
  /** Another revision is active in the product (or none is). */
  | { state: 'drift'; environment: string; published: ProductRef; active: ProductRef | null }
  /** Linked, but envctl has published nothing to it yet. */
  | { state: 'not-published'; environment: string }
  /** envctl's active revision is not published yet (the last attempt failed, or none was made since it became active). */
  | { state: 'behind'; environment: string; revision: number; reason?: string }
  /** No product environment to publish to. */
  | { state: 'unlinked' }
  /** The product could not be asked (no token, unreachable, refused): why. */
  | { state: 'unknown'; environment: string; reason: string };

/**
 * The product's side of each named environment (all the ledger and the
 * links know when `names` is unset); undefined without `publish:`.
 */
export async function productStates(root: string, config: Config, env: NodeJS.ProcessEnv, names?: string[]): Promise<Map<string, ProductState> | undefined> {
  const publish = config.publish;
  if (!publish) return undefined;
  const [{ ledger }, links] = await Promise.all([readLedger(root, config.stateBranch), productLinks(root, config)]);
  const token = env[publish.tokenEnv];
  const out = new Map<string, ProductState>();
  for (const name of names ?? [...new Set([...ledger.keys(), ...links.keys()])].sort()) {
    const environment = links.get(name);
    if (environment === undefined) {
      out.set(name, { state: 'unlinked' });
      continue;
    }
    const published = lastPublished(ledger.get(name));
    if (!published?.product || published.product.environment !== environment) {
      out.set(name, { state: 'not-published', environment });
      continue;
    }
    const active = activeBuild(ledger.get(name));
    if (active && (active.revision !== published.revision || active.contentKey !== published.contentKey)) {
      const last = ledger.get(name)?.published?.at(-1);
      out.set(name, { state: 'behind', environment, revision: active.revision, ...(last?.status === 'failed' && last.reason ? { reason: last.reason } : {}) });
      continue;
    }
    const mine = { id: published.product.revision, number: published.product.number };
    if (!token) {
      out.set(name, { state: 'unknown', environment, reason: `${publish.tokenEnv} is not set` });
      continue;
    }
    try {
      const active = await activeRevisionOf({ url: publish.url, token }, environment);
      out.set(name, active?.id === mine.id ? { state: 'in-sync', environment, revision: mine } : { state: 'drift', environment, published: mine, active: active ?? null });
    } catch (err) {
      if (!isEnvctlError(err)) throw err;
      out.set(name, { state: 'unknown', environment, reason: errorLine(err) });
    }
  }
  return out;
}

/** One line for a state, for status's table and validate's message. */
export function productStateText(s: ProductState): string {
  if (s.state === 'in-sync') return `in sync (revision ${s.revision.number})`;
  if (s.state === 'drift') return `drift: revision ${s.active ? s.active.number : 'none'} is active there, envctl published ${s.published.number}`;
  if (s.state === 'not-published') return 'not published yet';
  if (s.state === 'behind') return `behind: revision ${s.revision} is not published yet${s.reason ? ` (last attempt: ${s.reason})` : ''}`;
  if (s.state === 'unlinked') return '-';
  return `unknown: ${s.reason}`;
}

/**
 * `validate --against-product`: an error at each environment file whose
 * product revision drifted, or whose product side cannot be known (CI must
 * not pass on a question it could not ask). Environments not linked or not
 * published yet give none.
 */
export async function productProblems(root: string, config: Config, env: NodeJS.ProcessEnv, environments: { name: string; file: string }[]): Promise<Problem[]> {
  const states = await productStates(root, config, env, environments.map((e) => e.name));
  const out: Problem[] = [];
  for (const e of environments) {
    const s = states?.get(e.name);
    if (s?.state === 'drift') out.push(problem({ file: e.file, line: 1, col: 1 }, 'error', 'product-drift', `${productStateText(s)} (product environment ${s.environment}): a revision was made active in the product, not by envctl; make it active again there, or let the next publish replace it`));
    if (s?.state === 'behind') out.push(problem({ file: e.file, line: 1, col: 1 }, 'warning', 'product-behind', `${productStateText(s)}; envctl publish (the sync workflow's publish job) tries again`));
    if (s?.state === 'unknown') out.push(problem({ file: e.file, line: 1, col: 1 }, 'error', 'product-unknown', `the product's active revision could not be read: ${s.reason}`));
  }
  return out;
}
