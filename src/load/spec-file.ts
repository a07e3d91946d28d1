/** One spec file (an environment's, a project's) → its text, parsed YAML with positions, and the problems found on the way. */
import { problem, type Problem } from '../model/problem.js';
import type { SourceFile } from '../model/tree.js';
import { LineIndex } from '../source/lines.js';
import { decodeSpec } from '../source/text.js';
import { parseYaml, type PositionLookup } from '../source/yaml.js';

/** Names of environments, projects, models and data sets. */
export const NAME_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export interface ParsedSpecFile {
  text: string;
  /** Parsed YAML; undefined when the file could not be parsed. */
  data: unknown;
  positions: PositionLookup;
  lines: LineIndex;
}

/** `empty`: the rule and message for a file with nothing in it. */
export function parseSpecFile(file: SourceFile, empty: { rule: string; message: string }): ParsedSpecFile & { problems: Problem[] } {
  const decoded = decodeSpec(file.bytes, file.path);
  if (decoded.text === undefined) return { text: '', data: undefined, positions: new Map(), lines: new LineIndex(''), problems: decoded.problems };
  const parsed = parseYaml(decoded.text, file.path);
  const problems = [...parsed.problems];
  if (parsed.problems.length === 0 && (parsed.value === null || parsed.value === undefined)) {
    problems.push(problem({ file: file.path, line: 1, col: 1 }, 'error', empty.rule, empty.message));
  }
  // A duplicate key is reported but the value is still usable; any other YAML error leaves no value.
  const data = parsed.problems.some((p) => p.severity === 'error' && p.rule !== 'yaml-duplicate-key') ? undefined : parsed.value;
  return { text: decoded.text, data, positions: parsed.positions, lines: parsed.lines, problems };
}

export interface FoundSpec {
  name: string;
  file: SourceFile;
  /** The folder, when the spec is `<dir>/<name>/<specFile>`. */
  folder?: string;
  /** Every file in that folder, the spec included. */
  folderFiles: SourceFile[];
}

export interface SpecLayout {
  /** The folder searched, e.g. `environments`. */
  dir: string;
  /** The spec file inside a folder, e.g. `environment.yaml`. */
  specFile: string;
  /** What one is called in messages, with its article: `an environment`, `a project`. */
  noun: string;
  /** Rule ids for a wrong file name or folder, a bad name, a name defined twice. */
  rules: { file: string; name: string; duplicate: string };
  /** Folders seen (for a folder with no files read, so a missing spec is still reported). */
  folders?: string[];
}

/**
 * The specs under one folder: `<dir>/<name>.yaml`, or `<dir>/<name>/<specFile>`
 * with the folder's files. Problems for `.yml` files, folders without a
 * spec, bad names and a name defined twice. Sorted by name.
 */
export function findSpecs(files: SourceFile[], layout: SpecLayout): { specs: FoundSpec[]; problems: Problem[] } {
  const { dir, specFile, rules } = layout;
  const word = layout.noun.replace(/^an? /, '');
  const prefix = `${dir}/`;
  const problems: Problem[] = [];
  const specs = new Map<string, FoundSpec>();
  const folders = new Map<string, SourceFile[]>();
  for (const f of layout.folders ?? []) {
    if (f.startsWith(prefix) && !f.slice(prefix.length).includes('/')) folders.set(f.slice(prefix.length), []);
  }
  const at = (path: string) => ({ file: path, line: 1, col: 1 });
  const add = (name: string, file: SourceFile, folder?: string) => {
    if (!NAME_PATTERN.test(name)) {
      problems.push(problem(at(file.path), 'error', rules.name, `${word} name "${name}" must use lowercase letters, digits and single dashes`));
      return;
    }
    const other = specs.get(name);
    if (other) {
      problems.push(problem(at(file.path), 'error', rules.duplicate, `${word} "${name}" is defined twice: here and in ${other.file.path}`));
      return;
    }
    specs.set(name, { name, file, ...(folder ? { folder } : {}), folderFiles: folder ? folders.get(name) ?? [] : [] });
  };

  for (const f of files) {
    if (!f.path.startsWith(prefix)) continue;
    const parts = f.path.slice(prefix.length).split('/');
    if (parts.length > 1) {
      const list = folders.get(parts[0]!);
      if (list) list.push(f);
      else folders.set(parts[0]!, [f]);
      continue;
    }
    const base = parts[0]!;
    if (!/\.ya?ml$/.test(base)) continue; // READMEs and the like
    const name = base.replace(/\.ya?ml$/, '');
    if (base.endsWith('.yml')) problems.push(problem(at(f.path), 'error', rules.file, `${word} files end in .yaml; rename to ${dir}/${name}.yaml`));
    else add(name, f);
  }
  for (const [name, inFolder] of folders) {
    const spec = inFolder.find((f) => f.path === `${prefix}${name}/${specFile}`);
    if (spec) add(name, spec, `${prefix}${name}`);
    else problems.push(problem(at(inFolder[0]?.path ?? `${prefix}${name}`), 'warning', rules.file, `folder ${prefix}${name}/ has no ${specFile}, so it is not ${layout.noun}`));
  }
  return { specs: [...specs.values()].sort((a, b) => (a.name < b.name ? -1 : 1)), problems };
}
