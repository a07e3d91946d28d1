/**
 * Parser directives at the top of the instructions block. The block sits
 * after FROM and envctl's own lines in the rendered Dockerfile, where
 * `# syntax=` would be an ordinary comment: BuildKit reads directives only at
 * the very top ("Once a comment, empty line or builder instruction has been
 * processed, BuildKit no longer looks for parser directives", Dockerfile
 * reference). So a directive written at the top of the block is read here as
 * the Dockerfile's own would be (moby/buildkit parser/directives.go:
 * `^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$`, names
 * case-insensitive), and render moves `# syntax=` to the rendered file's
 * first line. buildah ignores `syntax`.
 */

export interface Directive {
  /** Lower-cased name: `syntax`, `escape`, `check`, … */
  name: string;
  value: string;
  /** 0-based line in the block; 0-based column of the value. */
  line: number;
  valueCol: number;
}

const DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;

/** The directives the block starts with, up to the first line that is not one. */
export function leadingDirectives(text: string): Directive[] {
  const out: Directive[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!.replace(/\r$/, ''));
    if (!m) break;
    out.push({ name: m[1]!.toLowerCase(), value: m[2]!, line: i, valueCol: lines[i]!.length - lines[i]!.replace(/^#[ \t]*[a-zA-Z][a-zA-Z0-9]*[ \t]*=[ \t]*/, '').length });
  }
  return out;
}

/** The block's `# syntax=` value and the block without that line (render writes the directive first). */
export function takeSyntax(text: string): { syntax?: string; rest: string } {
  const found = leadingDirectives(text).find((d) => d.name === 'syntax');
  if (!found) return { rest: text };
  const lines = text.split('\n');
  lines.splice(found.line, 1);
  return { syntax: found.value, rest: lines.join('\n') };
}
