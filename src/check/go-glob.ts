/**
 * Go's path/filepath.Match, which both builders match COPY/ADD sources with.
 *
 * Go's documented syntax (path/filepath.Match):
 *   pattern: { term }
 *   term:    '*'  matches any sequence of non-Separator characters
 *            '?'  matches any single non-Separator character
 *            '[' [ '^' ] { character-range } ']'  character class (must be non-empty)
 *            c    matches character c (c != '*', '?', '\\', '[')
 *            '\\' c  matches character c
 *   character-range: c (c != '\\', '-', ']') | '\\' c | lo '-' hi
 * "Match requires pattern to match all of name, not just a substring. The only
 * possible returned error is ErrBadPattern, when pattern is malformed."
 * `*` also matches a leading "." (unlike a shell), and `**` is two stars:
 * buildah 1.28 (what envctl drives) globs with plain filepath.Glob, so a
 * `**` element stands for exactly one folder there (COPY of "**" + "/a.txt"
 * with a.txt at the top fails: "copier: stat: ...: no such file or
 * directory", probed); later buildah (copier extendedGlob) expands a `**`
 * element to any number of folders.
 */

/** A pattern compiled to a RegExp over one path; undefined when Go would return ErrBadPattern. */
export function goPattern(pattern: string): RegExp | undefined {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) return undefined; // a trailing escape is ErrBadPattern
      re += escape(pattern[++i]!);
    } else if (c === '[') {
      const cls = charClass(pattern, i + 1);
      if (!cls) return undefined;
      re += cls.re;
      i = cls.end;
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`, 'u');
}

/** Whether a source has a wildcard: `*`, `?` or `[` not escaped by "\\" (BuildKit's containsWildcards, and what buildah globs). */
export function hasWildcard(source: string): boolean {
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if ('*?['.includes(source[i]!)) return true;
  }
  return false;
}

/** The source with Go's escapes resolved, for a source without wildcards. */
export function unescapeGlob(source: string): string {
  return source.replace(/\\(.)/gu, '$1');
}

/**
 * The paths (files and the folders above them) a pattern matches, Go's way:
 * filepath.Glob matches each path element against the pattern's element,
 * so a pattern with n elements matches paths of exactly n elements.
 */
export function goGlob(pattern: string, paths: readonly string[]): string[] | undefined {
  const re = goPattern(pattern);
  if (!re) return undefined;
  return paths.filter((p) => re.test(p));
}

/** A class from just after "[" to its "]"; Go's grammar: `^` negates, `\\` escapes, `lo-hi` ranges, never empty. */
function charClass(pattern: string, start: number): { re: string; end: number } | undefined {
  let i = start;
  let negate = false;
  if (pattern[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  let count = 0;
  while (i < pattern.length && (pattern[i] !== ']' || count === 0)) {
    if (pattern[i] === ']' || pattern[i] === '-') return undefined; // "[]" and a bare "-" are ErrBadPattern
    const lo = classChar(pattern, i);
    if (!lo) return undefined;
    i = lo.next;
    if (pattern[i] === '-') {
      const hi = classChar(pattern, i + 1);
      if (!hi || hi.ch < lo.ch) return undefined;
      body += `${inClass(lo.ch)}-${inClass(hi.ch)}`;
      i = hi.next;
    } else body += inClass(lo.ch);
    count++;
  }
  if (pattern[i] !== ']') return undefined; // unclosed
  // A class never matches the separator (Go: "[^a]" does not match "/").
  return { re: negate ? `[^/${body}]` : `[${body}]`, end: i };
}

function classChar(pattern: string, i: number): { ch: string; next: number } | undefined {
  const c = pattern[i];
  if (c === undefined || c === ']' || c === '-') return undefined;
  if (c === '\\') {
    const e = pattern[i + 1];
    return e === undefined ? undefined : { ch: e, next: i + 2 };
  }
  return { ch: c, next: i + 1 };
}

/** Escapes for a RegExp with the "u" flag, which refuses needless ones such as "\\-" outside a class. */
function escape(c: string): string {
  return c.replace(/[\\^$.*+?()[\]{}|]/gu, '\\$&');
}

function inClass(c: string): string {
  return c.replace(/[\\\]\[^-]/gu, '\\$&');
}
