/**
 * Shared build context (`context:`): on real git repositories, the folder's
 * files enter the key of the environments naming it (and no other), a change
 * to it plans rebuilds of exactly those, COPY from it passes the check,
 * hostile paths are located errors, and CODEOWNERS gives it to their owners.
 */
import { expect } from 'chai';
import { recordBuilds } from '../src/git/ledger.js';
import type { BuildRecord } from '../src/ledger/model.js';
import type { PlannedBuild } from '../src/plan/index.js';
import { codeownersOf } from '../src/repository/codeowners.js';
import { openRepository, validateRepository } from '../src/repository/index.js';
import { planRepository } from '../src/repository/plan.js';
import { commit, git } from './fixtures/repo.js';
import { removeDir, tempDir, yaml } from './helpers.js';

const IMAGE = `127.0.0.1:1/busybox:1@sha256:${'a'.repeat(64)}`;
const spec = (owner: string, extra: string[], run = 'COPY shared/scripts /opt/scripts') =>
  yaml(`owner: "${owner}"`, `base: { image: "${IMAGE}" }`, ...extra, 'instructions: |', `  ${run}`);

function built(step: PlannedBuild): BuildRecord {
  const at = '2026-01-01T00:00:00Z';
  return {
    id: `${step.revision}-${at}`, revision: step.revision, commit: step.commit, contentKey: step.contentKey!, status: 'succeeded',
    image: `127.0.0.1:1/envctl/${step.environment}:${step.revision}`, digest: `sha256:${'b'.repeat(64)}`, startedAt: at, endedAt: at,
  };
}

describe('shared build context', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await tempDir('envctl-shared-');
    await git(dir, 'init', '-q', '-b', 'main');
    await commit(dir, {
      'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }', 'administrators: ["@acme/platform"]'), '.gitignore': '.envctl/\n',
      'shared/scripts/setup.sh': 'echo setup\n',
      'environments/one.yaml': spec('@acme/one', ['context: [shared/scripts]']),
      'environments/two.yaml': spec('@acme/two', ['context: [shared/scripts]']),
      'environments/solo.yaml': spec('@acme/solo', [], 'RUN echo solo'),
    }, 'three environments, two sharing scripts');
  });
  after(() => removeDir(dir));

  const plan = async () => planRepository(dir, (await openRepository(dir)).config, 'main', { offline: true });

  it('COPY from a shared folder passes the check, and the environments carry its files', async () => {
    const v = await validateRepository(await openRepository(dir), { offline: true });
    expect(v.problems.filter((p) => p.severity === 'error')).to.deep.equal([]);
    expect(v.environments.find((e) => e.name === 'one')!.shared!.map((f) => f.path)).to.deep.equal(['shared/scripts/setup.sh']);
    expect(v.environments.find((e) => e.name === 'solo')!.shared).to.equal(undefined);
  });

  it('a change to the shared folder changes the keys of exactly the environments naming it, and plans their rebuild', async () => {
    const first = await plan();
    const keys = new Map(first.builds.map((b) => [b.environment, b.contentKey]));
    expect(first.builds.map((b) => b.environment)).to.deep.equal(['one', 'solo', 'two']);
    await recordBuilds(dir, 'envctl-state', new Map(first.builds.map((b) => [b.environment, [built(b)]])), { summary: 'test' });
    expect((await plan()).builds).to.deep.equal([]);

    await commit(dir, { 'shared/scripts/setup.sh': 'echo setup, better\n' }, 'shared scripts: better');
    const after = await plan();
    expect(after.builds.map((b) => [b.environment, b.revision, b.reason, b.action])).to.deep.equal([
      ['one', 1, 'shared context changed', 'build'],
      ['two', 1, 'shared context changed', 'build'],
    ]);
    for (const b of after.builds) expect(b.contentKey).to.not.equal(keys.get(b.environment));
    // solo names no shared folder: its key is the one it had.
    const solo = after.environments.find((e) => e.name === 'solo');
    expect(solo?.shared).to.equal(undefined);
  });

  it('an environment without context: keeps its key when the shared folder changes', async () => {
    const { renderEnvironment } = await import('../src/render/index.js');
    const config = (await openRepository(dir)).config;
    const p = await plan();
    const solo = p.environments.find((e) => e.name === 'solo')!;
    const key = renderEnvironment(solo, { config, all: new Map([['solo', solo]]) }).contentKey;
    await commit(dir, { 'shared/scripts/more.sh': 'echo more\n' }, 'shared scripts: more');
    const q = await plan();
    const again = q.environments.find((e) => e.name === 'solo')!;
    expect(renderEnvironment(again, { config, all: new Map([['solo', again]]) }).contentKey).to.equal(key);
    const one = q.environments.find((e) => e.name === 'one')!;
    const oneBefore = p.environments.find((e) => e.name === 'one')!;
    expect(renderEnvironment(one, { config, all: new Map([['one', one]]) }).contentKey)
      .to.not.equal(renderEnvironment(oneBefore, { config, all: new Map([['one', oneBefore]]) }).contentKey);
  });

  it('CODEOWNERS gives the shared folder to the owners of every environment naming it, before the administrators\' blocks', async () => {
    const out = await codeownersOf(await openRepository(dir));
    if (!out.generated) throw new Error('not generated');
    const rule = out.rules.find((r) => r.pattern === '/shared/scripts/');
    expect(rule).to.deep.include({ owners: ['@acme/one', '@acme/two'], sharedBy: ['one', 'two'] });
    const lines = out.text.split('\n');
    expect(lines.indexOf('/shared/scripts/ @acme/one @acme/two')).to.be.greaterThan(lines.indexOf('/environments/two.yaml @acme/two'));
    expect(lines.indexOf('/shared/scripts/ @acme/one @acme/two')).to.be.lessThan(lines.indexOf('/envctl.yaml @acme/platform'));
  });

  it('refuses hostile context paths with located errors', async () => {
    const bad = await tempDir('envctl-shared-bad-');
    try {
      await git(bad, 'init', '-q', '-b', 'main');
      await commit(bad, {
        'envctl.yaml': yaml('registry: { address: "127.0.0.1:1" }'), '.gitignore': '.envctl/\n',
        'environments/bad.yaml': spec('@acme/bad', ['context:', '  - ../outside', '  - /etc', '  - .git', '  - environments/other', '  - ./shared', '  - nowhere'], 'RUN true'),
      }, 'bad');
      const v = await validateRepository(await openRepository(bad), { offline: true });
      const found = v.problems.filter((p) => p.rule.startsWith('context-')).map((p) => [p.rule, p.line, p.col]);
      expect(found).to.deep.equal([
        ['context-path', 4, 5], ['context-path', 5, 5], ['context-path', 6, 5], ['context-path', 7, 5], ['context-path', 8, 5], ['context-missing', 9, 5],
      ]);
    } finally {
      await removeDir(bad);
    }
  });
});

describe('platform per environment', () => {
  it('platform: overrides envctl.yaml\'s in the content key; a bad value is a located schema error', async () => {
    const { checkEnvironments } = await import('../src/check/index.js');
    const { loadEnvironments } = await import('../src/load/environments.js');
    const { renderEnvironment } = await import('../src/render/index.js');
    const { loadConfig } = await import('../src/config/index.js');
    const { config } = loadConfig(undefined, 'envctl.yaml');
    const file = (text: string) => ({ files: [{ path: 'environments/p.yaml', bytes: new TextEncoder().encode(text), executable: false }], problems: [] });
    const keyOf = (extra: string[]) => {
      const checked = checkEnvironments(loadEnvironments(file(spec('@a', extra, 'RUN true')), 'environments').environments, { config });
      const env = checked.environments[0]!;
      return { key: renderEnvironment(env, { config, all: new Map([['p', env]]) }).contentKey, problems: checked.problems };
    };
    const plain = keyOf([]);
    const same = keyOf([`platform: ${config.platform}`]);
    const arm = keyOf(['platform: linux/arm64']);
    expect(same.key).to.equal(plain.key);
    expect(arm.key).to.not.equal(plain.key);
    const bad = checkEnvironments(loadEnvironments(file(spec('@a', ['platform: arm64'], 'RUN true')), 'environments').environments, { config });
    expect(bad.problems.map((p) => [p.rule, p.line])).to.deep.include.members([['schema-pattern', 3]]);
  });
});
