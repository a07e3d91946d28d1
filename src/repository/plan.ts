/** The plan for the branch head: its environments read from git, their revisions, and the ledger. */
import { checkEnvironments, type CheckedEnvironment } from '../check/index.js';
import type { Ledger } from '../ledger/model.js';
import { readLedger } from '../git/ledger.js';
import { openObjects, readEntryFiles } from '../git/history.js';
import { loadEnvironments } from '../load/environments.js';
import type { Config } from '../model/config.js';
import type { SourceFile } from '../model/tree.js';
import { planBuilds, type Plan } from '../plan/index.js';
import type { Revision } from '../revisions/number.js';
import { updateRevisions } from '../store/revision-index.js';
import { baseOf } from '../model/spec.js';
import { ensureEmbeddedRegistry } from '../registry/embedded.js';
import { registryAccess } from '../registry/client.js';
import { resolveDigest } from '../registry/tag.js';

export interface HeadPlan extends Plan {
  head: string | undefined;
  /** The head's environments that pass the schema, as checked. */
  environments: CheckedEnvironment[];
  latest: Map<string, Revision>;
  ledger: Ledger;
  imageDigests: Map<string, string>;
}

export async function planRepository(root: string, config: Config, branch = config.branch): Promise<HeadPlan> {
  const [log, state] = await Promise.all([updateRevisions(root, config, branch), readLedger(root, config.stateBranch)]);
  const files: SourceFile[] = [];
  const store = openObjects(root);
  try {
    for (const [name, entry] of Object.entries(log.entries)) {
      files.push(...(await readEntryFiles({ dir: root, folder: config.environmentsDir }, name, entry, { store })));
    }
  } finally {
    store.close();
  }
  const loaded = loadEnvironments({ files, problems: [] }, config.environmentsDir);
  const { environments } = checkEnvironments(loaded.environments, { config });
  const latest = new Map<string, Revision>();
  for (const r of await log.read()) if (log.entries[r.environment]) latest.set(r.environment, r);
  const imageDigests = await baseImageDigests(root, config, environments);
  return { head: log.head, environments, latest, ledger: state.ledger, imageDigests, ...planBuilds({ config, environments, latest, ledger: state.ledger, imageDigests }) };
}

/**
 * What the default and custom base images point at now. A changed image
 * behind the same tag changes the content key, so it rebuilds; the embedded
 * registry is started for the question when nothing answers on its port.
 */
export async function baseImageDigests(root: string, config: Config, environments: CheckedEnvironment[]): Promise<Map<string, string>> {
  const refs = new Set<string>();
  for (const env of environments) {
    const base = baseOf(env.spec);
    if (base.kind === 'default') refs.add(config.defaultBase.image);
    else if (base.kind === 'image' && !base.image.includes('@')) refs.add(base.image);
  }
  const out = new Map<string, string>();
  if (refs.size === 0) return out;
  const registry = config.registry.embedded ? await ensureEmbeddedRegistry(root, config.registry.embeddedPort).catch(() => undefined) : undefined;
  const access = registryAccess(config);
  try {
    await Promise.all([...refs].map(async (ref) => {
      const digest = await resolveDigest(ref, access);
      if (digest) out.set(ref, digest);
    }));
  } finally {
    await registry?.stop();
  }
  return out;
}
