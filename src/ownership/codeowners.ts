/**
 * `.github/CODEOWNERS` from environment and consumer owners and envctl.yaml's
 * administrators. Pure: the use case gathers the plain data and writes the text.
 *
 * GitHub applies the LAST matching pattern ("the last matching pattern takes
 * the most precedence", GitHub's "About code owners"), so the file is three
 * blocks in this order:
 *   1. `*` for the administrators: whatever no later rule names is theirs
 *      (a new top-level folder, a file nobody thought of);
 *   2. one rule per environment, then per project, model and data set, for
 *      its owner (environment patterns never overlap each other: a file
 *      `/environments/a.yaml`, a folder `/environments/a/`);
 *   3. everything that decides what CI builds and runs, for the
 *      administrators again, so no owner rule above can take any of it: the
 *      fixed list below, and each path that package.json's scripts or a
 *      workflow or action names (ci-paths.ts) inside some owner's files.
 * Without administrators blocks 1 and 3 are left out (there is nobody to give
 * them to) and the file says so.
 */
import { allowedBy } from '../check/policy.js';
import type { ConsumerKind } from '../model/project.js';
import type { CiPath } from './ci-paths.js';
import { sharedContextRules } from './shared-context.js';

export const CODEOWNERS_FILE = '.github/CODEOWNERS';

/** Block 1: every path, until a later rule says otherwise. */
export const CATCH_ALL = '*';

/**
 * Block 3: the files that decide what CI builds and runs, whether or not
 * this repository has them yet (a file added later must not fall to an
 * owner rule either). `npm ci` compiles with tsconfig.json and runs the
 * `prepare` script; every Action step runs that code; GitHub reads
 * CODEOWNERS from the root and docs/ as well as .github/.
 */
export const ADMINISTRATOR_PATTERNS = [
  '/envctl.yaml', '/CODEOWNERS', '/docs/CODEOWNERS', '/.github/',
  '/package.json', '/package-lock.json', '/tsconfig*.json', '/.npmrc', '/.mocharc*', '/.nvmrc', '/.node-version', '/.gitmodules',
  '/action.yml', '/action.yaml', '/.ci/', '/bin/', '/src/', '/test/', '/bench/', '/scripts/', '/schemas/',
];

export interface OwnedEnvironment {
  name: string;
  /** Its YAML file (`environments/a.yaml`) or its folder (`environments/a`), relative to the repository root. */
  path: string;
  /** True when `path` is the environment's folder (the rule then covers its context files too). */
  folder?: boolean;
  /** As written in the spec; undefined or unusable values skip the environment. */
  owner: string | undefined;
  visibility?: string | undefined;
  /** Shared build-context folders it names (`context:`), repository paths. */
  context?: string[];
}

/** A project, model or data set: its spec file, or its folder with everything in it. */
export interface OwnedConsumer {
  kind: ConsumerKind;
  name: string;
  path: string;
  folder?: boolean;
  owner: string | undefined;
}

export interface CodeownersInput {
  environmentsDir: string;
  administrators: string[];
  /** policy.administratorFields: environment-name patterns with `*`. */
  administratorFields: string[];
  environments: OwnedEnvironment[];
  consumers?: OwnedConsumer[];
  /** Paths CI runs or reads (ci-paths.ts); those inside an owner's files go back to the administrators. */
  ciPaths?: CiPath[];
}

export interface CodeownersRule {
  pattern: string;
  owners: string[];
  /** The environment the rule is for. */
  environment?: string;
  /** The consumer the rule is for, as `project/churn`. */
  consumer?: string;
  /** Why administrators are among the owners of an environment. */
  administrators?: 'global' | 'administratorFields';
  /** For a path CI names: the files naming it. */
  namedBy?: string[];
  /** For a shared build-context folder: the environments naming it. */
  sharedBy?: string[];
}

export interface SkippedEnvironment {
  kind: 'environment' | ConsumerKind;
  /** The environment's name, or `project/churn` for a consumer. */
  name: string;
  path: string;
  reason: string;
}

export interface Codeowners {
  /** The whole file, ending in a newline. */
  text: string;
  rules: CodeownersRule[];
  skipped: SkippedEnvironment[];
  /** Administrators in envctl.yaml that are not usable handles (left out). */
  warnings: string[];
  /** False when no usable administrator is configured: no administrator rules at all. */
  administratorRules: boolean;
}

/** A GitHub login or org/team, with or without its `@` (the environment schema's owner pattern). */
const HANDLE = /^@?[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
/** A plain email address; CODEOWNERS accepts those for users with a verified address. */
const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/**
 * The CODEOWNERS spelling of an owner: `alice` → `@alice`, `@acme/team` and
 * `jo@example.com` as they are. Undefined for anything else (whitespace, a
 * `#`, a line break would change what the line means).
 */
export function normalizeOwner(raw: string): string | undefined {
  const s = raw.trim();
  if (EMAIL.test(s)) return s;
  if (HANDLE.test(s)) return s.startsWith('@') ? s : `@${s}`;
  return undefined;
}

/**
 * A repository path as a CODEOWNERS pattern anchored at the root. Gitignore
 * syntax: a backslash makes the next character literal, so spaces (which
 * separate the owners), `#`, `\` and the wildcard characters are escaped.
 * Control characters cannot be written at all: undefined.
 */
export function escapePattern(path: string): string | undefined {
  const literal = escapeLiteral(path.replace(/^\/+/, ''));
  return path === '' || literal === undefined ? undefined : `/${literal}`;
}

/** Path characters with gitignore's meaning escaped; undefined for control characters. */
function escapeLiteral(text: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) return undefined;
  return text.replace(/[ \t\\#*?[\]!]/g, '\\$&');
}

/** Handles compared as GitHub does: case-insensitively. The first spelling is kept. */
function dedupe(handles: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const h of handles) {
    const key = h.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(h);
  }
  return out;
}

export function generateCodeowners(input: CodeownersInput): Codeowners {
  const warnings: string[] = [];
  const admins: string[] = [];
  for (const a of input.administrators) {
    const h = normalizeOwner(a);
    if (h === undefined) warnings.push(`administrator ${JSON.stringify(a)} in envctl.yaml is not a GitHub login, @org/team or email address; left out`);
    else admins.push(h);
  }
  const administrators = dedupe(admins);
  const adminRules = administrators.length > 0;
  const skipped: SkippedEnvironment[] = [];

  const envRules = environmentRules(input, administrators, skipped);
  const sharedRules = sharedContextRules(input.environments.filter((e) => (e.context ?? []).length > 0)
    .map((e) => ({ name: e.name, context: e.context!, rule: envRules.find((r) => r.environment === e.name) })), escapePattern, dedupe);
  const consumerRules = consumerRulesOf(input.consumers ?? [], skipped);
  const ownerRules = [...envRules, ...sharedRules, ...consumerRules];
  const ciRules = adminRules ? ciPathRules(input.ciPaths ?? [], ownerRules, administrators) : [];
  const fixed = adminRules ? ADMINISTRATOR_PATTERNS.map((pattern) => ({ pattern, owners: administrators })) : [];
  const catchAll = adminRules ? [{ pattern: CATCH_ALL, owners: administrators }] : [];
  const rules: CodeownersRule[] = [...catchAll, ...ownerRules, ...fixed, ...ciRules];
  return { text: render(input, { catchAll, envRules, sharedRules, consumerRules, fixed, ciRules }), rules, skipped, warnings, administratorRules: adminRules };
}

function environmentRules(input: CodeownersInput, administrators: string[], skipped: SkippedEnvironment[]): CodeownersRule[] {
  const adminRules = administrators.length > 0;
  const out: CodeownersRule[] = [];
  for (const env of byName(input.environments)) {
    const owned = ownerPattern(env, 'environment', env.name, skipped);
    if (owned === undefined) continue;
    const why = env.visibility === 'global' ? 'global' as const
      : allowedBy(input.administratorFields, env.name) ? 'administratorFields' as const : undefined;
    out.push({
      pattern: owned.pattern,
      owners: dedupe([owned.owner, ...(why && adminRules ? administrators : [])]),
      environment: env.name,
      ...(why && adminRules ? { administrators: why } : {}),
    });
  }
  return out;
}

const KIND_ORDER: ConsumerKind[] = ['project', 'model', 'dataset'];

function consumerRulesOf(consumers: OwnedConsumer[], skipped: SkippedEnvironment[]): CodeownersRule[] {
  const out: CodeownersRule[] = [];
  for (const kind of KIND_ORDER) {
    for (const c of byName(consumers.filter((x) => x.kind === kind))) {
      const key = `${c.kind}/${c.name}`;
      const owned = ownerPattern(c, c.kind, key, skipped);
      if (owned !== undefined) out.push({ pattern: owned.pattern, owners: [owned.owner], consumer: key });
    }
  }
  return out;
}

/** The owner's handle and the entry's pattern, or a skip saying why not. */
function ownerPattern(entry: { path: string; folder?: boolean; owner: string | undefined }, kind: SkippedEnvironment['kind'], name: string, skipped: SkippedEnvironment[]) {
  const skip = (reason: string) => {
    skipped.push({ kind, name, path: entry.path, reason });
    return undefined;
  };
  const owner = typeof entry.owner === 'string' ? normalizeOwner(entry.owner) : undefined;
  if (owner === undefined) return skip(entry.owner === undefined ? 'no owner' : `owner ${JSON.stringify(entry.owner)} is not a GitHub login, @org/team or email address`);
  const escaped = escapePattern(entry.path.replace(/\/+$/, ''));
  if (escaped === undefined) return skip(`path ${JSON.stringify(entry.path)} cannot be written as a CODEOWNERS pattern`);
  return { owner, pattern: entry.folder ? `${escaped}/` : escaped };
}

function byName<T extends { name: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The paths CI names that an owner rule would otherwise decide: inside an
 * owner's folder or file, or a wildcard reaching into one. A plain folder
 * that merely holds owners' files (`environments`, `projects`: envctl reads
 * them as data under its own checks) is left to the owners; naming it
 * wholesale would hand every environment to the administrators.
 */
function ciPathRules(ciPaths: CiPath[], ownerRules: CodeownersRule[], administrators: string[]): CodeownersRule[] {
  const scopes = ownerRules.map((r) => segmentsOf(r.pattern));
  const byPattern = new Map<string, Set<string>>();
  for (const ci of ciPaths) {
    const pattern = ciPattern(ci.path);
    if (pattern === undefined || ADMINISTRATOR_PATTERNS.includes(pattern)) continue;
    const segments = ci.path.split('/');
    const firstWild = segments.findIndex((s) => /[*?]/.test(s));
    const literal = firstWild < 0 ? segments : segments.slice(0, firstWild);
    const reaches = scopes.some((scope) => {
      if (startsWith(literal, scope)) return true; // inside an owner's files
      return firstWild >= 0 && startsWith(scope, literal); // a wildcard below a folder holding them
    });
    if (!reaches) continue;
    const from = byPattern.get(pattern) ?? new Set<string>();
    from.add(ci.from);
    byPattern.set(pattern, from);
  }
  return [...byPattern.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([pattern, from]) => ({ pattern, owners: administrators, namedBy: [...from].sort() }));
}

/** A pattern's path segments with escapes undone (only the generator's own anchored patterns come here). */
function segmentsOf(pattern: string): string[] {
  return pattern.replace(/\\(.)/g, '$1').replace(/^\/|\/$/g, '').split('/');
}

function startsWith(path: string[], prefix: string[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => s === path[i]);
}

/**
 * A CI path as an anchored pattern: literal characters escaped as in
 * escapePattern, `*` and `?` kept as wildcards. Without a trailing `/` a
 * pattern matches a file or a folder with everything in it.
 */
function ciPattern(path: string): string | undefined {
  const parts = path.split(/([*?]+)/);
  let out = '';
  for (const [i, part] of parts.entries()) {
    if (i % 2 === 1) out += part;
    else {
      const escaped = escapeLiteral(part);
      if (escaped === undefined) return undefined;
      out += escaped;
    }
  }
  return `/${out}`;
}

interface Blocks {
  catchAll: CodeownersRule[];
  envRules: CodeownersRule[];
  sharedRules: CodeownersRule[];
  consumerRules: CodeownersRule[];
  fixed: CodeownersRule[];
  ciRules: CodeownersRule[];
}

function render(input: CodeownersInput, blocks: Blocks): string {
  const adminRules = blocks.catchAll.length > 0;
  // envctl.yaml's schema keeps the folder to path characters; a comment must stay one line regardless.
  // eslint-disable-next-line no-control-regex
  const dir = input.environmentsDir.replace(/[\u0000-\u001f\u007f]/g, ' ');
  const line = (r: CodeownersRule) => `${r.pattern} ${r.owners.join(' ')}`;
  const lines = [
    '# Generated by `envctl codeowners` from envctl.yaml (administrators,',
    '# policy.administratorFields), each environment\'s owner and visibility, each',
    '# project\'s, model\'s and data set\'s owner, and the paths CI runs.',
    '# Do not edit by hand: change those files and run `envctl codeowners`;',
    '# `envctl codeowners --check` fails while this file is out of date.',
    '# The last matching pattern wins.',
    '',
  ];
  if (adminRules) {
    lines.push('# Everything no later rule names: administrators.');
    lines.push(...blocks.catchAll.map(line));
  } else {
    lines.push('# No administrators in envctl.yaml: administrator rules are off (envctl.yaml,');
    lines.push('# .github/, the code CI runs and global or policy.administratorFields');
    lines.push('# environments get no administrator review). List them under');
    lines.push('# `administrators` to turn them on.');
  }
  lines.push('');
  lines.push(`# Environments in ${dir}/, one rule each, in name order: the owner${adminRules ? ',' : '.'}`);
  if (adminRules) lines.push('# plus administrators for global environments and those policy.administratorFields names.');
  if (blocks.envRules.length === 0) lines.push('# (none with an owner)');
  lines.push(...blocks.envRules.map(line));
  if (blocks.sharedRules.length > 0) {
    lines.push('');
    lines.push('# Shared build-context folders: the owners of every environment naming one (a change rebuilds each).');
    lines.push(...blocks.sharedRules.map(line));
  }
  if (blocks.consumerRules.length > 0) {
    lines.push('');
    lines.push('# Projects, models and data sets: the owner.');
    lines.push(...blocks.consumerRules.map(line));
  }
  if (adminRules) {
    lines.push('');
    lines.push('# What decides what CI builds and runs, and this file: administrators,');
    lines.push('# after every owner rule so that none of those can take it.');
    lines.push(...blocks.fixed.map(line));
    if (blocks.ciRules.length > 0) {
      lines.push('# Paths package.json\'s scripts or a workflow name inside owners\' files.');
      lines.push(...blocks.ciRules.map(line));
    }
  }
  return `${lines.join('\n')}\n`;
}
