/**
 * Safe-by-construction HTML: a tagged template that escapes every
 * interpolated value unless it is already `Html` (markup built by this same
 * tag). The catalog is generated from free text (titles, descriptions,
 * commit subjects, Dockerfiles), so escaping is the default and raw markup
 * is the exception the type checker can see.
 */

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What may stand in `${…}` inside html``: escaped unless Html; null, undefined and false render nothing. */
export type Fragment = Html | string | number | null | undefined | false | readonly Fragment[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and for double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function fragment(value: Fragment): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly Fragment[]).map(fragment).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Fragment[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += fragment(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

export function join(parts: readonly Fragment[], separator: Fragment = ''): Html {
  return new Html(parts.map(fragment).join(fragment(separator)));
}
