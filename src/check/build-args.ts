/**
 * Build arguments (`buildArgs:`) and the parser directives at the top of the
 * instructions:
 * - the base image reference read with the build arguments (ARG before FROM,
 *   model/build-args.ts): a variable without a value, a form outside the
 *   documented subset, or a result that is no image reference is an error;
 * - `ARG NAME` with no default and no `buildArgs.NAME` is `arg-no-value`: the
 *   builder leaves it empty, and a RUN testing it silently does nothing;
 * - `# syntax=` must name an image (render writes it on the first line);
 *   `# escape=` is refused: envctl's lines around the block use `\`.
 *
 * Not checked: `$NAME` in COPY, ENV, WORKDIR … naming nothing declared. The
 * base image's own ENV (a custom or default base, unknown here) is what such
 * names usually are, so the warning would be false for many real files.
 */
import type { LoadedEnvironment } from '../load/environments.js';
import { resolveBuildArgs, substituteArgs } from '../model/build-args.js';
import { problem, type Location, type Problem } from '../model/problem.js';
import { buildArgValues, isSecret, type EnvironmentSpec } from '../model/spec.js';
import { position, type SourceMap } from '../schema/index.js';
import { leadingDirectives } from './directives.js';
import type { ParsedInstruction, Where } from './lint.js';

/** The schema's image reference (imageBase without its `$` form): what a substituted base must be. */
export const IMAGE_REFERENCE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/**
 * Arguments the builders fill in themselves (BuildKit's automatic platform
 * arguments, which buildah sets too) or take from their own environment and
 * flags (the proxy arguments, BUILDKIT_*): declaring them bare is the way to use them.
 */
const PREDEFINED = new Set([
  'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT',
  'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY', 'SOURCE_DATE_EPOCH',
]);

export interface BuildArgsInput {
  env: LoadedEnvironment;
  spec: EnvironmentSpec;
  source: SourceMap;
  instructions: ParsedInstruction[];
  where: Where;
  locate: (line: number, col: number) => Location;
  /** Fields dropped after a schema failure: their checks would be false. */
  dropped: Set<string>;
}

export function checkBuildArgs(input: BuildArgsInput): Problem[] {
  const { spec, dropped } = input;
  const out: Problem[] = [];
  if (!dropped.has('buildArgs')) out.push(...checkArgReferences(spec, input.source));
  if (!dropped.has('buildArgs') && !dropped.has('base') && !dropped.has('stages')) out.push(...checkBaseImage(spec, input.source));
  if (!dropped.has('instructions')) {
    out.push(...checkDirectives(spec.instructions ?? '', input.locate));
    if (!dropped.has('buildArgs')) out.push(...checkArgValues(input));
  }
  return out;
}

/** The final base's image and every stage's: each is read with the build arguments, as FROM would read them. */
function checkBaseImage(spec: EnvironmentSpec, source: SourceMap): Problem[] {
  const images: { image: string; pointer: string }[] = [];
  const b = spec.base;
  if (typeof b === 'object' && 'image' in b) images.push({ image: b.image, pointer: '/base/image' });
  (spec.stages ?? []).forEach((stage, i) => {
    if (typeof stage.base === 'object' && 'image' in stage.base) images.push({ image: stage.base.image, pointer: `/stages/${i}/base/image` });
  });
  const values = buildArgValues(spec);
  return images.filter(({ image }) => image.includes('$')).flatMap(({ image, pointer }) => imageProblems(image, values, () => position(source, pointer, 'value')));
}

function imageProblems(image: string, values: Record<string, string>, at: () => Location): Problem[] {
  const s = substituteArgs(image, values);
  if (s.unsupported !== undefined) {
    return [problem(at(), 'error', 'base-arg-unsupported',
      `base image "${image}": ${s.unsupported} is not a form envctl reads; use $NAME, \${NAME}, \${NAME:-default} or \${NAME:+word}`)];
  }
  if (s.missing.length > 0) {
    return [problem(at(), 'error', 'base-arg-no-value',
      `base image "${image}" uses ${s.missing.map((n) => `\${${n}}`).join(', ')} without a value; set it under buildArgs (or write \${NAME:-default})`)];
  }
  if (!IMAGE_REFERENCE.test(s.value!)) {
    return [problem(at(), 'error', 'base-image-invalid', `base image "${image}" becomes "${s.value}", which is not an image reference (registry/name[:tag][@sha256:digest], lowercase name)`)];
  }
  return [];
}

/**
 * A value referring to other build arguments reads only those above it, as
 * `ARG B=$A` after `ARG A=…` does; a name declared below or nowhere would be
 * empty (docker's reading), so it is an error here: valid input never has one
 * (`\${NAME:-default}` says "maybe unset" on purpose, and `\$` is a literal `$`).
 */
function checkArgReferences(spec: EnvironmentSpec, source: SourceMap): Problem[] {
  const names = Object.keys(spec.buildArgs ?? {});
  return resolveBuildArgs(spec.buildArgs).findings.map((f) => {
    const at = position(source, `/buildArgs/${f.name}`, 'value');
    if (f.kind === 'unsupported') {
      return problem(at, 'error', 'build-arg-unsupported', `build argument ${f.name}: ${f.ref} is not a form envctl reads; use $NAME, \${NAME}, \${NAME:-default} or \${NAME:+word} (\\$ for a literal $)`);
    }
    if (f.kind === 'later') {
      return problem(at, 'error', 'build-arg-later', `build argument ${f.name} refers to ${f.ref}, which is ${f.ref === f.name ? 'itself' : 'declared after it'}; a value reads only the build arguments above it (move ${f.ref} up)`);
    }
    const earlier = names.slice(0, names.indexOf(f.name));
    return problem(at, 'error', 'build-arg-unknown', `build argument ${f.name} refers to \${${f.ref}}, which is no build argument${earlier.length ? ` (above it: ${earlier.join(', ')})` : ''}: it would be empty; declare it above, write \${${f.ref}:-default}, or \\$ for a literal $`);
  });
}

function checkDirectives(text: string, locate: BuildArgsInput['locate']): Problem[] {
  const out: Problem[] = [];
  let syntaxSeen = false;
  for (const d of leadingDirectives(text)) {
    const at = () => locate(d.line, d.valueCol);
    if (d.name === 'escape') {
      out.push(problem(locate(d.line, 0), 'error', 'directive-escape',
        '`# escape=` is not supported: the instructions sit after FROM and the lines envctl writes, which use "\\" as the escape character; write the block with "\\"'));
    } else if (d.name === 'syntax') {
      if (syntaxSeen) out.push(problem(at(), 'error', 'syntax-repeated', 'only one `# syntax=` directive can be used'));
      else if (!IMAGE_REFERENCE.test(d.value)) {
        out.push(problem(at(), 'error', 'syntax-invalid', `\`# syntax=\` names the Dockerfile frontend image; "${d.value}" is not an image reference (e.g. docker/dockerfile:1.7)`));
      }
      syntaxSeen = true;
    }
  }
  return out;
}

/** `ARG NAME` without a default, with no value in buildArgs or as a variable (ENV wins over ARG in a Dockerfile). */
function checkArgValues(input: BuildArgsInput): Problem[] {
  const { spec } = input;
  const given = new Set(Object.keys(spec.buildArgs ?? {}));
  for (const [name, v] of Object.entries(spec.variables ?? {})) if (!isSecret(v)) given.add(name);
  const out: Problem[] = [];
  for (const ins of input.instructions) {
    if (ins.keyword !== 'ARG') continue;
    for (const word of argWords(ins.text)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(word)) continue; // NAME=default, or not a name at all
      if (given.has(word) || PREDEFINED.has(word.toUpperCase()) || /^BUILDKIT_/.test(word)) continue;
      out.push(problem(input.where(ins), 'warning', 'arg-no-value',
        `ARG ${word} has no value: it is empty at build time (an \`if\` on it silently does nothing); give it a default (ARG ${word}=…) or set buildArgs.${word}`));
    }
  }
  return out;
}

/** The words after ARG, quotes kept inside their word, continuation lines and comment lines in them dropped. */
export function argWords(text: string): string[] {
  const lines = text.split('\n').filter((l, i) => i === 0 || !/^\s*#/.test(l));
  const body = lines.map((l) => l.replace(/\\[ \t]*$/, '')).join(' ').replace(/^\s*\S+/, '');
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quote) {
      if (c === '\\' && quote === '"' && i + 1 < body.length) cur += c + body[++i];
      else {
        if (c === quote) quote = undefined;
        cur += c;
      }
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (c === '\\' && i + 1 < body.length) cur += c + body[++i];
    else if (/\s/.test(c)) {
      if (cur) words.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) words.push(cur);
  return words;
}
