/**
 * Purity and layering of src/, read from the sources with the TypeScript
 * parser: every import, `import type`, `export … from`, `import x =
 * require()`, dynamic `import()` and `import('…')` type of every file.
 *
 * - A pure folder imports no file system, network, process, git, execa,
 *   octokit or Actions module and no effect folder (type-only imports count:
 *   pure folders get their types from model/), and uses no global that
 *   reaches outside (process, fetch).
 * - A file imports its own folder or a lower rank only; folders of equal
 *   rank do not import each other; load/ does not import schema/.
 * - The file-level import graph has no cycle.
 * - Every folder under src/ has a rank: a new folder is placed deliberately.
 *
 * Each violation is printed as `src/a/b.ts imports src/c/d.ts: <rule>`.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Lowest first; folders in one entry share a rank. `index` is src/index.ts. */
export const RANKS: readonly (readonly string[])[] = [
  ['model'], ['source'], ['schema'], ['load'], ['config'], ['check'], ['render'], ['revisions', 'ledger', 'ownership', 'packages'], ['plan'], ['site'], ['product'],
  ['files'], ['git'], ['store'], ['registry'], ['builder', 'github', 'hosted'], ['repository'], ['sync'], ['cli'], ['index'],
];

export const PURE = new Set(['model', 'source', 'schema', 'load', 'config', 'check', 'render', 'revisions', 'ledger', 'ownership', 'packages', 'plan', 'site', 'product']);

/** Downward imports that are still refused. */
export const REFUSED: readonly { from: string; to: string; why: string }[] = [
  { from: 'load', to: 'schema', why: 'load/ finds and reads spec files; schema checks belong to config/ and check/' },
];

/** Node modules that reach the file system, network, processes or the machine. */
const NODE_EFFECTS = ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'http2', 'tls', 'dns', 'dns/promises', 'dgram', 'os',
  'worker_threads', 'cluster', 'readline', 'readline/promises', 'process', 'module', 'inspector', 'inspector/promises'];
const EFFECT_PACKAGES = [/^execa$/, /^isomorphic-git(\/|$)/, /^@octokit\//, /^@actions\//];
const EFFECT_GLOBALS = new Set(['process', 'fetch', 'WebSocket', 'XMLHttpRequest', 'EventSource']);

export interface ImportRef { specifier: string; line: number; typeOnly: boolean }
export interface Violation { file: string; target: string; rule: string }
export type Tree = ReadonlyMap<string, string>;

/** Every module a file names: static, type-only, re-exports, `import =`, dynamic `import()`, `import('…')` types. */
export function importsOf(path: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: ImportRef[] = [];
  const add = (node: ts.Node, spec: ts.Expression | undefined, typeOnly: boolean) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    if (spec && ts.isStringLiteralLike(spec)) found.push({ specifier: spec.text, line, typeOnly });
    else found.push({ specifier: '<computed>', line, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!clause.namedBindings && ts.isNamedImports(clause.namedBindings)
        && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node, node.moduleSpecifier, node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword
      || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      add(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      add(node, ts.isLiteralTypeNode(arg) ? arg.literal as ts.Expression : undefined, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Uses of globals that reach outside (process.env, fetch()), not counting properties, keys or local names. */
export function effectGlobalsOf(path: string, text: string): { name: string; line: number }[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const declared = new Set<string>();
  const uses: { name: string; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isFunctionDeclaration(node) || ts.isImportSpecifier(node)) && node.name && ts.isIdentifier(node.name)) declared.add(node.name.text);
    if (ts.isIdentifier(node) && EFFECT_GLOBALS.has(node.text)) {
      const p = node.parent;
      const isName = (ts.isPropertyAccessExpression(p) && p.name === node) || (ts.isPropertyAssignment(p) && p.name === node)
        || (ts.isPropertySignature(p) && p.name === node) || (ts.isPropertyDeclaration(p) && p.name === node) || (ts.isMethodDeclaration(p) && p.name === node)
        || (ts.isQualifiedName(p) && p.right === node) || ts.isImportSpecifier(p) || ts.isExportSpecifier(p)
        || ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isFunctionDeclaration(p) || ts.isBindingElement(p)) && p.name === node);
      if (!isName) uses.push({ name: node.text, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses.filter((u) => !declared.has(u.name));
}

/** `src/x/y.ts` for a relative import inside the tree; a normalized path outside src/; the bare specifier otherwise. */
export function resolveImport(from: string, specifier: string, tree: Tree): string {
  if (!specifier.startsWith('.')) return specifier;
  const joined = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [joined, joined.replace(/\.(m|c)?js$/, '.$1ts'), `${joined}.ts`, posix.join(joined, 'index.ts')];
  return candidates.find((c) => tree.has(c)) ?? joined;
}

/** The folder a file of src/ belongs to: `index` for src/index.ts, the file's own name for any other file at the top. */
export function folderOf(path: string): string {
  const parts = path.split('/');
  if (parts.length === 2) return parts[1] === 'index.ts' ? 'index' : parts[1]!;
  return parts[1]!;
}

const rankOf = (folder: string): number | undefined => {
  const i = RANKS.findIndex((r) => r.includes(folder));
  return i < 0 ? undefined : i;
};

const isNodeEffect = (spec: string) => NODE_EFFECTS.includes(spec.replace(/^node:/, ''));
const isEffectPackage = (spec: string) => EFFECT_PACKAGES.some((re) => re.test(spec));

/** The import graph of the tree: file → files of the tree it imports (all kinds, type-only too). */
export function importGraph(tree: Tree): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [file, text] of tree) {
    const out = new Set<string>();
    for (const ref of importsOf(file, text)) {
      const target = resolveImport(file, ref.specifier, tree);
      if (tree.has(target)) out.add(target);
    }
    graph.set(file, out);
  }
  return graph;
}

/** Purity and rank rules, one violation per offending import. */
export function layerViolations(tree: Tree): Violation[] {
  const out: Violation[] = [];
  const unranked = new Set<string>();
  for (const file of tree.keys()) if (rankOf(folderOf(file)) === undefined) unranked.add(folderOf(file));
  for (const folder of [...unranked].sort()) {
    const at = [...tree.keys()].some((f) => f.split('/').length === 2 && folderOf(f) === folder) ? `src/${folder}` : `src/${folder}/`;
    out.push({ file: at, target: '(the rank table)', rule: `${at} has no rank: place it in RANKS in test/architecture.test.ts (and ARCHITECTURE.md)` });
  }
  for (const [file, text] of tree) {
    const folder = folderOf(file);
    const rank = rankOf(folder);
    const pure = PURE.has(folder);
    for (const ref of importsOf(file, text)) {
      const kind = ref.typeOnly ? 'a type-only import' : 'an import';
      if (ref.specifier === '<computed>') {
        if (pure) out.push({ file, target: '<computed>', rule: `line ${ref.line}: ${kind} whose module is not a string literal cannot be checked in the pure folder ${folder}/` });
        continue;
      }
      const target = resolveImport(file, ref.specifier, tree);
      if (!target.startsWith('src/')) {
        if (ref.specifier.startsWith('.')) {
          if (!tree.has(target) && !/\.json$/.test(target)) out.push({ file, target, rule: `line ${ref.line}: a relative import of a file outside src/ that is not data` });
          continue;
        }
        if (pure && isNodeEffect(target)) out.push({ file, target, rule: `line ${ref.line}: the pure folder ${folder}/ may not use ${target} (file system, network, processes or the machine); the data arrives as arguments` });
        else if (pure && isEffectPackage(target)) out.push({ file, target, rule: `line ${ref.line}: the pure folder ${folder}/ may not use ${target} (processes, git, GitHub); that belongs to an effect folder` });
        continue;
      }
      if (!tree.has(target)) {
        out.push({ file, target, rule: `line ${ref.line}: imports a file that does not exist` });
        continue;
      }
      const to = folderOf(target);
      if (to === folder) continue;
      const toRank = rankOf(to);
      if (rank === undefined || toRank === undefined) continue; // reported above
      const refused = REFUSED.find((r) => r.from === folder && r.to === to);
      if (pure && !PURE.has(to)) {
        out.push({ file, target, rule: `line ${ref.line}: the pure folder ${folder}/ may not import the effect folder ${to}/ (${kind}${ref.typeOnly ? '; take the type from model/' : ''})` });
      } else if (toRank > rank) {
        out.push({ file, target, rule: `line ${ref.line}: ${folder}/ (rank ${rank}) may not import ${to}/ (rank ${toRank}), which stands above it (${kind})` });
      } else if (toRank === rank) {
        out.push({ file, target, rule: `line ${ref.line}: ${folder}/ and ${to}/ share rank ${rank} and may not import each other (${kind})` });
      } else if (refused) {
        out.push({ file, target, rule: `line ${ref.line}: ${folder}/ may not import ${to}/: ${refused.why} (${kind})` });
      }
    }
    if (pure) {
      for (const use of effectGlobalsOf(file, text)) {
        out.push({ file, target: `the global ${use.name}`, rule: `line ${use.line}: the pure folder ${folder}/ may not use the global ${use.name}; the data arrives as arguments` });
      }
    }
  }
  return out;
}

/** Every strongly connected set of files with an import cycle, each as one cycle through it (first file repeated at the end). */
export function findCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  // Tarjan's algorithm; recursion is deep enough for a few hundred files.
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const components: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of [...(graph.get(v) ?? [])].sort()) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); c.push(w); } while (w !== v);
      if (c.length > 1 || graph.get(v)?.has(v)) components.push(c);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strong(v);
  return components.map((c) => {
    const members = new Set(c);
    const start = [...c].sort()[0]!;
    // The shortest way back to start inside the component (breadth first).
    const prev = new Map<string, string>();
    const queue = [start];
    while (queue.length) {
      const v = queue.shift()!;
      for (const w of [...(graph.get(v) ?? [])].sort()) {
        if (!members.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
          return [...path, start];
        }
        if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
      }
    }
    return [start, start];
  }).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

export function cycleViolations(tree: Tree): Violation[] {
  return findCycles(importGraph(tree)).flatMap((cycle) => cycle.slice(0, -1).map((file, i) => ({
    file, target: cycle[i + 1]!, rule: `import cycle ${cycle.join(' → ')}`,
  })));
}

export function violations(tree: Tree): Violation[] {
  return [...layerViolations(tree), ...cycleViolations(tree)];
}

export const formatViolation = (v: Violation): string => (v.target === '(the rank table)' ? v.rule : `${v.file} imports ${v.target}: ${v.rule}`);

/** The packages a file needs at run time: bare imports that are not type-only and not node's own, by package name. */
export function runtimePackagesOf(path: string, text: string): string[] {
  return importsOf(path, text)
    .filter((r) => !r.typeOnly && r.specifier !== '<computed>' && !r.specifier.startsWith('.') && !r.specifier.startsWith('node:') && !isBuiltin(r.specifier))
    .map((r) => (r.specifier.startsWith('@') ? r.specifier.split('/').slice(0, 2).join('/') : r.specifier.split('/')[0]!));
}

/** src/**\/*.ts of the repository, as paths relative to its root. */
function sourceTree(root: string): Map<string, string> {
  const tree = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(m|c)?ts$/.test(entry.name)) tree.set(path, readFileSync(join(root, path), 'utf8'));
    }
  };
  walk('src');
  return tree;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('architecture: purity and layers of src/', () => {
  describe('the checker, on a small made-up tree', () => {
    const fake = new Map(Object.entries({
      'src/model/a.ts': "import { b } from '../render/b.js';\nexport const a = 1;\n",
      'src/render/b.ts': "import type { A } from '../model/a.js';\nimport { readFile } from 'node:fs/promises';\nexport const b = 2;\n",
      'src/load/c.ts': "export * from '../schema/d.js';\n",
      'src/schema/d.ts': "export const d = async () => (await import('../git/e.js')).e;\n",
      'src/git/e.ts': "import { execa } from 'execa';\nimport * as fs from 'fs';\nexport const e = 1;\n",
      'src/ledger/f.ts': "import '../ownership/g.js';\n",
      'src/ownership/g.ts': "// import { x } from '../cli/x.js' in a comment is no import\nexport const s = \"import { y } from '../cli/y.js'\";\n",
      'src/site/h.ts': "export type Client = import('@octokit/rest').Octokit;\nexport const env = () => process.env.HOME;\n",
      'src/plan/i.ts': "import type { Registry } from '../registry/j.js';\nexport { type X } from '../cli/k.js';\n",
      'src/registry/j.ts': "import { y } from '../plan/i.js';\n",
      'src/cli/k.ts': "import { a } from '../model/a.js';\nimport { missing } from '../model/gone.js';\n",
      'src/newthing/x.ts': "export const x = 1;\n",
    }));

    it('reads every kind of import and nothing in comments or strings', () => {
      expect(importsOf('x.ts', [
        "import a from 'a';", "import type { B } from 'b';", "import { type C } from 'c';", "import { type D, e } from 'd';", "import 'side';",
        "export * from 'star';", "export * as ns from 'ns';", "export { f } from 'f';", "export type { G } from 'g';",
        "import h = require('h');", "const i = await import('i');", "let j: typeof import('j');", "const k = require('k');",
        "// import l from 'l';", "const s = \"import m from 'm'\";", 'const t = `export * from "n"`;', 'const u = await import(name);',
      ].join('\n')).map((r) => `${r.specifier}${r.typeOnly ? ' (type)' : ''}`)).to.deep.equal([
        'a', 'b (type)', 'c (type)', 'd', 'side', 'star', 'ns', 'f', 'g (type)', 'h', 'i', 'j (type)', 'k', '<computed>',
      ]);
    });

    it('names the packages a file needs at run time (not types, not node\'s own)', () => {
      expect(runtimePackagesOf('x.ts', "import a from 'execa';\nimport type { B } from 'dev-only';\nimport { c } from '@octokit/rest/sub';\nimport 'fs';\nimport { d } from 'node:path';\nexport * from './e.js';\nconst f = await import('js-yaml');\n"))
        .to.deep.equal(['execa', '@octokit/rest', 'js-yaml']);
    });

    it('reports each known violation, and only those', () => {
      expect(layerViolations(fake).map(formatViolation)).to.deep.equal([
        'src/newthing/ has no rank: place it in RANKS in test/architecture.test.ts (and ARCHITECTURE.md)',
        'src/model/a.ts imports src/render/b.ts: line 1: model/ (rank 0) may not import render/ (rank 6), which stands above it (an import)',
        'src/render/b.ts imports node:fs/promises: line 2: the pure folder render/ may not use node:fs/promises (file system, network, processes or the machine); the data arrives as arguments',
        'src/load/c.ts imports src/schema/d.ts: line 1: load/ may not import schema/: load/ finds and reads spec files; schema checks belong to config/ and check/ (an import)',
        'src/schema/d.ts imports src/git/e.ts: line 1: the pure folder schema/ may not import the effect folder git/ (an import)',
        'src/ledger/f.ts imports src/ownership/g.ts: line 1: ledger/ and ownership/ share rank 7 and may not import each other (an import)',
        'src/site/h.ts imports @octokit/rest: line 1: the pure folder site/ may not use @octokit/rest (processes, git, GitHub); that belongs to an effect folder',
        'src/site/h.ts imports the global process: line 2: the pure folder site/ may not use the global process; the data arrives as arguments',
        'src/plan/i.ts imports src/registry/j.ts: line 1: the pure folder plan/ may not import the effect folder registry/ (a type-only import; take the type from model/)',
        'src/plan/i.ts imports src/cli/k.ts: line 2: the pure folder plan/ may not import the effect folder cli/ (a type-only import; take the type from model/)',
        'src/cli/k.ts imports src/model/gone.js: line 2: imports a file that does not exist',
      ]);
    });

    it('finds the import cycles, type-only imports included, and names their files', () => {
      expect(cycleViolations(fake).map(formatViolation)).to.deep.equal([
        'src/model/a.ts imports src/render/b.ts: import cycle src/model/a.ts → src/render/b.ts → src/model/a.ts',
        'src/render/b.ts imports src/model/a.ts: import cycle src/model/a.ts → src/render/b.ts → src/model/a.ts',
        'src/plan/i.ts imports src/registry/j.ts: import cycle src/plan/i.ts → src/registry/j.ts → src/plan/i.ts',
        'src/registry/j.ts imports src/plan/i.ts: import cycle src/plan/i.ts → src/registry/j.ts → src/plan/i.ts',
      ]);
      expect(findCycles(new Map([['a', new Set(['a'])], ['b', new Set(['c'])], ['c', new Set<string>()]]))).to.deep.equal([['a', 'a']]);
    });
  });

  describe('src/ as it stands', () => {
    const tree = sourceTree(ROOT);

    it('is read: every folder of src/ has files, and the parser finds their imports', () => {
      const folders = new Set([...tree.keys()].map(folderOf));
      expect([...folders]).to.include.members(['model', 'cli', 'index']);
      expect(importsOf('src/cli/main.ts', tree.get('src/cli/main.ts')!).length).to.be.greaterThan(5);
      const edges = [...importGraph(tree).values()].reduce((n, s) => n + s.size, 0);
      expect(edges, 'imports between files of src/').to.be.greaterThan(tree.size);
    });

    it('every folder has a rank, and pure folders and ranks are kept', () => {
      const found = layerViolations(tree).map(formatViolation);
      expect(found, `\n${found.join('\n')}\n`).to.deep.equal([]);
    });

    it('imports at run time only packages package.json lists under dependencies (not devDependencies)', () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      const found: string[] = [];
      for (const [file, text] of tree) {
        for (const name of new Set(runtimePackagesOf(file, text))) {
          if (pkg.dependencies?.[name]) continue;
          found.push(`${file} imports ${name}: ${pkg.devDependencies?.[name] ? 'a devDependency, missing once installed with --omit=dev' : 'not in package.json'}; list it under dependencies`);
        }
      }
      expect(found, `\n${found.join('\n')}\n`).to.deep.equal([]);
    });

    it('product/ (import\'s mapping) is pure and imports no I/O; hosted/ (the product\'s API) is the effect below the use case', () => {
      expect(PURE.has('product') && !PURE.has('hosted')).to.equal(true);
      const files = [...tree.keys()].filter((f) => folderOf(f) === 'product');
      expect(files.length, 'src/product/ has files').to.be.greaterThan(2);
      const io = files.flatMap((f) => importsOf(f, tree.get(f)!).map((r) => ({ f, target: resolveImport(f, r.specifier, tree) })))
        .filter(({ target }) => isNodeEffect(target) || isEffectPackage(target) || (target.startsWith('src/') && !PURE.has(folderOf(target))))
        .map(({ f, target }) => `${f} imports ${target}`);
      expect(io).to.deep.equal([]);
      expect(files.flatMap((f) => effectGlobalsOf(f, tree.get(f)!))).to.deep.equal([]);
      expect(rankOf('hosted')).to.be.lessThan(rankOf('repository')!);
    });

    it('has no import cycle', () => {
      const found = cycleViolations(tree).map(formatViolation);
      expect(found, `\n${found.join('\n')}\n`).to.deep.equal([]);
    });
  });
});
