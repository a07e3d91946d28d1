/**
 * An environment as it was at a revision: its YAML, and (when it passes the
 * schema) its rendered Dockerfile and content key. Keys are remembered per
 * files id under `.envctl/cache/keys/`, so a revision is rendered once.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkEnvironments } from '../check/index.js';
import { writeFileAtomic } from '../files/write.js';
import { readEntryFiles, type EnvironmentEntry, type HistorySource } from '../git/history.js';
import type { ObjectStore } from '../git/objects.js';
import { decodeSpec } from '../load/text.js';
import { parseYaml } from '../load/yaml.js';
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

/** The parsed YAML of an environment at an entry (undefined when unreadable): for single fields like renamedFrom or base. */
export async function specValueAt(src: HistorySource, name: string, entry: EnvironmentEntry, store: ObjectStore): Promise<Record<string, unknown> | undefined> {
  const [spec] = await readEntryFiles(src, name, entry, { specOnly: true, store });
  const text = spec && decodeSpec(spec.bytes, spec.path).text;
  if (text === undefined) return undefined;
  const value = parseYaml(text, spec!.path).value;
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

/** What else decides a key besides the environment's files: the parts of envctl.yaml render uses. */
function fingerprint(config: Config): string {
  const parts = [KEY_VERSION, config.platform, config.defaultBase.image, config.registry.address, config.registry.prefix];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** Content key of each revision (null where its spec does not render), in the same order. */
export async function revisionKeys(root: string, config: Config, revisions: Revision[]): Promise<(string | null)[]> {
  const path = join(root, '.envctl', 'cache', 'keys', `${fingerprint(config)}.json`);
  let memo: Record<string, string | null> = {};
  try {
    memo = JSON.parse(await readFile(path, 'utf8')) as Record<string, string | null>;
  } catch {
    // none yet
  }
  let changed = false;
  const out: (string | null)[] = [];
  for (const r of revisions) {
    const id = `${r.environment}:${r.entry.form}:${r.entry.oid}`;
    if (!(id in memo)) {
      memo[id] = (await environmentAt(root, config, r.environment, r.entry)).rendered?.contentKey ?? null;
      changed = true;
    }
    out.push(memo[id] ?? null);
  }
  if (changed) {
    await mkdir(join(root, '.envctl', 'cache', 'keys'), { recursive: true });
    await writeFileAtomic(path, JSON.stringify(memo));
  }
  return out;
}

