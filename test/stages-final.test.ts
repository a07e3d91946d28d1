/**
 * The final image on one of its stages (`FROM base AS notebooks`, written
 * `base: { stage: base }`) and stage bases using build arguments: the
 * schema, the located errors, the rendered FROMs, the layers counted along
 * the stages the image stands on, pinning and plan seeing the chain's image,
 * and the content key.
 */
import { expect } from 'chai';
import { rawBaseImage } from '../src/check/raw.js';
import { baseOf } from '../src/model/spec.js';
import { renderEnvironment } from '../src/render/index.js';
import { byRule, check, config, yaml, type Files, type Run } from './helpers.js';

const at = (r: Run, rule: string) => byRule(r, rule).map((p) => `${p.line}:${p.col} ${p.severity}`);
const errors = (r: Run) => r.all.filter((p) => p.severity === 'error');
const imageLayers = new Map([['docker.io/library/ubuntu:22.04', 5], ['docker.io/nvidia/cuda:12.0.1-base-ubuntu22.04', 7]]);

/** Stage `dependencies` on an image, stage `base` on CUDA through build arguments, the final image on `base`. */
const rapids = (finalBase = 'base: { stage: base }', extra: string[] = []): Files => ({
  'environments/a.yaml': yaml(
    'owner: alice',
    finalBase,
    'buildArgs:',
    '  CUDA_VER: 12.0.1',
    '  LINUX_VER: ubuntu22.04',
    'stages:',
    '  - name: dependencies',
    '    base: { image: "ubuntu:22.04" }',
    '    instructions: |',
    '      RUN echo deps > /deps',
    '  - name: base',
    '    base: { image: "nvidia/cuda:${CUDA_VER}-base-${LINUX_VER}" }',
    '    instructions: |',
    '      RUN echo one',
    '      COPY --from=dependencies /deps /deps2',
    ...extra,
    'instructions: |',
    '  COPY --from=dependencies /deps /deps',
    '  RUN echo three',
  ),
});

const renderOf = (files: Files, opts: { imageDigests?: Map<string, string> } = {}) => {
  const run = check(files, { imageLayers });
  const all = new Map(run.environments.map((e) => [e.name, e]));
  return { run, r: renderEnvironment(run.environments[0]!, { config: config(), all, ...opts }) };
};

describe('the final image on a stage: check', () => {
  it('is valid, and stands on the image its chain of stages starts from', () => {
    const run = check(rapids(), { imageLayers });
    expect(run.all, JSON.stringify(run.all)).to.deep.equal([]);
    expect(baseOf(run.environments[0]!.spec)).to.deep.equal({ kind: 'image', image: 'nvidia/cuda:12.0.1-base-ubuntu22.04' });
  });

  it('counts the stage chain\'s layers in the image: the base image, the stage\'s two layers and its own two', () => {
    const layers = check(rapids(), { imageLayers }).environments[0]!.layers;
    expect(layers).to.deep.include({ own: 2, base: 9, total: 11, chain: ['stage base', 'nvidia/cuda:12.0.1-base-ubuntu22.04'] });
    // The same final instructions on an image count only that image: the stage's layers are in the image only when it stands on it.
    const plain = check(rapids('base: { image: "ubuntu:22.04" }'), { imageLayers }).environments[0]!.layers;
    expect(plain).to.deep.include({ own: 2, base: 5, total: 7 });
  });

  it('follows a chain of stages, and the limit sees every layer of it', () => {
    const runs = ['      # envctl-ignore: lint-consecutive-run', ...Array.from({ length: 125 }, (_, i) => `      RUN echo ${i}`)];
    const files = rapids('base: { stage: top }', ['  - name: top', '    base: { stage: base }', '    instructions: |', ...runs]);
    const run = check(files, { imageLayers });
    const limit = byRule(run, 'layer-limit');
    expect(at(run, 'layer-limit')).to.deep.equal(['145:1 error']);
    expect(limit[0]!.message).to.contain('the image would have 136 layers: 134 from the base (stage top → stage base → nvidia/cuda:12.0.1-base-ubuntu22.04) and 2 here');
  });

  it('an unknown stage is an error at the base, naming the stages', () => {
    const run = check(rapids('base: { stage: bsae }'), { imageLayers });
    expect(at(run, 'base-stage-unknown')).to.deep.equal(['2:16 error']);
    expect(byRule(run, 'base-stage-unknown')[0]!.message).to.equal('the image is built on stage "bsae", which is not one of the stages (stages: dependencies, base)');
  });

  it('refuses a misspelled field in the stage base, explained by its branch', () => {
    const run = check(rapids('base: { stage: base, revision: 1 }'));
    expect(errors(run)[0]!.message).to.contain('revision');
    expect(errors(run).map((p) => p.line)).to.deep.equal([2]);
  });

  it('pinning is checked once, at the stage base image, with the build arguments filled in', () => {
    const run = check(rapids());
    expect(at(run, 'base-image-unpinned')).to.deep.equal([]);
    const unpinned = check({ 'environments/a.yaml': yaml('owner: alice', 'base: { stage: b }', 'buildArgs:', '  IMG: golang',
      'stages:', '  - name: b', '    base: { image: "${IMG}" }', '    instructions: RUN true') });
    expect(at(unpinned, 'base-image-unpinned')).to.deep.equal(['7:20 warning']);
    expect(byRule(unpinned, 'base-image-unpinned')[0]!.message).to.contain('"golang"');
  });

  it('a stage on an environment: the final image standing on it depends on that environment, one loop error, no base-unknown', () => {
    const files: Files = {
      'environments/py.yaml': yaml('owner: alice', 'base: { image: "ubuntu:22.04" }'),
      'environments/a.yaml': yaml('owner: alice', 'base: { stage: s }', 'stages:', '  - name: s', '    base: { environment: py }'),
    };
    const run = check(files, { imageLayers });
    expect(run.all, JSON.stringify(run.all)).to.deep.equal([]);
    expect(baseOf(run.environments.find((e) => e.name === 'a')!.spec)).to.deep.equal({ kind: 'environment', environment: 'py', revision: 'active' });
    expect(run.environments.find((e) => e.name === 'a')!.layers).to.deep.include({ total: 5, chain: ['stage s', 'py', 'ubuntu:22.04'] });
    const loop = check({ ...files, 'environments/py.yaml': yaml('owner: alice', 'base: { environment: a }') });
    expect(byRule(loop, 'base-cycle')).to.have.length(1);
    const missing = check({ 'environments/a.yaml': files['environments/a.yaml'] as string });
    expect(at(missing, 'stage-environment-unknown')).to.deep.equal(['5:26 error']);
    expect(byRule(missing, 'base-unknown')).to.deep.equal([]);
  });

  it('the registry is asked about the chain\'s image, read from unvalidated data', () => {
    const data = { owner: 'a', base: { stage: 'b' }, buildArgs: { V: '1' }, stages: [{ name: 'b', base: { image: 'x:${V}' } }] };
    expect(rawBaseImage({ data })).to.equal('x:1');
    expect(rawBaseImage({ data: { ...data, stages: [{ name: 'b', base: { image: 3 } }] } })).to.equal(undefined);
    expect(rawBaseImage({ data: { ...data, stages: 'no' } })).to.equal(undefined);
  });
});

describe('the final image on a stage: render and key', () => {
  it('renders FROM <stage> for the final image and the stage bases with the build arguments filled in', () => {
    const { r } = renderOf(rapids());
    expect(r.dockerfile).to.contain('FROM ubuntu:22.04 AS dependencies\nARG CUDA_VER\nARG LINUX_VER\n');
    expect(r.dockerfile).to.contain('FROM nvidia/cuda:12.0.1-base-ubuntu22.04 AS base\n');
    expect(r.dockerfile).to.match(/\nFROM base\nARG CUDA_VER\nARG LINUX_VER\n\nCOPY --from=dependencies/);
    expect(r.dockerfile).to.not.contain('${');
    expect(r.from).to.equal('nvidia/cuda:12.0.1-base-ubuntu22.04');
  });

  it('pins the chain\'s first stage by digest when the registry gave one, as a final base is, and the key follows it', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    const before = renderOf(rapids()).r;
    const { r } = renderOf(rapids(), { imageDigests: new Map([['nvidia/cuda:12.0.1-base-ubuntu22.04', digest]]) });
    expect(r.dockerfile).to.contain(`FROM nvidia/cuda:12.0.1-base-ubuntu22.04@${digest} AS base\n`);
    expect(r.dockerfile).to.contain('FROM ubuntu:22.04 AS dependencies\n');
    expect(r.contentKey).to.not.equal(before.contentKey);
  });

  it('the key covers which stage the image stands on and the stage base\'s build arguments', () => {
    const onBase = renderOf(rapids()).r.contentKey;
    const onDeps = renderOf(rapids('base: { stage: dependencies }')).r.contentKey;
    const otherCuda = renderOf({ 'environments/a.yaml': (rapids()['environments/a.yaml'] as string).replace('CUDA_VER: 12.0.1', 'CUDA_VER: 12.2.0') }).r.contentKey;
    expect(new Set([onBase, onDeps, otherCuda]).size).to.equal(3);
  });

  it('an environment without a stage base renders as before', () => {
    const { r } = renderOf(rapids('base: { image: "ubuntu:22.04" }'));
    expect(r.dockerfile).to.match(/\nFROM ubuntu:22\.04\nARG CUDA_VER\n/);
    expect(r.dockerfile).to.contain('FROM nvidia/cuda:12.0.1-base-ubuntu22.04 AS base\n');
  });
});

describe('a stage base using build arguments: check', () => {
  it('errors at the stage base when an argument has no value, or the result is no reference', () => {
    const stage = (image: string, args: string[] = []) => check({ 'environments/a.yaml': yaml('owner: alice', ...args,
      'stages:', '  - name: b', `    base: { image: "${image}" }`, '    instructions: RUN true') });
    expect(at(stage('cuda:${CUDA_VER}'), 'base-arg-no-value')).to.deep.equal(['4:20 error']);
    expect(at(stage('cuda:${V}', ['buildArgs:', '  V: "a b"']), 'base-image-invalid')).to.deep.equal(['6:20 error']);
    expect(at(stage('cuda:${V%x}', ['buildArgs:', '  V: "1"']), 'base-arg-unsupported')).to.deep.equal(['6:20 error']);
    expect(stage('cuda:${V:-12}').all).to.deep.equal([]);
  });
});
