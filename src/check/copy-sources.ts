/**
 * COPY and ADD sources, matched against the environment folder (the build
 * context) the way the builders match them: Go's filepath.Match (go-glob.ts).
 *
 * What the builders do with a wildcard that matches nothing:
 * - BuildKit (docker buildx): the Dockerfile frontend copies every source
 *   with `llb.CopyInfo{AllowWildcard: true, AllowEmptyWildcard: true}`, so a
 *   wildcard matching nothing copies nothing and the step succeeds, alone or
 *   beside other sources.
 * - buildah 1.28 (imagebuilder, copier.Stat over the context): fails when no
 *   local source of the instruction matches anything — `checking on sources
 *   under "…": copier: stat: ["/nomatch*"]: no such file or directory` — and
 *   succeeds when another source matches (`COPY a.txt nomatch* /x/` builds;
 *   both probed with buildah 1.28.2). Later buildah skips a wildcard with no
 *   matches the same way (copier: `if len(globMatched) == 0 &&
 *   strings.ContainsAny(glob, "*?[") { continue }`, then add.go's "no sources
 *   %v found" when nothing at all matched).
 * A source without wildcards that is missing fails on both (copy-missing).
 */
import type { Instruction } from 'dockerfile-ast';
import { posix } from 'node:path';
import type { LoadedEnvironment } from '../load/environments.js';
import type { Config } from '../model/config.js';
import { problem, type Location, type Problem } from '../model/problem.js';
import { goGlob, hasWildcard, unescapeGlob } from './go-glob.js';

type Found = 'match' | 'empty-wildcard' | 'missing' | 'bad-pattern' | 'unknown';

export function checkCopy(env: LoadedEnvironment, ins: Instruction, keyword: string, where: () => Location, builder: Config['builder']): Problem[] {
  const flags = 'getFlags' in ins ? (ins as unknown as { getFlags(): { getName(): string }[] }).getFlags() : [];
  if (flags.some((f) => f.getName() === 'from')) return []; // from another image or stage: not context files
  const sources = copySources(ins);
  if (sources === undefined) return []; // heredoc: inline content
  const out: Problem[] = [];
  let here: Location | undefined;
  const at = () => (here ??= where());
  const shared = (env.shared?.length ?? 0) > 0;
  const files = env.folder || shared ? contextPaths(env) : [];
  const empty: string[] = [];
  let anyLocalMatch = false;
  for (const src of sources) {
    if (keyword === 'ADD' && /^(https?:\/\/|git@|git:\/\/)/.test(src)) continue;
    if (src.includes('$')) {
      anyLocalMatch = true; // resolved by the builder from ARG/ENV: it may well match
      continue;
    }
    const rel = posix.normalize(src.replace(/^\/+/, '')).replace(/\/+$/, '');
    if (rel === '..' || rel.startsWith('../')) {
      out.push(problem(at(), 'error', 'copy-outside-context', `${keyword} source "${src}" is outside the environment's folder`));
      continue;
    }
    if (!env.folder && !shared) {
      out.push(problem(at(), 'error', 'copy-no-context',
        `${keyword} source "${src}": environment "${env.name}" is a single file, so there is nothing to copy; ` +
        `move it to ${posix.dirname(env.file)}/${env.name}/environment.yaml and put "${src}" beside it`));
      continue;
    }
    const found = lookUp(rel, files);
    if (found === 'match') anyLocalMatch = true;
    else if (found === 'empty-wildcard') empty.push(src);
    else if (found === 'bad-pattern') {
      out.push(problem(at(), 'error', 'copy-bad-pattern',
        `${keyword} source "${src}" is not a valid pattern (Go's filepath.Match: an unclosed or empty "[...]", or a trailing "\\"); both builders refuse it`));
    } else if (found === 'missing') {
      out.push(problem(at(), 'error', 'copy-missing', `${keyword} source "${src}" is not in ${contextName(env)} (${holds(files)})`));
    }
  }
  if (empty.length > 0 && !anyLocalMatch) out.push(emptyWildcards(env, keyword, empty, files, at(), builder));
  return out;
}

/**
 * Every wildcard of the instruction matches nothing. BuildKit copies nothing
 * and goes on; buildah fails the build. An error when the configured builder
 * may be buildah (`buildah`, and `auto`, which takes buildah wherever it is
 * installed, as on the CI hosts), since the push would fail at build time; a
 * warning for `docker`, where the build succeeds and the COPY is only dead.
 */
function emptyWildcards(env: LoadedEnvironment, keyword: string, empty: string[], files: string[], at: Location, builder: Config['builder']): Problem {
  const quoted = empty.map((s) => `"${s}"`).join(', ');
  const severity = builder === 'docker' ? 'warning' : 'error';
  return problem(at, severity, 'copy-glob-empty',
    `${keyword} ${empty.length > 1 ? 'patterns' : 'pattern'} ${quoted} ${empty.length > 1 ? 'match' : 'matches'} nothing in ${contextName(env)} (${holds(files)}): ` +
    'buildah fails on it ("copier: stat: …: no such file or directory"); docker buildx (BuildKit) copies nothing and goes on' +
    `${builder === 'auto' ? ' (builder: auto takes buildah where it is installed)' : ''}`);
}

function lookUp(rel: string, paths: readonly string[]): Found {
  if (rel === '.' || rel === '') return 'match';
  if (!hasWildcard(rel)) {
    const plain = unescapeGlob(rel);
    return paths.includes(plain) ? 'match' : 'missing';
  }
  const matched = goGlob(rel, paths);
  if (matched === undefined) return 'bad-pattern';
  return matched.length > 0 ? 'match' : 'empty-wildcard';
}

/** Where sources are looked for, in messages: the folder, and the shared folders of `context:` that hold files. */
function contextName(env: LoadedEnvironment): string {
  const list = (env.data as { context?: unknown } | undefined)?.context;
  const shared = Array.isArray(list)
    ? list.filter((d): d is string => typeof d === 'string' && (env.shared ?? []).some((f) => f.path.startsWith(`${d}/`)))
    : [];
  return [...(env.folder ? [env.folder] : []), ...shared].map((d) => `${d}/`).join(' or ');
}

/**
 * The context's files and the folders above them, relative to the build
 * context's root: the environment folder's files by their path in it, the
 * shared folders' files by their repository path. What a glob can match.
 */
function contextPaths(env: LoadedEnvironment): string[] {
  const out = new Set<string>();
  const rels = [...env.context.map((f) => f.path.slice(env.folder!.length + 1)), ...(env.shared ?? []).map((f) => f.path)];
  for (const rel of rels) {
    out.add(rel);
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) out.add(parts.slice(0, i).join('/'));
  }
  return [...out];
}

function holds(paths: readonly string[]): string {
  const files = paths.filter((p) => !paths.some((q) => q.startsWith(`${p}/`)));
  if (files.length === 0) return 'it holds no other files';
  return `it holds: ${files.slice(0, 8).join(', ')}${files.length > 8 ? ', …' : ''}`;
}

/** Sources of a COPY/ADD (all arguments but the destination), or undefined for a heredoc. */
function copySources(ins: Instruction): string[] | undefined {
  const content = (ins.getRawArgumentsContent() ?? '').replace(/\\\r?\n/g, ' ');
  let args: string[] | undefined;
  if (content.trimStart().startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(content);
      if (Array.isArray(parsed)) args = parsed.map(String);
    } catch {
      // not JSON after all: read it as words
    }
  }
  args ??= shellWords(content);
  while (args[0]?.startsWith('--')) args.shift(); // --from, --chown, --chmod, --link …
  if (args.some((a) => a.startsWith('<<'))) return undefined;
  return args.slice(0, -1);
}

/**
 * Words as the builder splits COPY and ADD arguments: whitespace outside
 * quotes, quotes removed, backslash escapes (the builders' word lexer eats an
 * unquoted backslash, so docker documents `arr[[]0].txt`, not `arr\\[0\\].txt`,
 * for a file named "arr[0].txt").
 */
export function shellWords(text: string): string[] {
  // Most COPY lines hold no quote and no backslash: then the words are the runs of non-space.
  if (!/["'\\]/.test(text)) return text.split(/\s+/).filter((w) => w !== '');
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}
