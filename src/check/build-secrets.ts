/**
 * Build secrets: every `RUN --mount=type=secret` names a secret declared in
 * `buildSecrets`, and every declared one is read by some RUN. The mount is
 * read as the builders read it:
 *
 * - BuildKit (dockerfile frontend, instructions/runmount.go) splits the
 *   value as CSV, lowercases keys, takes `type` (default bind), `id`,
 *   `source`/`src`, `target`/`dst`/`destination`, `required` (alone: true),
 *   `mode` (octal), `uid`, `gid`, `env` (dockerfile 1.10); a secret's id is
 *   `source`, else `id`, else the basename of `target`, and it is mounted at
 *   `target`, else `/run/secrets/<id>`.
 * - buildah 1.28 (tried on it): a secret mount takes `id`, `target`/`dst`/
 *   `destination`, `required=BOOL`, `mode`, `uid`, `gid` and nothing else
 *   ("secret should have syntax id=id[,target=path,required=bool,...]"):
 *   no id from the target, no `src`, no `env`; a bare `required` panics it.
 *
 * Other mounts: `type=cache`, `type=tmpfs` and `type=bind` (the build
 * context, or another image: FROM's business) are left alone; `type=ssh`
 * gets nothing, since envctl forwards no SSH agent to a build.
 */
import type { Config } from '../model/config.js';
import { problem, type Location, type Problem } from '../model/problem.js';
import type { EnvironmentSpec } from '../model/spec.js';
import { position, type SourceMap } from '../schema/index.js';
import type { ParsedInstruction } from './lint.js';

export interface RunMount {
  /** Keys lowercased, as BuildKit reads them; a key without `=` has value undefined. */
  fields: { key: string; value: string | undefined }[];
  type: string;
  /** Offset of `--mount` in the instruction's text. */
  offset: number;
}

export interface SecretMount {
  /** The id the builder looks the secret up by (undefined: none can be found). */
  id: string | undefined;
  target: string | undefined;
  env: string | undefined;
  required: string | undefined;
}

/** The `--mount` flags of a RUN, read from its text (keyword first) as flags before the command. */
export function runMounts(text: string): RunMount[] {
  const mounts: RunMount[] = [];
  let i = skipSpace(text, text.search(/\s|$/));
  while (text.startsWith('--', i)) {
    const start = i;
    let word = '';
    let quote = '';
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quote) {
        if (c === quote) quote = '';
        else word += c;
      } else if (c === '"' || c === "'") quote = c;
      else if (/\s/.test(c) || (c === '\\' && text[i + 1] === '\n')) break;
      else word += c;
    }
    const m = /^--mount=(.*)$/is.exec(word);
    if (m) {
      const fields = splitCsv(m[1]!).map((f) => {
        const eq = f.indexOf('=');
        return eq === -1 ? { key: f.toLowerCase(), value: undefined } : { key: f.slice(0, eq).toLowerCase(), value: f.slice(eq + 1) };
      });
      const type = fields.find((f) => f.key === 'type')?.value?.toLowerCase() ?? 'bind';
      mounts.push({ fields, type, offset: start });
    }
    i = skipSpace(text, i);
  }
  return mounts;
}

/** White space and line continuations (the default escape `\`; `# escape=` is no directive in the block). */
function skipSpace(text: string, i: number): number {
  for (;;) {
    if (/\s/.test(text[i] ?? '')) i++;
    else if (text[i] === '\\' && text[i + 1] === '\n') i += 2;
    else return i;
  }
}

/** Go's encoding/csv for one record: commas split, a field opening with `"` is quoted, `""` is a quote. */
export function splitCsv(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      for (i++; i < value.length; i++) {
        if (value[i] === '"' && value[i + 1] === '"') { field += '"'; i++; } else if (value[i] === '"') { i++; break; } else field += value[i];
      }
      const comma = value.indexOf(',', i);
      field += comma === -1 ? value.slice(i) : value.slice(i, comma);
      i = comma === -1 ? value.length : comma;
    } else {
      const comma = value.indexOf(',', i);
      field = comma === -1 ? value.slice(i) : value.slice(i, comma);
      i = comma === -1 ? value.length : comma;
    }
    out.push(field);
    if (i >= value.length) return out;
    i++;
  }
}

/** A secret mount as BuildKit resolves it: `source` wins over `id`, else the target's basename. */
export function secretMount(m: RunMount): SecretMount {
  const get = (...keys: string[]) => m.fields.filter((f) => keys.includes(f.key)).pop()?.value;
  const target = get('target', 'dst', 'destination');
  const id = get('source', 'src') ?? get('id') ?? (target ? target.replace(/\/+$/, '').split('/').pop() || undefined : undefined);
  return { id, target, env: get('env'), required: m.fields.filter((f) => f.key === 'required').map((f) => f.value ?? '').pop() };
}

const BUILDAH_SECRET_KEYS = new Set(['type', 'id', 'target', 'dst', 'destination', 'required', 'mode', 'uid', 'gid']);
const BUILDKIT_SECRET_KEYS = new Set([...BUILDAH_SECRET_KEYS, 'source', 'src', 'env']);

export interface SecretCheckInput {
  spec: EnvironmentSpec;
  source: SourceMap;
  instructions: ParsedInstruction[];
  /** Where offset `offset` of an instruction's text is in the YAML file. */
  at: (ins: ParsedInstruction, offset: number) => Location;
  builder: Config['builder'];
}

export function checkBuildSecrets(input: SecretCheckInput): Problem[] {
  const problems: Problem[] = [];
  const declared = input.spec.buildSecrets ?? {};
  const used = new Set<string>();
  const buildah = input.builder !== 'docker'; // auto may build with buildah
  for (const ins of input.instructions) {
    if (ins.keyword !== 'RUN') continue;
    for (const m of runMounts(ins.text)) {
      const at = () => input.at(ins, m.offset);
      if (m.type === 'ssh') {
        problems.push(problem(at(), 'warning', 'build-mount-ssh', 'envctl forwards no SSH agent to a build, so this RUN gets no SSH socket; fetch over https with a build secret (buildSecrets) instead'));
        continue;
      }
      if (m.type !== 'secret') continue;
      const s = secretMount(m);
      problems.push(...secretSyntax(m, s, buildah, at));
      if (s.id === undefined) continue;
      used.add(s.id);
      if (!(s.id in declared)) {
        const names = Object.keys(declared);
        problems.push(problem(at(), 'error', 'build-secret-undeclared',
          `RUN mounts the secret "${s.id}", which buildSecrets does not declare${names.length > 0 ? ` (declared: ${names.join(', ')})` : ''}; add buildSecrets: { ${s.id}: { env: VARIABLE } } naming the variable of envctl sync's environment that holds it`));
      }
    }
  }
  for (const id of Object.keys(declared)) {
    if (!used.has(id)) problems.push(problem(position(input.source, `/buildSecrets/${pointerEscape(id)}`, 'key'), 'warning', 'build-secret-unused', `no RUN mounts the build secret "${id}" (RUN --mount=type=secret,id=${id} ...)`));
  }
  return problems;
}

function secretSyntax(m: RunMount, s: SecretMount, buildah: boolean, at: () => Location): Problem[] {
  const out: Problem[] = [];
  const keys = buildah ? BUILDAH_SECRET_KEYS : BUILDKIT_SECRET_KEYS;
  const who = buildah ? 'buildah 1.28' : 'BuildKit';
  for (const f of m.fields) {
    if (!keys.has(f.key)) out.push(problem(at(), 'error', 'build-secret-mount', `${who} does not take "${f.key}" in a secret mount (it takes ${[...keys].join(', ')})`));
  }
  if (buildah && !m.fields.some((f) => f.key === 'id')) out.push(problem(at(), 'error', 'build-secret-mount', 'buildah 1.28 needs the secret named with id=NAME (it does not take the id from the target)'));
  else if (s.id === undefined) out.push(problem(at(), 'error', 'build-secret-mount', 'the secret mount names no secret: add id=NAME'));
  if (s.required !== undefined && !/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(s.required) && !(s.required === '' && !buildah)) {
    out.push(problem(at(), 'error', 'build-secret-mount', buildah && s.required === '' ? 'write required=true: buildah 1.28 fails on a bare "required"' : `required=${s.required} is not a boolean`));
  }
  return out;
}

/** JSON pointer escaping of one key. */
function pointerEscape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
