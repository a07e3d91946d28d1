/** Counted words in messages: one place decides the plural form. Pure. */

/** The word in the form a count of `n` takes: `environment`, `environments`; `form` for other plurals (`status`, `statuses`). */
export function noun(n: number, word: string, form = `${word}s`): string {
  return n === 1 ? word : form;
}

/** `1 environment`, `3 environments`, `0 environments`. */
export function plural(n: number, word: string, form?: string): string {
  return `${n} ${noun(n, word, form)}`;
}
