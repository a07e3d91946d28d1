/**
 * Product display names → envctl environment names (lowercase letters,
 * digits, single dashes: load/spec-file.ts NAME_PATTERN), with collisions
 * resolved by a `-2`, `-3` … suffix that the caller prints. Pure.
 */
import { NAME_PATTERN } from '../load/spec-file.js';
import { EnvctlError } from '../model/errors.js';

/** Longest name envctl gives an imported environment (room for a suffix under common 63-character limits). */
const MAX_NAME = 60;

/** The name's letters and digits, lowercased, every other run of characters one dash; `environment` when nothing is left. */
export function slugName(display: string): string {
  const ascii = display.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const slug = ascii.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, MAX_NAME).replace(/-+$/, '');
  return slug === '' ? 'environment' : slug;
}

export interface NameChoice {
  name: string;
  /** Set when the plain name was taken: what it collided with, for the printed note. */
  collided?: string;
}

/**
 * A name for a product environment not imported before: its slug, or the
 * slug with the first free suffix when `taken` (names in the repository's
 * history and names given in this run) holds it. Adds the name to `taken`.
 */
export function chooseName(display: string, taken: Set<string>): NameChoice {
  const plain = slugName(display);
  let name = plain;
  for (let n = 2; taken.has(name); n++) name = `${plain.slice(0, MAX_NAME - String(n).length - 1).replace(/-+$/, '')}-${n}`;
  if (!NAME_PATTERN.test(name)) throw new EnvctlError('internal', 'import-name-invalid', `chose an invalid environment name ${JSON.stringify(name)}`);
  taken.add(name);
  return name === plain ? { name } : { name, collided: plain };
}
