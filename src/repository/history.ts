/**
 * An environment as it was at a revision: its YAML, and (when it passes the
 * schema) its rendered Dockerfile and content key (remembered in store/keys.ts).
 */
import { createHash } from 'node:crypto';
import { checkEnvironments } from '../check/index.js';
import { openKeyMemo } from '../store/keys.js';
import { readEntryFiles, type EnvironmentEntry } from '../git/history.js';
import { loadEnvironments } from '../load/environments.js';
import type { Config } from '../model/config.js';
import { KEY_VERSION, RenderError, renderEnvironment, type Rendered } from '../render/index.js';
import type { Revision } from '../revisions/number.js';
import type { Snapshot } from '../model/tree.js';

export interface EnvironmentAt {
  /** The YAML text. */
  spec: string;
  /** Undefined when the spec does not pass the schema there. */
  rendered?: Rendered;
}

export function renderSnapshot(snapshot: Snapshot, name: string, config: Config): EnvironmentAt {
  const loaded = loadEnvironments(snapshot, config.environmentsDir).environments.find((e) => e.name === name);
  const spec = loaded?.text ?? '';
  if (!loaded) return { spec };
  const checked = checkEnvironments([loaded], { config }).environments[0];
  if (!checked) return { spec };
  try {
    return { spec, rendered: renderEnvironment(checked, { config, all: new Map([[name, checked]]) }) };
  } catch (err) {
    if (err instanceof RenderError) return { spec }; // a revision that cannot render has no Dockerfile or key
    throw err;
  }
}

export async function environmentAt(root: string, config: Config, name: string, entry: EnvironmentEntry): Promise<EnvironmentAt> {
  const files = await readEntryFiles({ dir: root, folder: config.environmentsDir }, name, entry);
  return renderSnapshot({ files, problems: [] }, name, config);
}

/** What else decides a key besides the environment's files: the parts of envctl.yaml render uses. */
function fingerprint(config: Config): string {
  const parts = [KEY_VERSION, config.platform, config.defaultBase.image, config.registry.address, config.registry.prefix];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** Content key of each revision (null where its spec does not render), in the same order. */
export async function revisionKeys(root: string, config: Config, revisions: Revision[]): Promise<(string | null)[]> {
  const memo = await openKeyMemo(root, fingerprint(config));
  const out: (string | null)[] = [];
  for (const r of revisions) {
    const id = `${r.environment}:${r.entry.form}:${r.entry.oid}`;
    if (!memo.has(id)) memo.set(id, (await environmentAt(root, config, r.environment, r.entry)).rendered?.contentKey ?? null);
    out.push(memo.get(id) ?? null);
  }
  await memo.save();
  return out;
}
