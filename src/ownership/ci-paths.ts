/**
 * The repository paths that CI runs or reads, as named by package.json's
 * scripts (`npm ci` runs `prepare`, the Action runs npm) and by workflow and
 * action files (`run:` scripts, `uses: ./…`, `working-directory`). Pure: the
 * file texts arrive as arguments. CODEOWNERS gives what it finds back to the
 * administrators when an owner's rule would otherwise cover it.
 *
 * This reads shell text by approximation, not by running a shell: a word is
 * taken as a path when it could be one. Over-reading costs nothing (the
 * generator keeps only paths inside some owner's files; the rest are the
 * administrators' by the catch-all already); a variable in a path becomes a
 * `*`, so `projects/$NAME/run.sh` covers every project's run.sh.
 */
import { parseYaml } from '../source/yaml.js';

export interface CiPath {
  /** Relative to the repository root, `/`-separated, no `.` or `..`; `*` and `?` are wildcards (CODEOWNERS syntax). */
  path: string;
  /** The file that names it. */
  from: string;
}

export interface CiFile {
  path: string;
  text: string;
}

/** Words longer than this are not paths anyone writes; skipping them bounds the work on hostile input. */
const MAX_WORD = 512;
const MAX_SEGMENTS = 32;

/** package.json's scripts: every one may run (`prepare` on `npm ci`, hooks around others). */
export function packageScriptPaths(file: CiFile): CiPath[] {
  let data: unknown;
  try {
    data = JSON.parse(file.text);
  } catch {
    return [];
  }
  const scripts = isRecord(data) ? data.scripts : undefined;
  if (!isRecord(scripts)) return [];
  const out: CiPath[] = [];
  for (const script of Object.values(scripts)) if (typeof script === 'string') out.push(...shellPaths(script, '', file.path));
  return out;
}

/**
 * A workflow (`.github/workflows/*.yml`) or an action (`action.yml`, its
 * composite `runs.steps`, a JavaScript action's `main`/`pre`/`post`).
 * `actionDir` is the action's folder ('' for the repository root).
 */
export function workflowPaths(file: CiFile, actionDir?: string): CiPath[] {
  const parsed = parseYaml(file.text, file.path);
  if (parsed.problems.some((p) => p.severity === 'error') || !isRecord(parsed.value)) return [];
  const doc = parsed.value;
  const out: CiPath[] = [];
  const add = (path: string | undefined) => {
    if (path !== undefined) out.push({ path, from: file.path });
  };
  const rootDefault = defaultDir(doc);
  const steps = (list: unknown, dir: string) => {
    if (!Array.isArray(list)) return;
    for (const step of list) {
      if (!isRecord(step)) continue;
      // A step's working-directory replaces the default; both are relative to the workspace.
      const wd = typeof step['working-directory'] === 'string' ? step['working-directory'] : dir;
      if (typeof step['working-directory'] === 'string') add(cleanPath(wd));
      if (typeof step.uses === 'string') add(localUses(step.uses));
      if (typeof step.run === 'string') out.push(...shellPaths(step.run, wd, file.path, actionDir));
    }
  };
  if (isRecord(doc.jobs)) {
    for (const job of Object.values(doc.jobs)) {
      if (!isRecord(job)) continue;
      const dir = defaultDir(job) ?? rootDefault ?? '';
      if (defaultDir(job) !== undefined) add(cleanPath(dir));
      if (typeof job.uses === 'string') add(localUses(job.uses));
      steps(job.steps, dir);
    }
  }
  if (rootDefault !== undefined) add(cleanPath(rootDefault));
  if (actionDir !== undefined && isRecord(doc.runs)) {
    steps(doc.runs.steps, actionDir);
    for (const key of ['main', 'pre', 'post']) {
      const entry = doc.runs[key];
      if (typeof entry === 'string') add(cleanPath(join(actionDir, entry)));
    }
  }
  return out;
}

function defaultDir(node: Record<string, unknown>): string | undefined {
  const defaults = node.defaults;
  const run = isRecord(defaults) ? defaults.run : undefined;
  const wd = isRecord(run) ? run['working-directory'] : undefined;
  return typeof wd === 'string' ? wd : undefined;
}

/** `uses: ./path` (an action or reusable workflow in this repository); `owner/repo@ref` is not ours. */
function localUses(uses: string): string | undefined {
  if (!uses.startsWith('./')) return undefined;
  // `./` alone is the root action: the fixed rules and the catch-all own it already.
  return cleanPath(uses.replace(/@.*$/, ''));
}

/** The words of a shell script that could be repository paths, resolved against the step's folder. */
export function shellPaths(script: string, dir: string, from: string, actionDir?: string): CiPath[] {
  const out: CiPath[] = [];
  // Expressions hold blanks (`${{ matrix.name }}`): give them one-word names before splitting.
  const text = script
    .replace(/\$\{\{\s*github\.workspace\s*\}\}/g, '$GITHUB_WORKSPACE')
    .replace(/\$\{\{\s*github\.action_path\s*\}\}/g, '$GITHUB_ACTION_PATH')
    .replace(/\$\{\{[^}]*\}\}/g, '$EXPRESSION');
  for (const raw of shellWords(text)) {
    const word = substitute(raw, actionDir);
    if (word === undefined) continue;
    const path = cleanPath(word.startsWith(ROOT_MARK) ? word.slice(ROOT_MARK.length) : join(dir, word));
    if (path !== undefined) out.push({ path, from });
  }
  return out;
}

const ROOT_MARK = '\u0000root/';

/**
 * Variables become `*`; the workspace and the action's folder become the
 * repository root. Undefined for words that are no repository path.
 */
function substitute(word: string, actionDir: string | undefined): string | undefined {
  if (word.length === 0 || word.length > MAX_WORD || word.startsWith('-') || word.includes('://') || word.startsWith('~')) return undefined;
  let w = word.replace(/^(\$\{GITHUB_WORKSPACE\}|\$GITHUB_WORKSPACE)\//, ROOT_MARK);
  if (actionDir !== undefined) {
    w = w.replace(/^(\$\{GITHUB_ACTION_PATH\}|\$GITHUB_ACTION_PATH)\//, `${ROOT_MARK}${actionDir === '' ? '' : `${actionDir}/`}`);
  }
  w = w.replace(/\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$[0-9@*#?$!-]/g, '*');
  // CODEOWNERS has no character ranges: one character, any.
  w = w.replace(/\[[^\]/]*\]/g, '?');
  if (w.startsWith('/')) return undefined; // absolute: outside the repository
  return w;
}

/** `a/./b/` → `a/b`; undefined for `..` escapes, the root itself, control characters or a first segment that is all wildcard. */
function cleanPath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return undefined;
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (segments.length === 0) return undefined;
      segments.pop();
      continue;
    }
    segments.push(s);
  }
  if (segments.length === 0 || segments.length > MAX_SEGMENTS) return undefined;
  // `*/x` or `$HOME/x` could be anywhere (usually outside the repository); a wildcard first segment is not taken.
  if (/[*?]/.test(segments[0]!)) return undefined;
  return segments.join('/');
}

function join(dir: string, path: string): string {
  if (path.startsWith(ROOT_MARK)) return path;
  return dir === '' ? path : `${dir}/${path}`;
}

/**
 * Shell words: quotes removed, backslash escapes honoured, split at blanks,
 * operators and `=` (so `--out=dir` yields `dir`). `$(`…`)` and backquotes
 * split too: what they run is words like any other.
 */
export function shellWords(script: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | undefined;
  const end = () => {
    if (word !== '') words.push(word);
    word = '';
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < script.length) word += script[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '\\' && i + 1 < script.length) {
      const next = script[++i]!;
      if (next !== '\n') word += next;
    } else if (c === '#' && word === '') {
      while (i + 1 < script.length && script[i + 1] !== '\n') i++;
    } else if (/[\s;&|()<>`=]/.test(c)) {
      end();
    } else {
      word += c;
    }
  }
  end();
  return words;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
