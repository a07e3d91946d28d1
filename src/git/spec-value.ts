/** One field of an environment's YAML at a commit, without checking the rest: renamedFrom, base. */
import { decodeSpec } from '../source/text.js';
import { parseYaml } from '../source/yaml.js';
import { readEntryFiles, type EnvironmentEntry, type HistorySource } from './history.js';
import type { ObjectStore } from './objects.js';

/** The parsed YAML of an environment at an entry (undefined when unreadable): for single fields like renamedFrom or base. */
export async function specValueAt(src: HistorySource, name: string, entry: EnvironmentEntry, store: ObjectStore): Promise<Record<string, unknown> | undefined> {
  const [spec] = await readEntryFiles(src, name, entry, { specOnly: true, store });
  const text = spec && decodeSpec(spec.bytes, spec.path).text;
  if (text === undefined) return undefined;
  const value = parseYaml(text, spec!.path).value;
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

