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
import { updateRevisions } from './revisions.js';

export interface HeadPlan extends Plan {
  head: string | undefined;
  /** The head's environments that pass the schema, as checked. */
  environments: CheckedEnvironment[];
  latest: Map<string, Revision>;
  ledger: Ledger;
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
  return { head: log.head, environments, latest, ledger: state.ledger, ...planBuilds({ config, environments, latest, ledger: state.ledger }) };
}
