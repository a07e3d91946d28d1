/**
 * Handlebars templates, compiled with `noEscape` so Handlebars never applies
 * HTML escaping: every value arrives already escaped for Dockerfile syntax
 * (see escape.ts) through the `quote`, `comment` and `word` helpers.
 */
import Handlebars from 'handlebars';
import { dockerComment, dockerQuote, dockerWord } from './escape.js';

const hb = Handlebars.create();
hb.registerHelper('quote', (v: unknown) => dockerQuote(String(v)));
hb.registerHelper('comment', (v: unknown) => dockerComment(String(v)));
hb.registerHelper('word', (v: unknown, what: unknown) => dockerWord(String(v), typeof what === 'string' ? what : 'value'));

/** Names the source; not hashed, so moving `x.yaml` to `x/environment.yaml` keeps the content key. */
const HEADER = `# Rendered by envctl from {{comment file}}. Edit that file, not this one.
`;

/** The part of the Dockerfile that decides the image's bytes: it is what the content key hashes. */
const BUILD = `{{#each stages}}
FROM {{word from "stage base"}} AS {{word name "stage name"}}
{{#each ../args}}
ARG {{word this "build argument name"}}
{{/each}}
{{#if instructions}}

{{{instructions}}}
{{/if}}

{{/each}}
FROM {{word from "base image"}}
{{#each args}}
ARG {{word this "build argument name"}}
{{/each}}
{{#if variables.length}}
{{#each variables}}
ENV {{word name "variable name"}}={{quote value}}
{{/each}}
{{/if}}
{{#if instructions}}

{{{instructions}}}
{{/if}}
{{#if user}}

USER {{word user "username"}}
{{/if}}
`;

/** A `# syntax=` directive from the instructions: BuildKit reads it only on the file's first lines, so it goes before the header. */
const SYNTAX = `# syntax={{word syntax "syntax directive"}}
`;

/** Labels that change per revision without changing the image's filesystem; kept last so they never bust the layer cache. */
const LABELS = `
LABEL{{#each labels}} \\
      {{word name "label"}}={{quote value}}{{/each}}
`;

export const headerTemplate = hb.compile(HEADER, { noEscape: true, strict: true });
export const buildTemplate = hb.compile(BUILD, { noEscape: true, strict: true });
export const syntaxTemplate = hb.compile(SYNTAX, { noEscape: true, strict: true });
export const labelsTemplate = hb.compile(LABELS, { noEscape: true, strict: true });
