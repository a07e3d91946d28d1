/** Consumers (projects, models, data sets) as a commit holds them: the environment each chose. */
import { rawEnvironmentChoice } from '../check/raw.js';
import { CONSUMER_KINDS, consumerKey, type EnvironmentChoice } from '../load/consumers.js';
import { CONSUMER_DIRS, CONSUMER_SPEC, type ConsumerKind } from '../model/project.js';
import { decodeSpec } from '../source/text.js';
import { parseYaml } from '../source/yaml.js';
import { parseCommit, parseTree, type ObjectStore, type TreeItem } from './objects.js';

/**
 * The environment choice each named consumer had at a commit (by
 * consumerKey); consumers absent there, or unreadable, are left out.
 */
export function consumerChoicesAt(store: ObjectStore, commit: string, wanted: { kind: ConsumerKind; name: string }[]): Map<string, EnvironmentChoice> {
  const out = new Map<string, EnvironmentChoice>();
  if (wanted.length === 0) return out;
  const root = parseCommit(store.read(commit).data).tree;
  for (const kind of CONSUMER_KINDS) {
    const names = new Set(wanted.filter((w) => w.kind === kind).map((w) => w.name));
    if (names.size === 0) continue;
    const dir = CONSUMER_DIRS[kind];
    const items = treeAt(store, root, dir, (p) => names.has(p) || (p.endsWith('.yaml') && names.has(p.slice(0, -'.yaml'.length))));
    if (!items) continue;
    for (const name of names) {
      // A folder holding the spec wins over <name>.yaml, as in the history of environments.
      const folder = items.find((e) => e.type === 'tree' && e.path === name);
      const inFolder = folder && parseTree(store.read(folder.oid).data, (p) => p === CONSUMER_SPEC[kind]).find((e) => e.type === 'blob' && e.mode !== '120000');
      const file = items.find((e) => e.type === 'blob' && e.mode !== '120000' && e.path === `${name}.yaml`);
      const blob = inFolder ?? file;
      if (!blob) continue;
      const path = inFolder ? `${dir}/${name}/${CONSUMER_SPEC[kind]}` : `${dir}/${name}.yaml`;
      const text = decodeSpec(store.read(blob.oid).data, path).text;
      const choice = text === undefined ? undefined : rawEnvironmentChoice(parseYaml(text, path).value);
      if (choice) out.set(consumerKey(kind, name), choice);
    }
  }
  return out;
}

/** The entries of the folder at `path` under a root tree (filtered by `keep`), or undefined when it is absent. */
function treeAt(store: ObjectStore, rootTree: string, path: string, keep?: (name: string) => boolean): TreeItem[] | undefined {
  let tree = rootTree;
  for (const part of path.split('/')) {
    const next = parseTree(store.read(tree).data, (p) => p === part).find((e) => e.type === 'tree');
    if (!next) return undefined;
    tree = next.oid;
  }
  return parseTree(store.read(tree).data, keep);
}

