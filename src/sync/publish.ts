/**
 * Publishing active revisions to the hosted product (`publish:` in
 * envctl.yaml), after the ledger has recorded them: for each environment
 * linked to a product environment (an import's Product-Environment trailer,
 * or `publish.environments`) whose active revision envctl has not made
 * active there yet, a product revision whose base is the built image by
 * digest, with the revision's run-time settings, then set active.
 *
 * Idempotent per content key: a content key the ledger says was published
 * (or whose marker a product revision's summary carries, when a ledger
 * write was lost) is never published again; a revert only sets that
 * product revision active again. A failure is recorded (`status: failed`)
 * and the next sync or envctl publish tries again; it never touches the build.
 * What envctl last made active is the newest `published` entry: a product
 * revision someone else made active afterwards is drift, reported by
 * `envctl status`, never undone in silence.
 */
import { readLedger, recordPublications } from '../git/ledger.js';
import { activeBuild, lastPublished, type BuildRecord, type EnvironmentLedger, type Publication } from '../ledger/model.js';
import type { Config } from '../model/config.js';
import { EnvctlError, errorLine, isEnvctlError } from '../model/errors.js';
import type { EnvironmentSpec, VariableSpec } from '../model/spec.js';
import type { RunSpec } from '../render/runspec.js';
import { productLinks } from '../repository/product.js';
import { environmentAt } from '../repository/history.js';
import { revisionsOf } from '../store/revision-index.js';
import { activeRevisionOf, createRevision, findPublished, setActiveRevision } from '../hosted/publish.js';
import { ProductError, type ProductEndpoint } from '../hosted/client.js';
import { revisionForm, type PublishInput } from '../product/publish.js';
import { imageName } from '../render/index.js';
import { createHash } from 'node:crypto';

export type PublishOutcome = 'published' | 'activated' | 'failed';

export interface PublishedEnvironment {
  environment: string;
  revision: number;
  /** `published`: a new product revision; `activated`: an existing one (same content) set active again; `failed`: see reason. */
  outcome: PublishOutcome;
  product?: { environment: string; revision: string; number: number };
  reason?: string;
}

export interface PublishReport {
  /** One per environment acted on; environments already published as they are active are not listed. */
  environments: PublishedEnvironment[];
  /** Said once: no token, environments with no product environment to publish to. */
  notes: string[];
  ledgerCommit?: string;
  /** Publishing stopped before it could record (the ledger could not be read or written): a note says why; exit 1. */
  stopped?: true;
}

/** Whether the report asks for exit 1: a publish failed, or publishing stopped. */
export const publishFailed = (r: PublishReport | undefined): boolean => r !== undefined && (r.stopped === true || r.environments.some((e) => e.outcome === 'failed'));

/** The run-time settings of a rendered revision as the product's revision holds them (its base is our image: nothing is inherited there). */
export function publishedSpec(run: RunSpec, own: Pick<EnvironmentSpec, 'owner'>): EnvironmentSpec {
  const scripts: NonNullable<EnvironmentSpec['scripts']> = {};
  for (const s of run.lifecycle.start.concat(run.lifecycle.stop)) {
    if (s.step === 'preSetup' || s.step === 'postSetup' || s.step === 'preRun' || s.step === 'postRun') {
      scripts[s.step] = scripts[s.step] === undefined ? s.script : `${scripts[s.step]}\n${s.script}`;
    }
  }
  const variables: Record<string, VariableSpec> = {};
  for (const v of run.variables) variables[v.name] = 'secret' in v ? { secret: true } : v.value;
  return {
    owner: own.owner, workspaceTools: run.workspaceTools, scripts, variables,
    // Inherited ones first, then its own, as the run spec already holds them (one argv word each: never deduplicated).
    dockerArguments: [...run.dockerArguments],
    ...(run.username ? { username: run.username } : {}), vpn: run.vpn, clusterTypes: run.clusterTypes,
  };
}

/**
 * Publishes what needs it and records every attempt in one ledger commit.
 * `env` holds the token (publish.tokenEnv); without it nothing is tried and
 * a note says so. `only`: these environments alone.
 */
export async function publishActive(root: string, config: Config, opts: { env: NodeJS.ProcessEnv; only?: string[] }): Promise<PublishReport> {
  const publish = config.publish;
  const report: PublishReport = { environments: [], notes: [] };
  if (!publish) return report;
  const { ledger } = await readLedger(root, config.stateBranch);
  const links = await productLinks(root, config);
  const due = [...ledger.values()].filter((l) => (!opts.only || opts.only.includes(l.environment)) && needsPublishing(l, links.get(l.environment)));
  const unlinked = due.filter((l) => !links.has(l.environment)).map((l) => l.environment);
  if (unlinked.length) report.notes.push(`not published (no product environment: import it, or name it under publish.environments): ${unlinked.join(', ')}`);
  const todo = due.filter((l) => links.has(l.environment));
  if (todo.length === 0) return report;
  const token = opts.env[publish.tokenEnv];
  if (!token) {
    report.notes.push(`not published: ${publish.tokenEnv} is not set (${todo.map((l) => l.environment).join(', ')} wait for it)`);
    return report;
  }
  const endpoint: ProductEndpoint = { url: publish.url, token };
  const entries = new Map<string, Publication[]>();
  for (const l of todo) {
    const { entry, reused } = await publishOne(root, config, endpoint, l, links.get(l.environment)!);
    // A failure like the last one recorded is said again, not recorded again: a route that is missing fails every run.
    const last = l.published?.at(-1);
    const same = entry.status === 'failed' && last?.status === 'failed' && last.contentKey === entry.contentKey && last.revision === entry.revision && last.code === entry.code;
    if (!same) entries.set(l.environment, [entry]);
    report.environments.push({
      environment: l.environment, revision: entry.revision, outcome: entry.status === 'failed' ? 'failed' : reused ? 'activated' : 'published',
      ...(entry.product ? { product: entry.product } : {}), ...(entry.reason ? { reason: entry.reason } : {}),
    });
  }
  const summary = `envctl: published ${report.environments.filter((e) => e.outcome !== 'failed').length} of ${report.environments.length} to the product`;
  const commit = await recordPublications(root, config.stateBranch, entries, summary);
  if (commit) report.ledgerCommit = commit;
  return report;
}

/**
 * Due: the active revision is not what envctl last made active in the
 * product (another revision number, even with the same image: its settings
 * may differ, and they are not in the content key), or the environment is
 * linked to another product environment now.
 */
function needsPublishing(l: EnvironmentLedger, link: string | undefined): boolean {
  const active = activeBuild(l);
  if (active?.digest === undefined) return false;
  const last = lastPublished(l);
  return last === undefined || last.revision !== active.revision || last.contentKey !== active.contentKey || (link !== undefined && last.product?.environment !== link);
}

/**
 * What makes a product revision the same as another: the image and every
 * setting sent (the form without its summary), hashed. Its 12 hex are the
 * marker in the product revision's summary.
 */
export function publishKey(input: PublishInput): string {
  const form = revisionForm(input).filter(([k]) => k !== 'summary');
  return `sha256:${createHash('sha256').update(JSON.stringify(form)).digest('hex')}`;
}

async function publishOne(root: string, config: Config, endpoint: ProductEndpoint, l: EnvironmentLedger, productEnvironment: string): Promise<{ entry: Publication; reused: boolean }> {
  const build = activeBuild(l)!;
  const base = { revision: build.revision, contentKey: build.contentKey, digest: build.digest!, at: new Date().toISOString() };
  let key: string | undefined;
  try {
    const rendered = await inputOf(root, config, l.environment, build);
    key = publishKey(rendered);
    // The marker is the publish key: the same image with the same settings is one product revision.
    const input = { ...rendered, contentKey: key };
    const known = l.published?.find((p) => p.status === 'published' && p.publishKey === key && p.product?.environment === productEnvironment)?.product;
    let target = known;
    if (target) {
      // A product revision deleted there since: made again rather than failing every run.
      if (!(await setActiveOrMissing(endpoint, productEnvironment, target.revision))) target = undefined;
    }
    if (!target) {
      const found = await findPublished(endpoint, productEnvironment, key) ?? await createRevision(endpoint, productEnvironment, input);
      target = { environment: productEnvironment, revision: found.id, number: found.number };
      await setActiveRevision(endpoint, productEnvironment, target.revision);
    }
    // A deployment that answered "done" by a redirect (to its sign-in page, say) did nothing: ask.
    const now = await activeRevisionOf(endpoint, productEnvironment);
    if (now?.id !== target.revision) {
      throw new ProductError(`product ${new URL(endpoint.url).host}`, 'product-bad-response', `revision ${target.number} was set active, but the product shows ${now ? `revision ${now.number}` : 'none'} active`, { data: { environment: productEnvironment } });
    }
    return { entry: { ...base, status: 'published', publishKey: key, product: target }, reused: known !== undefined && target === known };
  } catch (err) {
    // Whatever it was, the build stays and the attempt is recorded; the key never reaches the ledger.
    const reason = errorLine(err).split(endpoint.token).join('…');
    return { entry: { ...base, status: 'failed', ...(key ? { publishKey: key } : {}), reason, code: isEnvctlError(err) ? err.code : 'unexpected' }, reused: false };
  }
}

/** Sets a revision active; false when the product no longer has it (404). */
async function setActiveOrMissing(endpoint: ProductEndpoint, environment: string, revision: string): Promise<boolean> {
  try {
    await setActiveRevision(endpoint, environment, revision);
    return true;
  } catch (err) {
    if (isEnvctlError(err) && err.code === 'product-not-found') return false;
    throw err;
  }
}

/** The revision's run-time settings, rendered from its files at its commit; the image as this repository names it, by the recorded digest. */
async function inputOf(root: string, config: Config, name: string, build: BuildRecord): Promise<PublishInput> {
  const revision = (await revisionsOf(root, config, name)).find((r) => r.number === build.revision);
  const at = revision ? await environmentAt(root, config, revision) : undefined;
  if (!at?.rendered) throw new PublishUnrenderable(name, build.revision);
  return { environment: name, revision: build.revision, contentKey: build.contentKey, image: `${imageName(config, name)}@${build.digest!}`, spec: publishedSpec(at.rendered.runSpec, { owner: '' }) };
}

/** The active revision's files no longer render (a history rewritten under it): nothing to publish from. */
export class PublishUnrenderable extends EnvctlError {
  constructor(name: string, revision: number) {
    super('internal', 'publish-unrenderable', `${name}@${revision} does not render from its commit, so its settings cannot be published`, { data: { environment: name, revision } });
  }
}
