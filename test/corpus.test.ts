/**
 * corpus: real public Dockerfiles (test/corpus/<case>/source.Dockerfile, each
 * named in its SOURCE.md) converted as a user would into environment.yaml.
 * Each case validates with exactly its expected problems (expected.json),
 * renders the source's instructions of every stage in the same order (the
 * stages by name, the `# syntax=` line first), and counts the final stage's
 * own layers (RUN/COPY/ADD) and, where the base's layers are known, the total.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseOf, stageChain } from '../src/model/spec.js';
import { renderEnvironment } from '../src/render/index.js';
import { check, config, type Files } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'corpus');
const NOT_CONTEXT = new Set(['SOURCE.md', 'expected.json', 'source.Dockerfile']);

/** Layer counts of the base images, as their registries' manifests give them (undefined: unknown, the warning is expected). */
const IMAGE_LAYERS = new Map<string, number>([
  ['docker.io/library/ubuntu:jammy', 1],
  ['docker.io/library/ubuntu:noble', 1],
  ['ubuntu:noble', 1],
  ['ubuntu:24.04', 1],
  ['ubuntu:18.04', 1],
  ['ubuntu:16.04', 1],
]);

interface Expected {
  /** "rule line:col" of every problem, in order. */
  problems: string[];
  /** Source lines (1-based) of instructions after the final FROM left out of the case (see GAPS.md). */
  omitted?: number[];
  builder?: 'auto' | 'buildah' | 'docker';
  /** Source stages the case joins with the stage after them (that stage's `FROM <name>` dropped); no case needs it since the final image can stand on a stage. */
  joined?: string[];
  /** Free text: problems whose expectation may change with work merged in parallel. */
  note?: string;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

interface Instruction { line: number; text: string }

/** A Dockerfile's instructions as docker reads them: comments dropped, continuations joined, heredoc bodies kept, whitespace normalised. */
export function instructionsOf(text: string): Instruction[] {
  const lines = text.split('\n');
  const out: Instruction[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i]!;
    if (first.trim() === '' || /^\s*#/.test(first)) { i++; continue; }
    const start = i + 1;
    const parts: string[] = [];
    let cur = first;
    for (;;) {
      const cont = /\\\s*$/.test(cur);
      parts.push(cont ? cur.replace(/\\\s*$/, '') : cur);
      i++;
      if (!cont) break;
      while (i < lines.length && (/^\s*#/.test(lines[i]!) || lines[i]!.trim() === '')) i++;
      if (i >= lines.length) break;
      cur = lines[i]!;
    }
    let joined = parts.join(' ');
    const heredoc = /<<-?\s*["']?(\w+)["']?/.exec(joined);
    if (heredoc) {
      const body: string[] = [];
      while (i < lines.length && lines[i]!.trim() !== heredoc[1]) body.push(lines[i++]!);
      i++;
      joined += ` ${body.join(' ')} ${heredoc[1]}`;
    }
    out.push({ line: start, text: joined.trim().replace(/\s+/g, ' ').replace(/^(\S+)/, (k) => k.toUpperCase()) });
  }
  return out;
}

const isLayer = (t: string) => /^(RUN|COPY|ADD)\s/.test(t);

interface Stage { name: string | undefined; instructions: string[] }

/** The stages of a Dockerfile's instruction list: each FROM starts one, named by its `AS name`; what is before the first FROM is not a stage. */
function stagesOf(list: string[]): Stage[] {
  const out: Stage[] = [];
  for (const text of list) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(text);
    if (from) out.push({ name: from[1], instructions: [] });
    else out[out.length - 1]?.instructions.push(text);
  }
  return out;
}

/** Each stage named in `joined` and the stage after it as one, named as the later one. */
function joinStages(stages: Stage[], joined: string[]): Stage[] {
  const out: Stage[] = [];
  for (const st of stages) {
    const prev = out[out.length - 1];
    if (prev?.name !== undefined && joined.includes(prev.name)) out[out.length - 1] = { name: st.name, instructions: [...prev.instructions, ...st.instructions] };
    else out.push({ name: st.name, instructions: [...st.instructions] });
  }
  return out;
}

/** The `# syntax=` directive on a Dockerfile's first lines (parser directives come before anything else). */
const syntaxOf = (text: string) => /^(?:#[^\n]*\n|\s*\n)*?#\s*syntax\s*=\s*(\S+)/i.exec(text)?.[1];

const cases = readdirSync(root).filter((n) => statSync(join(root, n)).isDirectory()).sort();

describe('corpus: real public Dockerfiles converted to environments', () => {
  it('holds 20 or more cases from 6 or more projects, each naming its source', () => {
    expect(cases.length).to.be.at.least(20);
    const repos = new Set(cases.map((c) => /Repository: https:\/\/github\.com\/([\w.-]+)\//.exec(readFileSync(join(root, c, 'SOURCE.md'), 'utf8'))?.[1]));
    expect([...repos].filter(Boolean).length).to.be.at.least(6);
  });

  for (const name of cases) {
    describe(name, () => {
      const dir = join(root, name);
      const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
      const files: Files = {};
      for (const path of walk(dir)) {
        const rel = relative(dir, path);
        if (NOT_CONTEXT.has(rel)) continue;
        files[`environments/${name}/${rel}`] = readFileSync(path, 'utf8');
      }
      const cfg = config(expected.builder ? { builder: expected.builder } : {});
      const run = check(files, { config: cfg, imageLayers: IMAGE_LAYERS });
      const source = readFileSync(join(dir, 'source.Dockerfile'), 'utf8');
      const all = instructionsOf(source);
      const lastFrom = all.map((x) => /^FROM\s/.test(x.text)).lastIndexOf(true);
      // Source stages: instructions from each FROM on, the case's omitted lines left out.
      const sourceStages = joinStages(stagesOf(all.filter((x) => !(expected.omitted ?? []).includes(x.line)).map((x) => x.text)), expected.joined ?? []);
      const kept = sourceStages[sourceStages.length - 1]!.instructions;
      const final = () => run.environments.find((e) => e.name === name);

      it('validates with exactly the expected problems', () => {
        expect(run.all.map((p) => `${p.rule} ${p.line}:${p.col}`)).to.deep.equal(expected.problems);
      });

      it('renders the source instructions of every stage, in order, and its # syntax= line first', () => {
        const env = final();
        expect(env, 'checked').to.not.equal(undefined);
        const rendered = renderEnvironment(env!, { config: cfg, all: new Map([[name, env!]]) });
        expect(syntaxOf(rendered.dockerfile), 'syntax directive').to.equal(syntaxOf(source));
        if (syntaxOf(source) !== undefined) expect(rendered.dockerfile.split('\n')[0]).to.match(/^# syntax=/);
        const got = instructionsOf(rendered.dockerfile).map((x) => x.text);
        expect(got[0]).to.match(/^FROM /);
        expect(got[got.length - 1]).to.match(/^LABEL /);
        // envctl declares each build argument after every FROM (the source declared them before the first): taken off, then compared.
        const declared = Object.keys(env!.spec.buildArgs ?? {}).sort().map((a) => `ARG ${a}`);
        const stages = stagesOf(got.slice(0, -1));
        expect(stages.map((st) => st.name)).to.deep.equal([...(env!.spec.stages ?? []).map((st) => st.name), undefined]);
        expect(stages.length, 'stages').to.equal(sourceStages.length);
        stages.forEach((st, i) => {
          expect(st.instructions.slice(0, declared.length), `${st.name ?? 'final'} declares the build arguments`).to.deep.equal(declared);
          expect(st.instructions.slice(declared.length), `stage ${st.name ?? 'final'}`).to.deep.equal(sourceStages[i]!.instructions);
        });
        // Named stages keep the source's names; the final stage is never named (its name would be unused).
        sourceStages.slice(0, -1).forEach((st, i) => expect(stages[i]!.name, `stage ${i}`).to.equal(st.name));
      });

      it('counts the final stage\'s own layers, and the total where the base is known', () => {
        const env = final()!;
        expect(lastFrom).to.be.at.least(0);
        const own = kept.filter(isLayer).length;
        expect(env.layers.own).to.equal(own);
        // What the image stands on: its base image, or through the stages it stands on (their layers are in it).
        const resolved = baseOf(env.spec);
        const image = resolved.kind === 'image' ? resolved.image : '';
        const onStages = (stageChain(env.spec) ?? []).reduce((n, i) => n + sourceStages[i]!.instructions.filter(isLayer).length, 0);
        const base = IMAGE_LAYERS.get(image);
        expect(env.layers.total).to.equal(base === undefined ? undefined : base + onStages + own);
        expect(env.layers.atLeast).to.be.at.least(own + onStages);
      });
    });
  }
});
