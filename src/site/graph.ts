/**
 * What is built on what: the default base and each image base as roots,
 * every environment one column right of its base. Drawn as inline SVG with
 * each environment a link to its page, and repeated as a nested list that
 * reads well on a phone and with a screen reader.
 */
import { statusKey } from './format.js';
import { html, join, type Fragment, type Html } from './html.js';
import type { SiteEnvironment } from './model.js';

const NODE_WIDTH = 184;
const NODE_HEIGHT = 36;
const COLUMN = 232;
const ROW = 52;
const PAD = 16;

interface Node {
  id: string;
  kind: 'default' | 'image' | 'missing' | 'environment';
  label: string;
  /** Accessible name and tooltip. */
  description: string;
  depth: number;
  environment?: SiteEnvironment;
  children: Node[];
  parent?: Node;
  row: number;
}

export interface Graph {
  nodes: Node[];
  roots: Node[];
  edges: { from: Node; to: Node; pinned: number | null }[];
}

/** Builds the graph; environments are expected sorted by name. Tolerates bases that are missing and cycles. */
export function buildGraph(environments: readonly SiteEnvironment[]): Graph {
  const byName = new Map(environments.map((e) => [e.name, e]));
  const roots = new Map<string, Node>();
  const envNodes = new Map<string, Node>();
  const root = (id: string, kind: Node['kind'], label: string, description: string): Node => {
    let node = roots.get(id);
    if (!node) roots.set(id, (node = { id, kind, label, description, depth: 0, children: [], row: 0 }));
    return node;
  };
  for (const env of environments) {
    envNodes.set(env.name, { id: `env:${env.name}`, kind: 'environment', label: env.name, description: `${env.title} (${env.name})`, depth: 1, environment: env, children: [], row: 0 });
  }
  const edges: Graph['edges'] = [];
  for (const env of environments) {
    const node = envNodes.get(env.name)!;
    const base = env.base;
    let parent: Node;
    let pinned: number | null = null;
    if (base.kind === 'environment') {
      pinned = typeof base.revision === 'number' ? base.revision : null;
      parent = byName.has(base.environment)
        ? envNodes.get(base.environment)!
        : root(`missing:${base.environment}`, 'missing', base.environment, `${base.environment} (not in this catalog)`);
    } else if (base.kind === 'image') {
      parent = root(`image:${base.image}`, 'image', base.image, `image ${base.image}`);
    } else {
      parent = root('default', 'default', 'default base', base.image ? `the default base image ${base.image}` : 'the default base image');
    }
    node.parent = parent;
    parent.children.push(node);
    edges.push({ from: parent, to: node, pinned });
  }
  // Depth: one more than the base's; a node on a cycle is placed at depth 1.
  const state = new Map<Node, 'visiting' | 'done'>();
  const depthOf = (node: Node): number => {
    if (node.kind !== 'environment') return 0;
    const seen = state.get(node);
    if (seen === 'done') return node.depth;
    if (seen === 'visiting') return 0;
    state.set(node, 'visiting');
    node.depth = node.parent ? depthOf(node.parent) + 1 : 1;
    state.set(node, 'done');
    return node.depth;
  };
  for (const node of envNodes.values()) depthOf(node);

  const kindOrder: Record<Node['kind'], number> = { default: 0, image: 1, missing: 2, environment: 3 };
  const rootList = [...roots.values()].sort((a, b) => kindOrder[a.kind] - kindOrder[b.kind] || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  const nodes = [...rootList, ...envNodes.values()];
  // Rows: column by column, children in the order of their parents' rows, then by name.
  const maxDepth = Math.max(0, ...nodes.map((n) => n.depth));
  rootList.forEach((n, i) => (n.row = i));
  for (let depth = 1; depth <= maxDepth; depth++) {
    const column = nodes.filter((n) => n.depth === depth);
    const parentRow = (n: Node) => (n.parent && n.parent.depth === depth - 1 ? n.parent.row : Number.MAX_SAFE_INTEGER);
    column.sort((a, b) => parentRow(a) - parentRow(b) || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    column.forEach((n, i) => (n.row = i));
  }
  return { nodes, roots: rootList, edges };
}

const px = (depth: number) => PAD + depth * COLUMN;
const py = (row: number) => PAD + row * ROW;

export function renderGraphSvg(graph: Graph, environmentHref: (name: string) => string): Html {
  const maxDepth = Math.max(0, ...graph.nodes.map((n) => n.depth));
  const maxRows = Math.max(1, ...Array.from({ length: maxDepth + 1 }, (_, d) => graph.nodes.filter((n) => n.depth === d).length));
  const width = PAD * 2 + maxDepth * COLUMN + NODE_WIDTH;
  const height = PAD * 2 + (maxRows - 1) * ROW + NODE_HEIGHT;

  const edges = graph.edges.map(({ from, to, pinned }) => {
    const x1 = px(from.depth) + NODE_WIDTH;
    const y1 = py(from.row) + NODE_HEIGHT / 2;
    const x2 = px(to.depth);
    const y2 = py(to.row) + NODE_HEIGHT / 2;
    const mid = (x1 + x2) / 2;
    const what = pinned === null ? '' : ` at revision ${pinned}`;
    return html`<path class="edge${pinned === null ? '' : ' edge-pinned'}" d="M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}"><title>${to.label} is built on ${from.label}${what}</title></path>`;
  });

  const nodes = graph.nodes.map((n) => {
    const x = px(n.depth);
    const y = py(n.row);
    const env = n.environment;
    const cls = `node node-${n.kind}${env?.archived ? ' archived' : ''}${env ? ` status-${statusKey(env.revisions.find((r) => r.number === env.latestRevision) ?? env.revisions[0])}` : ''}`;
    // The whole label is drawn and the nested <svg> clips it at the box's edge: a label cut short with "…"
    // would be drawn text that the accessible name does not contain (axe's label-content-name-mismatch).
    const shape = html`<rect x="${x}" y="${y}" width="${NODE_WIDTH}" height="${NODE_HEIGHT}" rx="6"/><svg x="${x}" y="${y}" width="${NODE_WIDTH - 6}" height="${NODE_HEIGHT}"><text x="10" y="${NODE_HEIGHT / 2 + 5}">${n.label}</text></svg>`;
    if (env) {
      // The accessible name starts with the name drawn in the box (axe's label-content-name-mismatch: a
      // voice-control user says what they see), and the link holds no <title>, whose text would count as
      // drawn text the name lacks; the list below the graph gives each title too.
      return html`<a class="node-link" href="${environmentHref(env.name)}" aria-label="${env.name}: ${env.title}${env.archived ? ', archived' : ''}" data-name="${env.name}"><g class="${cls}">${shape}</g></a>`;
    }
    return html`<g class="${cls}" role="img" aria-label="${n.description}"><title>${n.description}</title>${shape}</g>`;
  });

  return html`<svg class="graph-svg" id="graph" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="group" aria-labelledby="graph-title">
<title id="graph-title">Environments by base: each environment is drawn right of the one it is built on</title>
<g class="edges">${edges}</g>
<g class="nodes">${nodes}</g>
</svg>`;
}

/** The same graph as nested lists. */
export function renderGraphList(graph: Graph, environmentHref: (name: string) => string): Html {
  const placed = new Set<Node>();
  const item = (n: Node): Html => {
    placed.add(n);
    const env = n.environment;
    const label: Fragment = env
      ? html`<a href="${environmentHref(env.name)}">${env.title}</a> <code>${env.name}</code>${env.archived ? html` <span class="tag tag-archived">archived</span>` : ''}`
      : n.kind === 'image'
        ? html`image <code>${n.label}</code>`
        : n.kind === 'missing'
          ? html`<code>${n.label}</code> (not in this catalog)`
          : html`default base`;
    const children = n.children.filter((c) => !placed.has(c));
    return html`<li>${label}${children.length ? html`<ul>${children.map(item)}</ul>` : ''}</li>`;
  };
  const lists = graph.roots.map(item);
  // Environments on a cycle are reachable from no root: list them too.
  const rest: Html[] = [];
  for (const n of graph.nodes) if (!placed.has(n)) rest.push(item(n));
  return html`<ul class="tree">${join([...lists, ...rest])}</ul>`;
}
