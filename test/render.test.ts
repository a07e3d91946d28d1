/**
 * render: golden files for the shipped environments, determinism, what the
 * content key does and does not depend on, secrets, and the run spec.
 *
 * UPDATE_GOLDEN=1 npx mocha   rewrites test/golden/<name>/* instead of comparing.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CheckedEnvironment } from '../src/check/index.js';
import type { Config } from '../src/model/config.js';
import { renderEnvironment, type Rendered, type RevisionInfo } from '../src/render/index.js';
import { openRepository, validateRepository } from '../src/repository/index.js';
import { renderAll } from '../src/repository/render.js';
import { check, config, yaml, type Files } from './helpers.js';

/** dist/test/render.test.js → the repository root, whatever the cwd. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The source folder, not dist: goldens are checked in beside the tests. */
const GOLDEN = join(ROOT, 'test', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const runSpecText = (r: Rendered) => `${JSON.stringify(r.runSpec, null, 2)}\n`;
const keyText = (r: Rendered) => `${r.contentKey}\n`;

// ---------------------------------------------------------------------------
// Shipped environments: golden files
// ---------------------------------------------------------------------------

const repo = await openRepository(ROOT);
const validation = await validateRepository(repo, { offline: true });
const sources = await repo.sources();
const shipped = renderAll(validation.environments, repo.config);

describe('render: shipped environments', () => {
  it('the repository validates without errors (offline)', () => {
    const errors = validation.problems.filter((p) => p.severity === 'error');
    expect(errors, JSON.stringify(errors, null, 2)).to.deep.equal([]);
    expect(shipped.map((r) => r.name)).to.deep.equal(['jupyter-vscode', 'legacy-analytics', 'python-datascience', 'r-rstudio']);
  });

  describe(UPDATE ? 'golden files (UPDATE_GOLDEN=1: writing, not comparing)' : 'golden files', () => {
    for (const r of shipped) {
      it(`${r.name}: Dockerfile, run-spec.json and content-key ${UPDATE ? 'written to' : 'match'} test/golden/${r.name}/`, () => {
        const dir = join(GOLDEN, r.name);
        const files: [string, string][] = [['Dockerfile', r.dockerfile], ['run-spec.json', runSpecText(r)], ['content-key', keyText(r)]];
        if (UPDATE) {
          mkdirSync(dir, { recursive: true });
          for (const [name, text] of files) writeFileSync(join(dir, name), text);
          console.log(`      UPDATE_GOLDEN=1: wrote ${files.map(([n]) => join('test/golden', r.name, n)).join(', ')}`);
          return;
        }
        for (const [name, text] of files) {
          const path = join(dir, name);
          expect(existsSync(path), `${path} is missing; run UPDATE_GOLDEN=1 npx mocha to create it`).to.equal(true);
          expect(text, `${r.name}/${name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it)`).to.equal(readFileSync(path, 'utf8'));
        }
      });
    }

    it('there is no golden folder for an environment that no longer exists', function () {
      if (UPDATE || !existsSync(GOLDEN)) this.skip();
      expect(readdirSync(GOLDEN).sort()).to.deep.equal(shipped.map((r) => r.name).sort());
    });
  });

  it('the golden Dockerfiles keep secrets out and end with the labels', () => {
    const jupyter = shipped.find((r) => r.name === 'jupyter-vscode')!;
    expect(jupyter.dockerfile).not.to.include('WANDB_API_KEY');
    expect(jupyter.runSpec.variables).to.deep.include({ name: 'WANDB_API_KEY', secret: true });
    for (const r of shipped) {
      expect(r.dockerfile.startsWith(`# Rendered by envctl from ${sources.loaded.find((e) => e.name === r.name)!.file}.`)).to.equal(true);
      expect(r.dockerfile).to.match(/\nLABEL \\\n[^]*io\.envctl\.environment="[a-z-]+"\n$/);
      expect(r.contentKey).to.match(/^sha256:[0-9a-f]{64}$/);
    }
  });
});

// ---------------------------------------------------------------------------
// Determinism
// ---------------------------------------------------------------------------

describe('render: determinism', () => {
  it('rendering the same checked environments twice gives byte-identical output', () => {
    const again = renderAll(validation.environments, repo.config);
    expect(again.map((r) => [r.dockerfile, runSpecText(r), r.contentKey, r.from]))
      .to.deep.equal(shipped.map((r) => [r.dockerfile, runSpecText(r), r.contentKey, r.from]));
  });

  it('loading and checking the repository afresh renders the same bytes', async () => {
    const repo2 = await openRepository(ROOT);
    const v2 = await validateRepository(repo2, { offline: true });
    const again = renderAll(v2.environments, repo2.config);
    expect(again.map((r) => [r.name, r.dockerfile, runSpecText(r), r.contentKey]))
      .to.deep.equal(shipped.map((r) => [r.name, r.dockerfile, runSpecText(r), r.contentKey]));
  });

  it('in-memory environments render identically twice, with and without revision info', () => {
    const cfg = config();
    const env = only(demo(), cfg);
    const revision: RevisionInfo = { number: 3, commit: 'c'.repeat(40), created: '2024-05-01T12:00:00Z' };
    for (const extra of [{}, { revision }]) {
      const a = renderEnvironment(env, { config: cfg, all: new Map([[env.name, env]]), ...extra });
      const b = renderEnvironment(env, { config: cfg, all: new Map([[env.name, env]]), ...extra });
      expect(b.dockerfile).to.equal(a.dockerfile);
      expect(runSpecText(b)).to.equal(runSpecText(a));
      expect(b.contentKey).to.equal(a.contentKey);
    }
  });
});

// ---------------------------------------------------------------------------
// In-memory fixtures
// ---------------------------------------------------------------------------

interface Demo {
  title?: string;
  description?: string;
  owner?: string;
  visibility?: string;
  base?: string[];
  instructions?: string[];
  variables?: string[];
  scripts?: string[];
  toolTitle?: string;
  startScript?: string;
  executable?: boolean;
}

const SPEC = 'environments/demo/environment.yaml';

/** One folder environment `demo` with a COPY'd start script; every field can be varied. */
function demo(d: Demo = {}): Files {
  const block = (key: string, lines: string[] | undefined, fallback: string[]) => [`${key}:`, ...(lines ?? fallback).map((l) => `  ${l}`)];
  const start = d.startScript ?? '#!/bin/sh\nexec sleep infinity\n';
  return {
    [SPEC]: yaml(
      `title: ${JSON.stringify(d.title ?? 'Demo')}`,
      `description: ${JSON.stringify(d.description ?? 'A demo environment.')}`,
      `owner: ${JSON.stringify(d.owner ?? '@acme/data')}`,
      `visibility: ${d.visibility ?? 'organization'}`,
      ...(d.base ? ['base:', ...d.base.map((l) => `  ${l}`)] : ['base: default']),
      'instructions: |',
      ...(d.instructions ?? ['RUN echo hello > /etc/hello', 'COPY start /usr/local/bin/start']).map((l) => `  ${l}`),
      ...block('variables', d.variables, ['GREETING: hello', 'API_TOKEN: { secret: true, description: "SECRET-DESCRIPTION-MARKER" }']),
      ...block('scripts', d.scripts, ['preRun: echo pre-run']),
      'workspaceTools:',
      '  shell:',
      `    title: ${JSON.stringify(d.toolTitle ?? 'Shell')}`,
      '    start: ["/usr/local/bin/start"]',
    ),
    'environments/demo/start': (d.executable ?? true) ? { text: start, executable: true } : start,
  };
}

/** Check `files`; fail on any error; return the environments by name. */
function checked(files: Files, cfg: Config = config()): Map<string, CheckedEnvironment> {
  const run = check(files, { config: cfg });
  const errors = run.all.filter((p) => p.severity === 'error');
  expect(errors, JSON.stringify(errors, null, 2)).to.deep.equal([]);
  return new Map(run.environments.map((e) => [e.name, e]));
}

function only(files: Files, cfg: Config = config()): CheckedEnvironment {
  const all = checked(files, cfg);
  expect(all.size).to.equal(1);
  return [...all.values()][0]!;
}

function renderDemo(files: Files, opts: { config?: Config; revision?: RevisionInfo; name?: string } = {}): Rendered {
  const cfg = opts.config ?? config();
  const all = checked(files, cfg);
  const env = all.get(opts.name ?? 'demo');
  expect(env, `environment ${opts.name ?? 'demo'}`).not.to.equal(undefined);
  return renderEnvironment(env!, { config: cfg, all, ...(opts.revision ? { revision: opts.revision } : {}) });
}

const keyOf = (files: Files, opts: { config?: Config; revision?: RevisionInfo } = {}) => renderDemo(files, opts).contentKey;

// ---------------------------------------------------------------------------
// Content key
// ---------------------------------------------------------------------------

describe('render: content key', () => {
  const baseline = keyOf(demo());

  describe('unchanged by what is not a build input', () => {
    const same: [string, Demo][] = [
      ['title', { title: 'Another title entirely' }],
      ['description', { description: 'Rewritten description, with "quotes" and $DOLLARS.' }],
      ['owner', { owner: 'someone-else' }],
      ['visibility', { visibility: 'private' }],
      ['scripts', { scripts: ['preSetup: mkdir -p /mnt/x', 'postSetup: echo post', 'preRun: echo other', 'postRun: echo bye'] }],
      ['workspaceTools', { toolTitle: 'A differently named shell' }],
    ];
    for (const [what, change] of same) {
      it(`${what}`, () => {
        expect(keyOf(demo(change))).to.equal(baseline);
      });
    }

    it('title and description still reach the labels (so the test above is not vacuous)', () => {
      const r = renderDemo(demo({ title: 'Another title entirely', description: 'Rewritten.' }));
      expect(r.dockerfile).to.include('org.opencontainers.image.title="Another title entirely"');
      expect(r.dockerfile).to.include('org.opencontainers.image.description="Rewritten."');
      expect(r.dockerfile).not.to.equal(renderDemo(demo()).dockerfile);
    });

    it('revision number, commit and created time', () => {
      const r1: RevisionInfo = { number: 1, commit: 'a'.repeat(40), created: '2024-01-01T00:00:00Z' };
      const r2: RevisionInfo = { number: 42, commit: 'b'.repeat(40), created: '2025-06-30T23:59:59Z' };
      const r3: RevisionInfo = { number: 42, commit: 'b'.repeat(40) };
      const one = renderDemo(demo(), { revision: r1 });
      const two = renderDemo(demo(), { revision: r2 });
      const three = renderDemo(demo(), { revision: r3 });
      expect(one.contentKey).to.equal(baseline);
      expect(two.contentKey).to.equal(baseline);
      expect(three.contentKey).to.equal(baseline);
      // The revision does reach the Dockerfile, in the labels only.
      expect(one.dockerfile).to.include(`org.opencontainers.image.revision="${'a'.repeat(40)}"`);
      expect(one.dockerfile).to.include('org.opencontainers.image.created="2024-01-01T00:00:00Z"');
      expect(one.dockerfile).to.include('io.envctl.revision="1"');
      expect(two.dockerfile).to.include('io.envctl.revision="42"');
      expect(three.dockerfile).not.to.include('org.opencontainers.image.created');
      expect(one.runSpec.revision).to.equal(1);
      expect(two.runSpec.revision).to.equal(42);
    });
  });

  describe('changed by every build input', () => {
    const different: [string, Demo][] = [
      ['instructions', { instructions: ['RUN echo goodbye > /etc/hello', 'COPY start /usr/local/bin/start'] }],
      ['an instruction added', { instructions: ['RUN echo hello > /etc/hello', 'COPY start /usr/local/bin/start', 'WORKDIR /tmp'] }],
      ['a variable value', { variables: ['GREETING: goodbye', 'API_TOKEN: { secret: true, description: "SECRET-DESCRIPTION-MARKER" }'] }],
      ['a variable added', { variables: ['GREETING: hello', 'EXTRA: "1"', 'API_TOKEN: { secret: true }'] }],
      ['a build-context file\'s bytes', { startScript: '#!/bin/sh\nexec sleep 3600\n' }],
      ['a build-context file\'s executable bit', { executable: false }],
      ['the base (another image)', { base: ['image: docker.io/library/debian:bookworm'] }],
    ];
    for (const [what, change] of different) {
      it(what, () => {
        expect(keyOf(demo(change))).not.to.equal(baseline);
      });
    }

    it('a build-context file added', () => {
      expect(keyOf({ ...demo(), 'environments/demo/README.md': 'notes\n' })).not.to.equal(baseline);
    });

    it('the base (default image configured differently)', () => {
      const cfg = config({ defaultBase: { image: 'registry.example.com/debian:trixie' } });
      expect(keyOf(demo(), { config: cfg })).not.to.equal(baseline);
    });

    it('the base (a base environment resolved to a different revision)', () => {
      const files = (revision: string) => ({
        ...demo(),
        'environments/child.yaml': yaml('owner: "@acme/data"', 'base:', '  environment: demo', `  revision: ${revision}`, 'instructions: |', '  RUN true'),
      });
      const cfg = config();
      const a = renderDemo(files('active'), { config: cfg, name: 'child' });
      const b = renderDemo(files('3'), { config: cfg, name: 'child' });
      expect(a.from).to.equal(`${cfg.registry.address}/envctl/demo:active`);
      expect(b.from).to.equal(`${cfg.registry.address}/envctl/demo:3`);
      expect(a.contentKey).not.to.equal(b.contentKey);
    });

    it('config.platform', () => {
      expect(keyOf(demo(), { config: config({ platform: 'linux/arm64' }) })).not.to.equal(baseline);
    });

    it('the username', () => {
      const cfg = config({ policy: { administratorFields: ['*'] } });
      const files = demo();
      const withUser = { ...files, [SPEC]: `${files[SPEC] as string}username: alice\n` };
      expect(keyOf(withUser, { config: cfg })).not.to.equal(keyOf(files, { config: cfg }));
    });
  });
});

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

describe('render: secret variables', () => {
  const cfg = config({ policy: { administratorFields: ['*'] } });
  const files: Files = {
    'environments/root.yaml': yaml(
      'owner: "@acme/data"',
      'instructions: |',
      '  RUN true',
      'variables:',
      '  PLAIN_ROOT: visible',
      '  ROOT_PASSWORD: { secret: true, description: "ROOT-SECRET-DESCRIPTION" }',
    ),
    'environments/leaf.yaml': yaml(
      'owner: "@acme/data"',
      'base:',
      '  environment: root',
      'instructions: |',
      '  RUN true',
      'variables:',
      '  PLAIN_LEAF: shown',
      '  DB_TOKEN: { secret: true, description: "LEAF-SECRET-DESCRIPTION" }',
    ),
  };

  for (const name of ['root', 'leaf']) {
    it(`${name}: secrets are not in the Dockerfile, and only named in the run spec`, () => {
      const r = renderDemo(files, { config: cfg, name });
      const json = JSON.stringify(r.runSpec);
      const secrets = name === 'root' ? ['ROOT_PASSWORD'] : ['ROOT_PASSWORD', 'DB_TOKEN'];
      for (const s of secrets) {
        expect(r.dockerfile).not.to.include(s);
        const mentions = json.split(`"${s}"`).length - 1;
        expect(mentions, `${s} appears once in the run spec`).to.equal(1);
        expect(r.runSpec.variables).to.deep.include({ name: s, secret: true });
      }
      for (const marker of ['ROOT-SECRET-DESCRIPTION', 'LEAF-SECRET-DESCRIPTION']) {
        expect(r.dockerfile).not.to.include(marker);
        expect(json).not.to.include(marker);
      }
      for (const v of r.runSpec.variables) {
        if ('secret' in v) expect(Object.keys(v).sort()).to.deep.equal(['name', 'secret']);
      }
    });
  }

  it('a plain variable still reaches the Dockerfile as ENV', () => {
    const r = renderDemo(files, { config: cfg, name: 'leaf' });
    expect(r.dockerfile).to.include('ENV PLAIN_LEAF="shown"\n');
  });
});

// ---------------------------------------------------------------------------
// Run spec
// ---------------------------------------------------------------------------

describe('render: run spec', () => {
  const cfg = config({ policy: { administratorFields: ['*'] } });
  const chainFiles: Files = {
    'environments/root.yaml': yaml(
      'owner: "@acme/data"',
      'instructions: |',
      '  RUN true',
      'dockerArguments: ["--shm-size=1g", "--ulimit", "nofile=4096"]',
      'username: alice',
      'variables:',
      '  A: root-a',
      '  B: root-b',
      '  S: { secret: true }',
      'workspaceTools:',
      '  shell:',
      '    title: Root shell',
      '    start: ["/bin/sh"]',
    ),
    'environments/mid.yaml': yaml(
      'owner: "@acme/data"',
      'base:',
      '  environment: root',
      'instructions: |',
      '  RUN true',
      'dockerArguments: ["--memory=4g"]',
      'variables:',
      '  B: mid-b',
      '  C: mid-c',
      '  S: not-secret-in-mid',
    ),
    'environments/leaf.yaml': yaml(
      'owner: "@acme/data"',
      'base:',
      '  environment: mid',
      'instructions: |',
      '  RUN true',
      'dockerArguments: ["--cpus=2"]',
      'variables:',
      '  C: leaf-c',
      '  D: leaf-d',
      '  S: { secret: true }',
      'scripts:',
      '  postRun: echo post-run',
      '  preRun: echo pre-run',
      '  postSetup: echo post-setup',
      '  preSetup: echo pre-setup',
      'workspaceTools:',
      '  editor:',
      '    title: Editor',
      '    start: ["/usr/bin/editor"]',
    ),
  };

  it('lifecycle: preSetup, requirements, postSetup, preRun, command; postRun on stop', () => {
    const r = renderDemo(chainFiles, { config: cfg, name: 'leaf' });
    expect(r.runSpec.lifecycle.start).to.deep.equal([
      { step: 'preSetup', script: 'echo pre-setup' },
      { step: 'requirements', file: 'requirements.txt' },
      { step: 'postSetup', script: 'echo post-setup' },
      { step: 'preRun', script: 'echo pre-run' },
      { step: 'command' },
    ]);
    expect(r.runSpec.lifecycle.stop).to.deep.equal([{ step: 'postRun', script: 'echo post-run' }]);
  });

  it('lifecycle without scripts: requirements then command; nothing on stop', () => {
    const r = renderDemo(chainFiles, { config: cfg, name: 'root' });
    expect(r.runSpec.lifecycle).to.deep.equal({ start: [{ step: 'requirements', file: 'requirements.txt' }, { step: 'command' }], stop: [] });
  });

  it('lifecycle with some scripts keeps the order and leaves the others out', () => {
    const r = renderDemo(demo({ scripts: ['preRun: echo b', 'preSetup: echo a'] }));
    expect(r.runSpec.lifecycle.start.map((s) => s.step)).to.deep.equal(['preSetup', 'requirements', 'preRun', 'command']);
    expect(r.runSpec.lifecycle.stop).to.deep.equal([]);
  });

  it('docker arguments: inherited ones first, farthest base first, then the environment\'s own', () => {
    const leaf = renderDemo(chainFiles, { config: cfg, name: 'leaf' }).runSpec;
    expect(leaf.inheritedDockerArguments).to.deep.equal(['--shm-size=1g', '--ulimit', 'nofile=4096', '--memory=4g']);
    expect(leaf.dockerArguments).to.deep.equal(['--shm-size=1g', '--ulimit', 'nofile=4096', '--memory=4g', '--cpus=2']);
    const mid = renderDemo(chainFiles, { config: cfg, name: 'mid' }).runSpec;
    expect(mid.inheritedDockerArguments).to.deep.equal(['--shm-size=1g', '--ulimit', 'nofile=4096']);
    expect(mid.dockerArguments).to.deep.equal(['--shm-size=1g', '--ulimit', 'nofile=4096', '--memory=4g']);
    const root = renderDemo(chainFiles, { config: cfg, name: 'root' }).runSpec;
    expect(root.inheritedDockerArguments).to.deep.equal([]);
    expect(root.dockerArguments).to.deep.equal(['--shm-size=1g', '--ulimit', 'nofile=4096']);
  });

  it('variables: merged along the chain, the nearest definition winning', () => {
    const leaf = renderDemo(chainFiles, { config: cfg, name: 'leaf' }).runSpec;
    expect(leaf.variables).to.deep.equal([
      { name: 'A', value: 'root-a' },
      { name: 'B', value: 'mid-b' },
      { name: 'S', secret: true },
      { name: 'C', value: 'leaf-c' },
      { name: 'D', value: 'leaf-d' },
    ]);
    const mid = renderDemo(chainFiles, { config: cfg, name: 'mid' }).runSpec;
    expect(mid.variables).to.deep.equal([
      { name: 'A', value: 'root-a' },
      { name: 'B', value: 'mid-b' },
      { name: 'S', value: 'not-secret-in-mid' },
      { name: 'C', value: 'mid-c' },
    ]);
  });

  it('username and workspace tools are inherited; the image is a placeholder before a build', () => {
    const leaf = renderDemo(chainFiles, { config: cfg, name: 'leaf' });
    expect(leaf.runSpec.username).to.equal('alice');
    expect(Object.keys(leaf.runSpec.workspaceTools).sort()).to.deep.equal(['editor', 'shell']);
    expect(leaf.runSpec.environment).to.equal('leaf');
    expect(leaf.runSpec.image).to.equal('{{image}}');
    expect(leaf.runSpec.revision).to.equal(null);
    expect(leaf.from).to.equal(`${cfg.registry.address}/envctl/mid:active`);
    // The leaf's own Dockerfile writes only its own variables; the rest come with the base image.
    expect(leaf.dockerfile).to.include('ENV C="leaf-c"\nENV D="leaf-d"\n');
    expect(leaf.dockerfile).not.to.include('ENV A=');
  });
});

describe('render: description label', () => {
  it('cuts a long description at a code point, never inside a surrogate pair', () => {
    const r = check({ 'environments/a.yaml': `owner: a\ndescription: "${'a'.repeat(499)}😀😀"\n` });
    const env = r.environments[0]!;
    const out = renderEnvironment(env, { config: config(), all: new Map([[env.name, env]]) });
    const line = out.dockerfile.split('\n').find((l) => l.includes('image.description'))!;
    expect(line).to.contain(`${'a'.repeat(499)}…"`);
    expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(out.dockerfile)).to.equal(false);
  });
});
