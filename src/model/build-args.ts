/**
 * Build arguments in the base image reference, as `ARG` before `FROM` is in
 * a Dockerfile. Docker documents for FROM the environment-replacement forms
 * `$name`, `${name}`, `${name:-word}` (word when name is unset or empty) and
 * `${name:+word}` (word when name is set and not empty, else empty); that
 * subset is what is read here. Pure: the checker, render and every stage
 * that reads `base` (through model/spec.ts baseOf) see the same reference.
 */

/** Dockerfile ARG names as the schema allows them. */
export const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface Substituted {
  /** The reference with every variable replaced; undefined when a variable could not be. */
  value?: string;
  /** Names used without a value (no build argument and no `:-` default). */
  missing: string[];
  /** A `${…}` form outside the documented subset, as written. */
  unsupported?: string;
  /** Every name the text refers to. */
  used: string[];
  /** The text with what could be read replaced and the rest empty (what docker would make of it). */
  text: string;
}

const VARIABLE = /\\\$|\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([^}]*)\})/g;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\+)(.*))?$/s;

export function substituteArgs(text: string, args: Record<string, string> = {}): Substituted {
  const missing: string[] = [];
  const used: string[] = [];
  let unsupported: string | undefined;
  const has = (name: string) => Object.prototype.hasOwnProperty.call(args, name);
  const value = text.replace(VARIABLE, (whole, bare: string | undefined, braced: string | undefined) => {
    if (whole === '\\$') return '$'; // escaped, as docker reads `\$`
    if (bare !== undefined) {
      used.push(bare);
      if (!has(bare)) missing.push(bare);
      return has(bare) ? args[bare]! : '';
    }
    const m = BRACED.exec(braced ?? '');
    if (!m) {
      unsupported ??= whole;
      return '';
    }
    const [, name, op, word] = m as unknown as [string, string, string | undefined, string | undefined];
    used.push(name);
    const set = has(name) && args[name] !== '';
    if (op === ':-') return set ? args[name]! : word ?? '';
    if (op === ':+') return set ? word ?? '' : '';
    if (!has(name)) missing.push(name);
    return has(name) ? args[name]! : '';
  });
  const out: Substituted = { missing: [...new Set(missing)], used: [...new Set(used)], text: value };
  if (unsupported !== undefined) out.unsupported = unsupported;
  if (missing.length === 0 && unsupported === undefined) out.value = value;
  return out;
}

/** A build argument whose value could not be read as its ARG default would be. */
export interface BuildArgFinding {
  name: string;
  /** `unknown`: names no build argument; `later`: names one declared after it (or itself); `unsupported`: a form outside the subset. */
  kind: 'unknown' | 'later' | 'unsupported';
  /** The name referred to, or the unsupported form as written. */
  ref: string;
}

export interface ResolvedBuildArgs {
  /** Each argument's value with the earlier ones substituted, in declaration order. */
  values: Record<string, string>;
  findings: BuildArgFinding[];
}

/**
 * The values of `buildArgs` as a run of `ARG NAME=value` lines before FROM
 * reads them: in declaration order (the YAML mapping's; names cannot be
 * integer-like, so object order is insertion order), each value may refer
 * to the arguments above it. Docker expands a name declared nowhere (or
 * below) to empty; here that is a finding, since in a spec it is a typo or
 * an order mistake far more often than meant, and check makes it an error.
 * A finding leaves the reference empty, as docker would, so the other values
 * still resolve. `\$` stands for a literal `$`, as in a Dockerfile.
 */
export function resolveBuildArgs(args: Record<string, string> = {}): ResolvedBuildArgs {
  const values: Record<string, string> = {};
  const findings: BuildArgFinding[] = [];
  const names = Object.keys(args);
  for (const name of names) {
    const raw = args[name]!;
    if (!raw.includes('$')) {
      values[name] = raw;
      continue;
    }
    const s = substituteArgs(raw, values);
    for (const ref of s.missing) findings.push({ name, kind: names.includes(ref) ? 'later' : 'unknown', ref });
    if (s.unsupported !== undefined) findings.push({ name, kind: 'unsupported', ref: s.unsupported });
    values[name] = s.text;
  }
  return { values, findings };
}
