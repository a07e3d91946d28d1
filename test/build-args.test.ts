/**
 * Build arguments and parser directives: the schema, the base image read
 * with them, `arg-no-value`, `# syntax=` moved to the first line and
 * `# escape=` refused, the content key, and the builders' argv.
 */
import { expect } from 'chai';
import { buildahArgs } from '../src/builder/buildah.js';
import { dockerBuildxArgs } from '../src/builder/docker.js';
import { substituteArgs } from '../src/model/build-args.js';
import { renderEnvironment } from '../src/render/index.js';
import { byRule, check, config, yaml, type Files } from './helpers.js';

const env = (...lines: string[]): Files => ({ 'environments/a.yaml': yaml('owner: alice', ...lines) });
/** Layer counts for the references the tests resolve to: a lookup of any other reference warns. */
const imageLayers = new Map([['python:3.12-slim', 3], ['python:3.11', 3], ['docker.io/library/busybox:1.36', 1]]);
const renderOf = (files: Files) => {
  const run = check(files, { imageLayers });
  const all = new Map(run.environments.map((e) => [e.name, e]));
  return { run, r: renderEnvironment(run.environments[0]!, { config: config(), all }) };
};
const at = (run: ReturnType<typeof check>, rule: string) => byRule(run, rule).map((p) => `${p.line}:${p.col} ${p.severity}`);

describe('build arguments: schema', () => {
  it('takes string values under ARG names', () => {
    const run = check(env('buildArgs:', '  PYTHON_VERSION: "3.12"', '  _x1: ""'));
    expect(run.all).to.deep.equal([]);
  });

  it('refuses a name an ARG cannot have and a value that is no string', () => {
    const run = check(env('buildArgs:', '  1X: a', '  OK: 3'));
    const rules = run.all.map((p) => `${p.line} ${p.severity}`);
    expect(rules).to.include('3 error');
    expect(rules).to.include('4 error');
    expect(run.environments).to.have.length(0);
  });
});

describe('build arguments: substitution (the forms docker documents for FROM)', () => {
  it('reads $X, ${X}, ${X:-word} and ${X:+word}', () => {
    expect(substituteArgs('a:$V-${V}', { V: '1' }).value).to.equal('a:1-1');
    expect(substituteArgs('a:${V:-2}', {}).value).to.equal('a:2');
    expect(substituteArgs('a:${V:-2}', { V: '' }).value).to.equal('a:2');
    expect(substituteArgs('a:${V:-2}', { V: '3' }).value).to.equal('a:3');
    expect(substituteArgs('a:1${V:+-slim}', { V: 'y' }).value).to.equal('a:1-slim');
    expect(substituteArgs('a:1${V:+-slim}', {}).value).to.equal('a:1');
  });

  it('names what has no value and what it cannot read', () => {
    expect(substituteArgs('$A/${B}:${C:-1}', {})).to.deep.include({ missing: ['A', 'B'], used: ['A', 'B', 'C'] });
    expect(substituteArgs('a:${V%x}', { V: '1' }).unsupported).to.equal('${V%x}');
  });
});

describe('build arguments: the base image', () => {
  it('renders the resolved reference in FROM, and the pin warning sees it', () => {
    const { run, r } = renderOf(env('base:', '  image: "python:${PYTHON_VERSION}-slim"', 'buildArgs:', '  PYTHON_VERSION: "3.12"'));
    expect(run.all).to.deep.equal([]);
    expect(r.from).to.equal('python:3.12-slim');
    expect(r.dockerfile).to.contain('FROM python:3.12-slim\nARG PYTHON_VERSION\n');
    const unpinned = check(env('base:', '  image: "$IMG"', 'buildArgs:', '  IMG: python'));
    expect(at(unpinned, 'base-image-unpinned')).to.deep.equal(['3:10 warning']);
  });

  it('errors at the reference when a used argument has no value, and says nothing of pinning then', () => {
    const run = check(env('base:', '  image: "$IMG"'));
    expect(at(run, 'base-arg-no-value')).to.deep.equal(['3:10 error']);
    expect(byRule(run, 'base-arg-no-value')[0]!.message).to.contain('${IMG}');
    expect(byRule(run, 'base-image-unpinned')).to.deep.equal([]);
  });

  it('errors when the result is no image reference or a form is not read', () => {
    expect(at(check(env('base:', '  image: "python:${V}"', 'buildArgs:', '  V: "a b"')), 'base-image-invalid')).to.deep.equal(['3:10 error']);
    expect(at(check(env('base:', '  image: "python:${V%x}"', 'buildArgs:', '  V: "1"')), 'base-arg-unsupported')).to.deep.equal(['3:10 error']);
  });

  it('the layer lookup sees the resolved reference', () => {
    const run = check(env('base:', '  image: "python:${V}-slim"', 'buildArgs:', '  V: "3.12"'), { imageLayers });
    expect(run.environments[0]!.layers.base).to.equal(3);
  });

  it('a default covers a missing argument', () => {
    const { run, r } = renderOf(env('base:', '  image: "python:${V:-3.11}"'));
    expect(run.all).to.deep.equal([]);
    expect(r.from).to.equal('python:3.11');
  });
});

describe('build arguments: ARG without a value', () => {
  it('warns at the ARG line when neither a default nor buildArgs gives one', () => {
    const run = check(env('instructions: |', '  ARG A', '  ARG B=1 C', '  ARG D="x y" E', '  RUN echo "$A"'));
    expect(byRule(run, 'arg-no-value').map((p) => `${p.line}:${p.col} ${/ARG (\w+)/.exec(p.message)![1]}`))
      .to.deep.equal(['3:3 A', '4:3 C', '5:3 E']);
  });

  it('is quiet for buildArgs, variables, defaults (even empty) and what the builders fill in', () => {
    const run = check(env('buildArgs:', '  A: "1"', 'variables:', '  V: x',
      'instructions: |', '  ARG A', '  ARG V', '  ARG E=', '  ARG TARGETARCH', '  ARG http_proxy', '  ARG BUILDKIT_INLINE_CACHE', '  ARG Q="a b c"'));
    expect(byRule(run, 'arg-no-value')).to.deep.equal([]);
  });
});

describe('parser directives', () => {
  it('moves `# syntax=` to the rendered first line, out of the block', () => {
    const { run, r } = renderOf(env('instructions: |', '  # syntax=docker/dockerfile:1.7', '  RUN echo hi'));
    expect(run.all).to.deep.equal([]);
    const lines = r.dockerfile.split('\n');
    expect(lines[0]).to.equal('# syntax=docker/dockerfile:1.7');
    expect(lines[1]).to.match(/^# Rendered by envctl/);
    expect(r.dockerfile.match(/syntax=/g)).to.have.length(1);
    expect(r.dockerfile).to.contain('RUN echo hi');
  });

  it('the directive is in the key (it picks the frontend)', () => {
    const plain = renderOf(env('instructions: |', '  RUN echo hi')).r.contentKey;
    const other = renderOf(env('instructions: |', '  # syntax=docker/dockerfile:1.6', '  RUN echo hi')).r.contentKey;
    const seven = renderOf(env('instructions: |', '  # syntax=docker/dockerfile:1.7', '  RUN echo hi')).r.contentKey;
    expect(new Set([plain, other, seven]).size).to.equal(3);
  });

  it('a comment first, or a blank line first, makes it an ordinary comment, left where it is', () => {
    const { r } = renderOf(env('instructions: |', '  # hello', '  # syntax=docker/dockerfile:1.7', '  RUN echo hi'));
    expect(r.dockerfile.split('\n')[0]).to.match(/^# Rendered by envctl/);
    expect(r.dockerfile).to.contain('# hello\n# syntax=docker/dockerfile:1.7\nRUN echo hi');
  });

  it('refuses a syntax value that is no image reference, a second one, and `# escape=`', () => {
    expect(at(check(env('instructions: |', '  # syntax=a b', '  RUN x')), 'syntax-invalid')).to.deep.equal(['3:12 error']);
    expect(at(check(env('instructions: |', '  #syntax = x:1', '  # SYNTAX=y:1', '  RUN x')), 'syntax-repeated')).to.deep.equal(['4:12 error']);
    expect(at(check(env('instructions: |', '  # syntax=x:1', '  # escape=`', '  RUN x')), 'directive-escape')).to.deep.equal(['4:3 error']);
    expect(byRule(check(env('instructions: |', '  RUN x', '  # escape=`')), 'directive-escape')).to.deep.equal([]);
  });
});

describe('build arguments: the content key', () => {
  const plain = env('instructions: |', '  RUN echo "$A"');
  it('a spec without buildArgs keys as before (the key has no buildArgs field then)', () => {
    const { r } = renderOf(plain);
    const empty = renderOf(env('buildArgs: {}', 'instructions: |', '  RUN echo "$A"')).r;
    expect(empty.contentKey).to.equal(r.contentKey);
    expect(empty.dockerfile).to.equal(r.dockerfile);
  });

  it('changes with a value, though the Dockerfile holds only the name', () => {
    const one = renderOf(env('buildArgs:', '  A: "1"', 'instructions: |', '  RUN echo "$A"')).r;
    const two = renderOf(env('buildArgs:', '  A: "2"', 'instructions: |', '  RUN echo "$A"')).r;
    expect(one.dockerfile).to.equal(two.dockerfile);
    expect(one.dockerfile).to.not.contain('"1"');
    expect(one.contentKey).to.not.equal(two.contentKey);
    expect(one.contentKey).to.not.equal(renderOf(plain).r.contentKey);
  });
});

describe('build arguments: the builders', () => {
  const req = {
    contextDir: '/b/context', dockerfile: '/b/Dockerfile', tag: 'reg:5000/a:1', platform: 'linux/amd64',
    insecure: true, logFile: '/b/log', buildArgs: { B: 'two words; $(x)', A: '--flag=1' },
  };
  const pairs = ['--build-arg', 'A=--flag=1', '--build-arg', 'B=two words; $(x)'];
  const hasRun = (argv: string[], run: string[]) => argv.some((_, i) => run.every((w, j) => argv[i + j] === w));

  it('buildah bud gets --build-arg NAME=VALUE items, sorted, before the context', () => {
    const bud = buildahArgs(req, '/d', { storage: 'vfs', root: true }).bud;
    expect(hasRun(bud, pairs)).to.equal(true);
    expect(bud[bud.length - 1]).to.equal('/b/context');
    expect(buildahArgs({ ...req, buildArgs: undefined } as never, '/d', { storage: 'vfs', root: true }).bud).to.not.include('--build-arg');
  });

  it('docker buildx build gets the same', () => {
    const argv = dockerBuildxArgs(req, '/m');
    expect(hasRun(argv, pairs)).to.equal(true);
    expect(argv[argv.length - 1]).to.equal('/b/context');
  });
});

describe('build arguments: a value referring to earlier ones (ARG B=$A before FROM)', () => {
  const jupyter = (...extra: string[]) => env('base:', '  image: "${BASE_IMAGE}"', 'buildArgs:', '  REGISTRY: quay.io', '  OWNER: jupyter',
    '  BASE_IMAGE: "$REGISTRY/${OWNER}/base-notebook:2024-01-01"', ...extra);

  it('substitutes in declaration order, both forms, defaults and `\\$`', async () => {
    const { resolveBuildArgs } = await import('../src/model/build-args.js');
    expect(resolveBuildArgs({ A: 'a', B: '$A-${A}', C: '${B}/${X:-x}${A:+y}', D: 'p\\$A' })).to.deep.equal({
      values: { A: 'a', B: 'a-a', C: 'a-a/xy', D: 'p$A' }, findings: [] });
    expect(resolveBuildArgs({ A: '$B', B: 'b', C: '$C', D: '$NOPE', E: '${A%x}' }).findings).to.deep.equal([
      { name: 'A', kind: 'later', ref: 'B' }, { name: 'C', kind: 'later', ref: 'C' }, { name: 'D', kind: 'unknown', ref: 'NOPE' },
      { name: 'E', kind: 'unsupported', ref: '${A%x}' }]);
  });

  it('the base image reads the substituted value, and the builders get it', () => {
    const { run, r } = renderOf(jupyter());
    expect(run.all.filter((p) => p.rule !== 'layer-count-unknown')).to.deep.equal([]);
    expect(r.from).to.equal('quay.io/jupyter/base-notebook:2024-01-01');
    expect(r.dockerfile).to.contain('FROM quay.io/jupyter/base-notebook:2024-01-01\n');
    expect(r.dockerfile).to.not.contain('$REGISTRY');
  });

  it('the builders get each value substituted (--build-arg is not expanded by them)', async () => {
    const { buildArgValues } = await import('../src/model/spec.js');
    const spec = check(jupyter()).environments[0]!.spec;
    const req = { contextDir: '/c', dockerfile: '/c/D', tag: 't', platform: 'linux/amd64', insecure: true, logFile: '/l', buildArgs: buildArgValues(spec) };
    expect(buildahArgs(req, '/d', { storage: 'vfs', root: true }).bud.join(' ')).to.contain('--build-arg BASE_IMAGE=quay.io/jupyter/base-notebook:2024-01-01 ');
  });

  it('a reference to a later or unknown argument is an error at its value; a default is not', () => {
    const later = check(env('buildArgs:', '  B: "$A/x"', '  A: a'));
    expect(at(later, 'build-arg-later')).to.deep.equal(['3:6 error']);
    expect(byRule(later, 'build-arg-later')[0]!.message).to.contain('B refers to A, which is declared after it');
    const unknown = check(env('buildArgs:', '  A: a', '  B: "${AA}/x"'));
    expect(at(unknown, 'build-arg-unknown')).to.deep.equal(['4:6 error']);
    expect(byRule(unknown, 'build-arg-unknown')[0]!.message).to.contain('(above it: A)');
    expect(at(check(env('buildArgs:', '  A: "${A%x}"')), 'build-arg-unsupported')).to.deep.equal(['3:6 error']);
    expect(check(env('buildArgs:', '  A: "${AA:-x}$1 $(date) 100%"')).all).to.deep.equal([]);
  });

  it('every problem in one run: two bad values and the base using them', () => {
    const run = check(env('base:', '  image: "x:${B}"', 'buildArgs:', '  B: "$C"', '  D: "$E"'));
    expect(run.all.filter((p) => p.rule !== 'layer-count-unknown').map((p) => `${p.line}:${p.col} ${p.rule}`))
      .to.deep.equal(['3:10 base-image-invalid', '5:6 build-arg-unknown', '6:6 build-arg-unknown']);
  });
});
