/** The plan for the branch head: its environments read from git, their revisions, and the ledger. */
import { checkEnvironments, type CheckedEnvironment } from '../check/index.js';
import type { Ledger } from '../ledger/model.js';
import { readLedger } from '../git/ledger.js';
import { openObjects, readEntryFiles } from '../git/history.js';
import { loadEnvironments } from '../load/environments.js';
import { attachSharedAt } from '../git/shared-context.js';
import type { Config } from '../model/config.js';
import type { SourceFile } from '../model/tree.js';
import { planBuilds, type Plan } from '../plan/index.js';
import type { Revision } from '../revisions/number.js';
import { updateRevisions } from '../store/revision-index.js';
import { baseImageOf, baseOf } from '../model/spec.js';
import { ensureEmbeddedRegistry, RegistryUnavailable } from '../registry/embedded.js';
import { registryAccess } from '../registry/client.js';
import { RegistryError, resolveDigest } from '../registry/tag.js';
import { errorLine } from '../model/errors.js';

export interface HeadPlan extends Plan {
  head: string | undefined;
  /** The head's environments that pass the schema, as checked. */
  environments: CheckedEnvironment[];
  latest: Map<string, Revision>;
  ledger: Ledger;
  imageDigests: Map<string, string>;
  /**
   * Base images whose digest could not be asked (their registry was not
   * reachable, or refused), with why: environments on them have no content
   * key yet and reuse nothing, rather than being keyed as if the image were
   * absent. Empty when every registry answered.
   */
  unknownImages: Map<string, string>;
}

export interface PlanOptions {
  /**
   * Ask no registry: base images are keyed by their tags, as before any
   * digest is known (plan --offline, ENVCTL_OFFLINE=1). Sync never plans so.
   */
  offline?: boolean;
}

export async function planRepository(root: string, config: Config, branch = config.branch, opts: PlanOptions = {}): Promise<HeadPlan> {
  const [log, state] = await Promise.all([updateRevisions(root, config, branch), readLedger(root, config.stateBranch)]);
  const files: SourceFile[] = [];
  const store = openObjects(root);
  let loaded: ReturnType<typeof loadEnvironments>;
  try {
    for (const [name, entry] of Object.entries(log.entries)) {
      files.push(...(await readEntryFiles({ dir: root, folder: config.environmentsDir }, name, entry, { store })));
    }
    loaded = loadEnvironments({ files, problems: [] }, config.environmentsDir);
    // Shared folders as they are at the head: a change to one changes the keys of the environments naming it.
    if (log.head !== undefined) attachSharedAt(store, log.head, loaded.environments, config.environmentsDir);
  } finally {
    store.close();
  }
  const { environments } = checkEnvironments(loaded.environments, { config });
  const latest = new Map<string, Revision>();
  for (const r of await log.read()) if (log.entries[r.environment]) latest.set(r.environment, r);
  const { digests: imageDigests, unknown: unknownImages } = opts.offline
    ? { digests: new Map<string, string>(), unknown: new Map<string, string>() }
    : await baseImageLookups(root, config, environments);
  return {
    head: log.head, environments, latest, ledger: state.ledger, imageDigests, unknownImages,
    ...planBuilds({ config, environments, latest, ledger: state.ledger, imageDigests, unknownImages: new Set(unknownImages.keys()) }),
  };
}

/**
 * What the default and custom base images point at now. A changed image
 * behind the same tag changes the content key, so it rebuilds; the embedded
 * registry is started for the question when nothing answers on its port.
 *
 * The plan still works when a registry cannot be asked (a laptop offline, a
 * registry down): such an image goes into `unknown` with the reason, not
 * into `digests`, so the plan does not key its environments by the tag alone
 * as it does for an image the registry says it lacks (which sync will then
 * fail to pull). Anything but a registry's failure is thrown.
 */
export async function baseImageLookups(root: string, config: Config, environments: CheckedEnvironment[]): Promise<{ digests: Map<string, string>; unknown: Map<string, string> }> {
  const refs = new Set<string>();
  for (const env of environments) {
    const ref = baseImageOf(baseOf(env.spec), config.defaultBase.image);
    if (ref !== undefined && !ref.includes('@')) refs.add(ref);
  }
  const digests = new Map<string, string>();
  const unknown = new Map<string, string>();
  if (refs.size === 0) return { digests, unknown };
  // An embedded registry that cannot start shows as not reachable below; a port taken by a registry that
  // is not this repository's is an error: its digests would be another repository's.
  const registry = config.registry.embedded
    ? await ensureEmbeddedRegistry(root, config.registry.embeddedPort).catch((err: unknown) => {
      if (err instanceof RegistryUnavailable && err.code === 'registry-port-taken') throw err;
      return undefined;
    })
    : undefined;
  const access = registryAccess(config);
  try {
    await Promise.all([...refs].map(async (ref) => {
      try {
        const digest = await resolveDigest(ref, access);
        if (digest) digests.set(ref, digest);
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        unknown.set(ref, errorLine(err));
      }
    }));
  } finally {
    await registry?.stop();
  }
  return { digests, unknown };
}
