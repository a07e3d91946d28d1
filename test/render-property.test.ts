/**
 * Property tests: no free text a user writes can change the structure of the
 * rendered Dockerfile, be expanded as a variable, or move the content key.
 * Also unit tests of the escaping functions themselves.
 */
import { expect } from 'chai';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import fc from 'fast-check';
import type { CheckedEnvironment } from '../src/check/index.js';
import type { VariableSpec } from '../src/model/spec.js';
import { dockerComment, dockerQuote, dockerWord, oneLine } from '../src/render/escape.js';
import { renderEnvironment, type Rendered } from '../src/render/index.js';
import { check, config, yaml } from './helpers.js';

const NUM_RUNS = 300;

// ---------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------

/** Strings that have broken templating and Dockerfile escaping elsewhere. */
const TRICKY = [
  '', ' ', '\n', '\r', '\r\n', '\n\n', '\t', '\v', '\f', '\0', '\u007f', '\u0085', '\u2028', '\u2029', '\ufeff',
  '"', "'", '`', '\\', '\\\\', '\\"', '\\$', '\\\n', '\\ \n', '$', '$$', '$HOME', '${HOME}', '${HOME:-x}', '$(id)',
  '{{', '}}', '{{title}}', '{{{instructions}}}', '{{#each labels}}', '{{> partial}}', '#', '# escape=`', '=', 'a=b c=d',
  '\nRUN rm -rf /', '\r\nRUN rm -rf /', '\u2028RUN rm -rf /', '\u0085RUN rm -rf /', '"\nRUN rm -rf /', '\\\nRUN rm -rf /',
  '" \\\nRUN rm -rf / #', '"; rm -rf / #', '\\"\nUSER root\n', '\n# escape=`\nRUN x`\n', '\nFROM evil\n', 'LABEL x=y',
  '\u0000\u0001\u001f', '😀', '\ud83d', '\ude00', 'e\u0301', 'Ω≈ç√∫', '𝕏', `${'a'.repeat(499)}😀`, `${'b'.repeat(498)}\\$`,
];

const trickyChar = fc.constantFrom('\\', '"', "'", '$', '{', '}', '\n', '\r', ' ', '\t', '#', '=', '`', 'a', 'Z', '\u2028', '\u0085', '\0', '😀');

const piece = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(...TRICKY),
  fc.string({ unit: trickyChar }),
);

/** Arbitrary unicode text, tricky constants and mixtures of both. */
const text: fc.Arbitrary<string> = fc.oneof(
  piece,
  fc.array(piece, { minLength: 2, maxLength: 6 }).map((parts) => parts.join('')),
);

/** Variable values are strings (the schema says so); numbers and booleans appear as the text a user would quote. */
const value: fc.Arbitrary<VariableSpec> = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.boolean().map(String) },
);

interface Free {
  title: string;
  description: string;
  values: [VariableSpec, VariableSpec, VariableSpec];
  file: string;
}

const free: fc.Arbitrary<Free> = fc.record({
  title: text,
  description: text,
  values: fc.tuple(value, value, value),
  file: text,
});

// ---------------------------------------------------------------------------
// A valid environment, checked once; free text is then swapped in directly
// ---------------------------------------------------------------------------

const cfg = config({ policy: { administratorFields: ['*'] } });
const run = check({
  'environments/prop/environment.yaml': yaml(
    'title: Plain title',
    'description: Plain description.',
    'owner: "@acme/data"',
    'instructions: |',
    '  RUN echo hello > /etc/hello',
    '  COPY start /usr/local/bin/start',
    '  WORKDIR /srv',
    'variables:',
    '  V1: one',
    '  V2: two',
    '  V3: three',
    '  TOKEN: { secret: true }',
    'username: worker',
  ),
  'environments/prop/start': { text: '#!/bin/sh\nexec sleep infinity\n', executable: true },
}, { config: cfg });
const errors = run.all.filter((p) => p.severity === 'error');
if (errors.length > 0) throw new Error(`fixture does not check: ${JSON.stringify(errors)}`);
const ENV = run.environments[0]!;

/** The checked environment with free text in every field that reaches the Dockerfile (check bypassed). */
function withFree(f: Free): CheckedEnvironment {
  return {
    ...ENV,
    file: f.file,
    spec: {
      ...ENV.spec,
      title: f.title,
      description: f.description,
      variables: { V1: f.values[0], V2: f.values[1], V3: f.values[2], TOKEN: { secret: true } },
    },
  };
}

const PLAIN: Free = { title: 'Plain title', description: 'Plain description.', values: ['one', 'two', 'three'], file: ENV.file };

function render(env: CheckedEnvironment): Rendered {
  return renderEnvironment(env, { config: cfg, all: new Map([[env.name, env]]), revision: { number: 7, commit: 'f'.repeat(40), created: '2024-01-01T00:00:00Z' } });
}

/** BuildKit's parser-directive pattern (moby/buildkit frontend/dockerfile/parser/directives.go). */
const BUILDKIT_DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;

/** dockerfile-ast on the Dockerfile exactly as written. */
const parseAsIs = (dockerfile: string) => DockerfileParser.parse(dockerfile);

/**
 * dockerfile-ast with BuildKit's directive rule. dockerfile-ast reads any first
 * line `# word … x=y` as a parser directive (several per line, then skips one
 * line per directive: the FROM can vanish); BuildKit needs `# name=value` with
 * nothing between name and "=", which `# Rendered by envctl from …` never is
 * (the properties assert that). A leading blank line ends directive parsing in
 * both, so this parse is what BuildKit sees.
 */
const parse = (dockerfile: string) => {
  const first = dockerfile.slice(0, dockerfile.indexOf('\n'));
  if (BUILDKIT_DIRECTIVE.test(first)) throw new Error(`BuildKit would read the header as a parser directive: ${JSON.stringify(first)}`);
  return DockerfileParser.parse(`\n${dockerfile}`);
};
const keywords = (dockerfile: string) => parse(dockerfile).getInstructions().map((i) => i.getKeyword());

/** ENV and LABEL instructions; the fixture's instructions hold none, so all are envctl's. */
function envAndLabels(dockerfile: string): Instruction[] {
  return parse(dockerfile).getInstructions().filter((i) => i.getKeyword() === 'ENV' || i.getKeyword() === 'LABEL');
}

type WithProperties = Instruction & { getProperties(): { getName(): string; getUnescapedValue(): string | null }[] };

/**
 * A double-quoted Dockerfile word as BuildKit's shell lexer reads it: inside
 * the quotes `\` escapes `"`, `$` and `\` and is kept before anything else.
 * Throws on what would be expanded or would end the word early.
 */
function readQuoted(raw: string): string {
  if (raw.length < 2 || !raw.startsWith('"') || !raw.endsWith('"')) throw new Error(`not one double-quoted word: ${JSON.stringify(raw)}`);
  let out = '';
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw[i]!;
    if (c === '\\') {
      const next = raw[i + 1];
      if (i + 1 >= raw.length - 1) throw new Error(`escape runs into the closing quote: ${JSON.stringify(raw)}`);
      if (next === '"' || next === '$' || next === '\\') {
        out += next;
        i++;
      } else out += c;
    } else if (c === '$') {
      throw new Error(`unescaped $ in ${JSON.stringify(raw)}`);
    } else if (c === '"') {
      throw new Error(`unescaped " in ${JSON.stringify(raw)}`);
    } else out += c;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

describe('render properties: free text cannot change the Dockerfile\'s structure', () => {
  const plain = render(withFree(PLAIN));
  const plainKeywords = keywords(plain.dockerfile);
  const plainComments = parse(plain.dockerfile).getComments().length;
  const plainNames = envAndLabels(plain.dockerfile).map((i) => (i as WithProperties).getProperties().map((p) => p.getName()));

  it('the plain rendering is what the properties compare against', () => {
    expect(plainKeywords).to.deep.equal(['FROM', 'ENV', 'ENV', 'ENV', 'RUN', 'COPY', 'WORKDIR', 'USER', 'LABEL']);
    expect(plainComments).to.equal(1);
    expect(plainNames).to.deep.equal([
      ['V1'], ['V2'], ['V3'],
      ['org.opencontainers.image.title', 'org.opencontainers.image.description', 'org.opencontainers.image.revision',
        'org.opencontainers.image.created', 'io.envctl.environment', 'io.envctl.revision'],
    ]);
  });

  it(`the same instruction keywords and comments as with plain ASCII values (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(free, (f) => {
      const r = render(withFree(f));
      const first = r.dockerfile.split('\n')[0]!;
      expect(first.startsWith('# Rendered by envctl from ')).to.equal(true);
      expect(BUILDKIT_DIRECTIVE.test(first), first).to.equal(false);
      const parsed = parse(r.dockerfile);
      expect(parsed.getInstructions().map((i) => i.getKeyword())).to.deep.equal(plainKeywords);
      expect(parsed.getComments().length).to.equal(plainComments);
      const skipped = (f.title === '' ? 1 : 0) + (oneLine(f.description).trim() === '' ? 1 : 0); // empty labels are left out
      expect(r.dockerfile.split('\n')).to.have.length(plain.dockerfile.split('\n').length - skipped);
      // As written, too, whenever the header holds no "=" (dockerfile-ast's directive quirk, above).
      if (!first.includes('=')) {
        const asIs = parseAsIs(r.dockerfile);
        expect(asIs.getInstructions().map((i) => i.getKeyword())).to.deep.equal(plainKeywords);
        expect(asIs.getDirectives()).to.have.length(0);
        expect(asIs.getComments().length).to.equal(plainComments);
      }
    }), { numRuns: NUM_RUNS });
  });

  it(`title, description and variable values alone never need the directive workaround (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(free, (f) => {
      const r = render(withFree({ ...f, file: PLAIN.file }));
      const asIs = parseAsIs(r.dockerfile);
      expect(asIs.getDirectives()).to.have.length(0);
      expect(asIs.getInstructions().map((i) => i.getKeyword())).to.deep.equal(plainKeywords);
      expect(asIs.getComments().length).to.equal(plainComments);
    }), { numRuns: NUM_RUNS });
  });

  it('dockerfile-ast quirk (not BuildKit): a header holding "=" is read as parser directives', () => {
    // Not reachable with real paths (envctl.yaml's `environments` and environment names allow no "=" or "#").
    for (const file of ['envs=prod/prop.yaml', '# escape=` #\\=']) {
      const r = render(withFree({ ...PLAIN, file }));
      const first = r.dockerfile.split('\n')[0]!;
      expect(BUILDKIT_DIRECTIVE.test(first), first).to.equal(false);
      expect(keywords(r.dockerfile)).to.deep.equal(plainKeywords);
      const asIs = parseAsIs(r.dockerfile);
      expect(asIs.getDirectives().length, 'dockerfile-ast directives').to.be.greaterThan(0);
      expect(asIs.getEscapeCharacter()).to.equal('\\');
    }
  });

  it(`ENV and LABEL values hold no variable reference and name the same keys (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(free, (f) => {
      const r = render(withFree(f));
      const written = envAndLabels(r.dockerfile);
      for (const ins of written) {
        expect(ins.getVariables().map((v) => v.getName()), ins.getTextContent()).to.deep.equal([]);
      }
      const names = written.map((i) => (i as WithProperties).getProperties().map((p) => p.getName()));
      // An empty title or description leaves its label out; nothing else may differ.
      const expected = plainNames.map((list) => list.filter((n) =>
        !(n === 'org.opencontainers.image.title' && f.title === '') &&
        !(n === 'org.opencontainers.image.description' && oneLine(f.description).trim() === '')));
      expect(names).to.deep.equal(expected);
    }), { numRuns: NUM_RUNS });
  });

  it(`ENV and LABEL values read back (as BuildKit reads quoted words) as the one-line text (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(free, (f) => {
      const r = render(withFree(f));
      const read = new Map<string, string>();
      for (const ins of envAndLabels(r.dockerfile)) {
        for (const p of (ins as WithProperties).getProperties()) read.set(p.getName(), readQuoted(p.getUnescapedValue() ?? ''));
      }
      f.values.forEach((v, i) => expect(read.get(`V${i + 1}`)).to.equal(oneLine(String(v))));
      if (f.title !== '') expect(read.get('org.opencontainers.image.title')).to.equal(oneLine(f.title));
      const points = Array.from(oneLine(f.description).trim());
      // Labels keep 500 code points at most; a longer description ends in an ellipsis.
      const description = points.length <= 500 ? points.join('') : `${points.slice(0, 499).join('')}…`;
      if (description !== '') expect(read.get('org.opencontainers.image.description')).to.equal(description);
      expect(read.get('io.envctl.environment')).to.equal('prop');
    }), { numRuns: NUM_RUNS });
  });

  it(`the content key does not depend on title or description (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(text, text, (title, description) => {
      const env = withFree({ ...PLAIN, title, description });
      expect(render(env).contentKey).to.equal(plain.contentKey);
    }), { numRuns: NUM_RUNS });
  });

  it(`the content key does depend on every variable value (${NUM_RUNS} runs)`, () => {
    fc.assert(fc.property(fc.tuple(value, value, value), (values) => {
      fc.pre(oneLine(String(values[0])) !== 'one');
      const env = withFree({ ...PLAIN, values: [values[0], 'two', 'three'] });
      expect(render(env).contentKey).not.to.equal(plain.contentKey);
    }), { numRuns: NUM_RUNS });
  });

  it('secret variables stay out of the Dockerfile whatever else is written', () => {
    fc.assert(fc.property(free, (f) => {
      const r = render(withFree(f));
      expect(r.dockerfile).not.to.match(/\bENV TOKEN\b/);
      expect(r.runSpec.variables.filter((v) => v.name === 'TOKEN')).to.deep.equal([{ name: 'TOKEN', secret: true }]);
    }), { numRuns: 100 });
  });
});

// ---------------------------------------------------------------------------
// escape.ts directly
// ---------------------------------------------------------------------------

describe('render/escape', () => {
  describe('dockerQuote', () => {
    it('escapes ", \\ and $ inside double quotes', () => {
      expect(dockerQuote('a"b\\c$d')).to.equal('"a\\"b\\\\c\\$d"');
    });

    it('turns line breaks (and runs of them) into one space', () => {
      expect(dockerQuote('line one\nline two\r\n\nline three\u2028four\u0085five')).to.equal('"line one line two line three four five"');
      expect(dockerQuote('\nRUN rm -rf /')).to.equal('" RUN rm -rf /"');
    });

    it('a trailing backslash cannot escape the closing quote or continue the line', () => {
      expect(dockerQuote('C:\\')).to.equal('"C:\\\\"');
      expect(dockerQuote('x\\\n')).to.equal('"x\\\\ "');
    });

    it('leaves other characters, Handlebars braces included, alone', () => {
      expect(dockerQuote("{{title}} `x` 'y' # 😀")).to.equal("\"{{title}} `x` 'y' # 😀\"");
      expect(dockerQuote('')).to.equal('""');
    });

    it(`always yields one double-quoted line BuildKit reads back as oneLine(value) (${NUM_RUNS} runs)`, () => {
      fc.assert(fc.property(text, (v) => {
        const q = dockerQuote(v);
        expect(q).not.to.match(/[\n\r\u2028\u2029\u0085]/);
        expect(readQuoted(q)).to.equal(oneLine(v));
      }), { numRuns: NUM_RUNS });
    });
  });

  describe('dockerComment and oneLine', () => {
    it('a comment cannot end its line', () => {
      expect(dockerComment('a\nRUN rm -rf /')).to.equal('a RUN rm -rf /');
      expect(dockerComment('a\r\n\u2029b')).to.equal('a b');
    });

    it('control characters become single spaces; other text is kept', () => {
      expect(oneLine('a\u0000\u0001\u001f\u007fb')).to.equal('a b');
      expect(oneLine('tab\there')).to.equal('tab here');
      expect(oneLine('ünïcødé 😀 $ " \\')).to.equal('ünïcødé 😀 $ " \\');
    });
  });

  describe('dockerWord', () => {
    it('passes image references and user names', () => {
      expect(dockerWord('registry.example.com:5000/team/img:1.2@sha256:abc', 'base image')).to.equal('registry.example.com:5000/team/img:1.2@sha256:abc');
      expect(dockerWord('worker_1', 'username')).to.equal('worker_1');
    });

    it('refuses anything with spaces, quotes, $ or line breaks', () => {
      for (const bad of ['', 'a b', 'a"b', '$x', 'a\nRUN x', 'root\\', 'é']) {
        expect(() => dockerWord(bad, 'username'), JSON.stringify(bad)).to.throw(/refusing to write username/);
      }
    });
  });
});
