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
}

const VARIABLE = /\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([^}]*)\})/g;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\+)(.*))?$/s;

export function substituteArgs(text: string, args: Record<string, string> = {}): Substituted {
  const missing: string[] = [];
  const used: string[] = [];
  let unsupported: string | undefined;
  const has = (name: string) => Object.prototype.hasOwnProperty.call(args, name);
  const value = text.replace(VARIABLE, (whole, bare: string | undefined, braced: string | undefined) => {
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
  const out: Substituted = { missing: [...new Set(missing)], used: [...new Set(used)] };
  if (unsupported !== undefined) out.unsupported = unsupported;
  if (missing.length === 0 && unsupported === undefined) out.value = value;
  return out;
}
