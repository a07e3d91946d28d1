/**
 * `.github/CODEOWNERS` from environment owners and envctl.yaml's
 * administrators. Pure: the CLI gathers the plain data and writes the text.
 *
 * GitHub applies the LAST matching pattern, so the file lists the
 * repository's configuration first and then one rule per environment, in
 * name order. Environment patterns never overlap each other (a file
 * `/environments/a.yaml`, a folder `/environments/a/`), so each path has
 * exactly one rule that decides its owners.
 */
import { allowedBy } from '../check/policy.js';

export const CODEOWNERS_FILE = '.github/CODEOWNERS';

/** Paths administrators own: the configuration that grants policy, and CODEOWNERS itself. */
export const CONFIGURATION_PATTERNS = ['/envctl.yaml', '/.github/'];

/**
 * The code that enforces policy, where a repository carries it (this one
 * does; one using the published Action does not): changing it could undo
 * every rule, and the record job runs it with a writing token.
 */
export const TOOL_PATTERNS = ['/.ci/', '/action.yml', '/bin/', '/package.json', '/package-lock.json', '/schemas/', '/scripts/', '/src/'];

export interface OwnedEnvironment {
  name: string;
  /** Its YAML file (`environments/a.yaml`) or its folder (`environments/a`), relative to the repository root. */
  path: string;
  /** True when `path` is the environment's folder (the rule then covers its context files too). */
  folder?: boolean;
  /** As written in the spec; undefined or unusable values skip the environment. */
  owner: string | undefined;
  visibility?: string | undefined;
}

export interface CodeownersInput {
  environmentsDir: string;
  administrators: string[];
  /** policy.administratorFields: environment-name patterns with `*`. */
  administratorFields: string[];
  environments: OwnedEnvironment[];
  /** Those of TOOL_PATTERNS present in the repository; administrators own them too. */
  toolPatterns?: string[];
}

export interface CodeownersRule {
  pattern: string;
  owners: string[];
  /** The environment the rule is for; absent for the configuration rules. */
  environment?: string;
  /** Why administrators are among the owners of an environment. */
  administrators?: 'global' | 'administratorFields';
}

export interface SkippedEnvironment {
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
  // eslint-disable-next-line no-control-regex
  if (path === '' || /[\u0000-\u001f\u007f]/.test(path)) return undefined;
  return `/${path.replace(/^\/+/, '').replace(/[ \t\\#*?[\]!]/g, '\\$&')}`;
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

  const rules: CodeownersRule[] = [];
  if (adminRules) for (const pattern of [...CONFIGURATION_PATTERNS, ...(input.toolPatterns ?? [])]) rules.push({ pattern, owners: administrators });

  const skipped: SkippedEnvironment[] = [];
  const sorted = [...input.environments].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const envRules: CodeownersRule[] = [];
  for (const env of sorted) {
    const skip = (reason: string) => skipped.push({ name: env.name, path: env.path, reason });
    const owner = typeof env.owner === 'string' ? normalizeOwner(env.owner) : undefined;
    if (owner === undefined) {
      skip(env.owner === undefined ? 'no owner' : `owner ${JSON.stringify(env.owner)} is not a GitHub login, @org/team or email address`);
      continue;
    }
    const escaped = escapePattern(env.path.replace(/\/+$/, ''));
    if (escaped === undefined) {
      skip(`path ${JSON.stringify(env.path)} cannot be written as a CODEOWNERS pattern`);
      continue;
    }
    const why = env.visibility === 'global' ? 'global' as const
      : allowedBy(input.administratorFields, env.name) ? 'administratorFields' as const : undefined;
    const owners = dedupe([owner, ...(why && adminRules ? administrators : [])]);
    envRules.push({
      pattern: env.folder ? `${escaped}/` : escaped,
      owners,
      environment: env.name,
      ...(why && adminRules ? { administrators: why } : {}),
    });
  }
  rules.push(...envRules);

  // envctl.yaml's schema keeps the folder to path characters; a comment must stay one line regardless.
  // eslint-disable-next-line no-control-regex
  const dir = input.environmentsDir.replace(/[\u0000-\u001f\u007f]/g, ' ');
  const line = (r: CodeownersRule) => `${r.pattern} ${r.owners.join(' ')}`;
  const lines = [
    '# Generated by `envctl codeowners` from envctl.yaml (administrators,',
    '# policy.administratorFields) and each environment\'s owner and visibility.',
    '# Do not edit by hand: change those files and run `envctl codeowners`;',
    '# `envctl codeowners --check` fails while this file is out of date.',
    '# The last matching pattern wins.',
    '',
  ];
  if (adminRules) {
    lines.push('# Repository configuration and this file: administrators.');
    lines.push(...rules.filter((r) => r.environment === undefined).map(line));
  } else {
    lines.push('# No administrators in envctl.yaml: administrator rules are off (envctl.yaml,');
    lines.push('# .github/ and global or policy.administratorFields environments get no');
    lines.push('# administrator review). List them under `administrators` to turn them on.');
  }
  lines.push('');
  lines.push(`# Environments in ${dir}/, one rule each, in name order: the owner${adminRules ? ',' : '.'}`);
  if (adminRules) lines.push('# plus administrators for global environments and those policy.administratorFields names.');
  if (envRules.length === 0) lines.push('# (none with an owner)');
  lines.push(...envRules.map(line));

  return { text: `${lines.join('\n')}\n`, rules, skipped, warnings, administratorRules: adminRules };
}
