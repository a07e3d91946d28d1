/**
 * The commit of one imported revision: its message (the product's summary
 * made one printable line, then what was imported, then trailers) and its
 * author; and the trailers read back, which is how a re-run knows what is
 * already imported (they travel with the history, no state file). Pure.
 */
import { PRODUCT_ID, type ProductAuthor } from './types.js';

/** Controls, DEL, C1, line/paragraph separators, bidi controls, lone surrogates. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A value on one printable line: controls (line breaks included) become spaces, runs of space one, at most `max` characters. */
export function oneLine(value: string, max = 200): string {
  const line = value.replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`;
}

export const TRAILER = {
  environment: 'Product-Environment',
  revision: 'Product-Revision',
  number: 'Product-Revision-Number',
  name: 'Imported-As',
  unreadable: 'Product-Unreadable',
} as const;

export interface ImportedCommit {
  /** The envctl environment name. */
  name: string;
  environmentId: string;
  revisionId: string;
  number: number;
  summary: string;
  /** Set on a gap commit: why the revision could not be read. */
  unreadable?: string;
  /** Earlier revisions this run could not read, named in the next readable revision's message. */
  gapsBefore?: { number: number; reason: string }[];
  /** Notes of the mapping (fields dropped or changed), listed in the body. */
  notes?: string[];
}

/** The commit message: subject, body, trailers. Every product string passes oneLine. */
export function commitMessage(c: ImportedCommit): string {
  const subject = c.unreadable !== undefined
    ? `Revision ${c.number} could not be read from the product`
    : oneLine(c.summary) || `Revision ${c.number}`;
  const body: string[] = [];
  if (c.unreadable !== undefined) {
    body.push(`The product's revision ${c.number} of this environment could not be read (${oneLine(c.unreadable, 300)}).`,
      `This commit keeps the environment file as the previous revision had it, with a comment naming the`,
      `unreadable revision, so revision numbers stay those of the product.`);
  } else {
    body.push(`Imported from the hosted product: revision ${c.number} of ${c.name}.`);
  }
  for (const g of c.gapsBefore ?? []) body.push(`Revision ${g.number} before it could not be read (${oneLine(g.reason, 300)}); its commit keeps the content before it.`);
  const notes = (c.notes ?? []).map((n) => `- ${oneLine(n, 300)}`);
  const trailers = [
    `${TRAILER.environment}: ${checkedId(c.environmentId)}`,
    `${TRAILER.revision}: ${checkedId(c.revisionId)}`,
    `${TRAILER.number}: ${c.number}`,
    `${TRAILER.name}: ${c.name}`,
    ...(c.unreadable !== undefined ? [`${TRAILER.unreadable}: ${oneLine(c.unreadable, 200) || 'unreadable'}`] : []),
  ];
  return [subject, '', body.join('\n'), ...(notes.length ? ['', notes.join('\n')] : []), '', trailers.join('\n'), ''].join('\n');
}

function checkedId(id: string): string {
  if (!PRODUCT_ID.test(id)) throw new TypeError(`not a product id: ${JSON.stringify(id)}`);
  return id;
}

export interface GitAuthor {
  name: string;
  email: string;
}

/** The revision's author as a git identity: no `<`, `>` or line breaks in the name, an email that looks like one (else `<user>@product.invalid`). */
export function gitAuthor(a: ProductAuthor): GitAuthor {
  const clean = (s: string) => oneLine(s, 100).replace(/[<>]/g, '').trim();
  const username = clean(a.username).replace(/[^A-Za-z0-9._-]/g, '-') || 'unknown';
  const name = clean(a.name) || username;
  const email = a.email !== undefined && /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$/.test(a.email) ? a.email : `${username}@product.invalid`;
  return { name, email };
}

/** What a commit's trailers say was imported, or undefined for a commit that is not an import. */
export interface ImportTrailers {
  environmentId: string;
  revisionId: string;
  number: number;
  name: string;
  /** On a gap commit: why the revision could not be read. */
  unreadable?: string;
}

/** Reads the trailers of the message's last paragraph; an import commit has all four (and perhaps Product-Unreadable). */
export function readTrailers(message: string): ImportTrailers | undefined {
  const paragraphs = message.trimEnd().split(/\n\s*\n/);
  const last = paragraphs[paragraphs.length - 1] ?? '';
  const values = new Map<string, string>();
  for (const line of last.split('\n')) {
    const m = /^([A-Za-z-]+): (.*)$/.exec(line);
    if (m) values.set(m[1]!, m[2]!.trim());
  }
  const environmentId = values.get(TRAILER.environment);
  const revisionId = values.get(TRAILER.revision);
  const number = Number(values.get(TRAILER.number));
  const name = values.get(TRAILER.name);
  if (environmentId === undefined || revisionId === undefined || name === undefined || !Number.isInteger(number) || number < 1) return undefined;
  const unreadable = values.get(TRAILER.unreadable);
  return { environmentId, revisionId, number, name, ...(unreadable !== undefined ? { unreadable } : {}) };
}
