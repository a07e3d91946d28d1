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
 * and the next sync or record tries again; it never touches the build.
 * What envctl last made active is the newest `published` entry: a product
 * revision someone else made active afterwards is drift, reported by
 * `envctl status`, never undone in silence.
 */
import { readLedger, recordPublications } from '../git/ledger.js';
import { activeBuild, lastPublished, publicationOf, type BuildRecord, type EnvironmentLedger, type Publication } from '../ledger/model.js';
import type { Config } from '../model/config.js';
import { EnvctlError, errorLine, isEnvctlError } from '../model/errors.js';
import type { EnvironmentSpec, VariableSpec } from '../model/spec.js';
import type { RunSpec } from '../render/runspec.js';
import { productLinks } from '../repository/product.js';
import { environmentAt } from '../repository/history.js';
import { revisionsOf } from '../store/revision-index.js';
import { activeRevisionOf, createRevision, findPublished, setActiveRevision } from '../hosted/publish.js';
import { ProductError, type ProductEndpoint } from '../hosted/client.js';
import type { PublishInput } from '../product/publish.js';

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
}

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
    dockerArguments: [...run.inheritedDockerArguments, ...run.dockerArguments.filter((a) => !run.inheritedDockerArguments.includes(a))],
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
  const due = [...ledger.values()].filter((l) => (!opts.only || opts.only.includes(l.environment)) && needsPublishing(l));
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
    const entry = await publishOne(root, config, endpoint, l, links.get(l.environment)!);
    entries.set(l.environment, [entry]);
    report.environments.push({
      environment: l.environment, revision: entry.revision,
      outcome: entry.status === 'failed' ? 'failed' : publicationOf(l, entry.contentKey) ? 'activated' : 'published',
      ...(entry.product ? { product: entry.product } : {}), ...(entry.reason ? { reason: entry.reason } : {}),
    });
  }
  const summary = `envctl: published ${report.environments.filter((e) => e.outcome !== 'failed').length} of ${report.environments.length} to the product`;
  const commit = await recordPublications(root, config.stateBranch, entries, summary);
  if (commit) report.ledgerCommit = commit;
  return report;
}

/** The active build is not what envctl last made active in the product. */
function needsPublishing(l: EnvironmentLedger): boolean {
  const active = activeBuild(l);
  return active?.digest !== undefined && lastPublished(l)?.contentKey !== active.contentKey;
}

async function publishOne(root: string, config: Config, endpoint: ProductEndpoint, l: EnvironmentLedger, productEnvironment: string): Promise<Publication> {
  const build = activeBuild(l)!;
  const base = { revision: build.revision, contentKey: build.contentKey, digest: build.digest!, at: new Date().toISOString() };
  try {
    let target = publicationOf(l, build.contentKey)?.product;
    if (!target || target.environment !== productEnvironment) {
      const input = await inputOf(root, config, l.environment, build);
      const found = await findPublished(endpoint, productEnvironment, build.contentKey) ?? await createRevision(endpoint, productEnvironment, input);
      target = { environment: productEnvironment, revision: found.id, number: found.number };
    }
    await setActiveRevision(endpoint, productEnvironment, target.revision);
    // A deployment that answered "done" by a redirect (to its sign-in page, say) did nothing: ask.
    const now = await activeRevisionOf(endpoint, productEnvironment);
    if (now?.id !== target.revision) {
      throw new ProductError(`product ${new URL(endpoint.url).host}`, 'product-bad-response', `revision ${target.number} was set active, but the product shows ${now ? `revision ${now.number}` : 'none'} active`, { data: { environment: productEnvironment } });
    }
    return { ...base, status: 'published', product: target };
  } catch (err) {
    if (!isEnvctlError(err)) throw err;
    return { ...base, status: 'failed', reason: errorLine(err), code: err.code };
  }
}

/** The revision's run-time settings, rendered from its files at its commit. */
async function inputOf(root: string, config: Config, name: string, build: BuildRecord): Promise<PublishInput> {
  const revision = (await revisionsOf(root, config, name)).find((r) => r.number === build.revision);
  const at = revision ? await environmentAt(root, config, revision) : undefined;
  if (!at?.rendered) throw new PublishUnrenderable(name, build.revision);
  const image = `${build.image!.replace(/:[^:/]+$/, '')}@${build.digest!}`;
  return { environment: name, revision: build.revision, contentKey: build.contentKey, image, spec: publishedSpec(at.rendered.runSpec, { owner: '' }) };
}


/** The active revision's files no longer render (a history rewritten under it): nothing to publish from. */
export class PublishUnrenderable extends EnvctlError {
  constructor(name: string, revision: number) {
    super('internal', 'publish-unrenderable', `${name}@${revision} does not render from its commit, so its settings cannot be published`, { data: { environment: name, revision } });
  }
}
