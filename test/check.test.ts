import { expect } from 'chai';
import { byRule, check, config, yaml, type Run } from './helpers.js';

const env = (...lines: string[]) => yaml('owner: alice', ...lines);
const only = (r: Run, rule: string) => byRule(r, rule).map((p) => ({ line: p.line, col: p.col, severity: p.severity, message: p.message }));
const clean = (r: Run) => expect(r.all.filter((p) => p.severity === 'error'), JSON.stringify(r.all)).to.deep.equal([]);

describe('check: schema', () => {
  it('names an unknown field at its key and suggests the near one', () => {
    const r = check({ 'environments/a.yaml': env('titel: x') });
    expect(only(r, 'schema-unknown-field')).to.deep.equal([{ line: 2, col: 1, severity: 'error', message: 'unknown field "titel"; did you mean "title"?' }]);
  });

  it('requires an owner', () => {
    const r = check({ 'environments/a.yaml': yaml('title: x') });
    expect(only(r, 'schema-required')[0]!.message).to.equal('missing required field "owner"');
  });

  it('reports wrong types at the value', () => {
    const r = check({ 'environments/a.yaml': env('archived: "yes"', 'workspaceTools:', '  j:', '    title: J', '    start: [x]', '    httpProxy: { port: high }') });
    expect(only(r, 'schema-type').map((p) => [p.line, p.col, p.message])).to.deep.equal([
      [2, 11, 'archived must be a boolean, not string "yes"'],
      [7, 24, 'workspaceTools.j.httpProxy.port must be an integer, not string "high"'],
    ]);
  });

  it('reports an enum value with the allowed ones', () => {
    const r = check({ 'environments/a.yaml': env('visibility: public') });
    expect(only(r, 'schema-enum')[0]!.message).to.contain('"private", "organization", "global"');
  });

  it('accepts every form of base', () => {
    for (const base of ['base: default', 'base: { image: "quay.io/org/img:1.0" }', 'base: { environment: b }', 'base: { environment: b, revision: 3 }', 'base: { environment: b, revision: active }']) {
      clean(check({ 'environments/a.yaml': env(base), 'environments/b.yaml': env() }));
    }
  });

  it('explains a base in the form the user meant, not every oneOf branch', () => {
    const r = check({ 'environments/a.yaml': env('base:', '  environment: b', '  revison: 3'), 'environments/b.yaml': env() });
    expect(r.all.map((p) => [p.rule, p.line, p.message])).to.deep.equal([
      ['schema-unknown-field', 4, 'unknown field "revison" in base; did you mean "revision"?'],
    ]);
    const r2 = check({ 'environments/a.yaml': env('base: { image: "Not A Ref" }') });
    expect(only(r2, 'schema-pattern')[0]!.message).to.contain('not an image reference');
    const r3 = check({ 'environments/a.yaml': env('base: 42') });
    expect(r3.all.map((p) => p.message)[0]).to.contain('base must be "default" or a mapping with image or a mapping with environment or a mapping with stage, not number 42');
    const r4 = check({ 'environments/a.yaml': env('base: { environment: b, revision: 0 }'), 'environments/b.yaml': env() });
    expect(r4.all.map((p) => [p.line, p.col, p.rule, p.message])).to.deep.equal([[2, 35, 'schema', 'base.revision must be >= 1']]);
  });

  it('checks variable names and the secret form', () => {
    const r = check({ 'environments/a.yaml': env('variables:', '  1BAD: x', '  OK_1: y', '  TOKEN: { secret: yes }') });
    expect(only(r, 'schema-name').map((p) => [p.line, p.col])).to.deep.equal([[3, 3]]);
    const later = check({ 'environments/a.yaml': env('variables:', '  A: x', '  B: y', '  C/D: z') });
    expect(only(later, 'schema-name').map((p) => [p.line, p.col])).to.deep.equal([[5, 3]]);
    expect(only(r, 'schema-name')[0]!.message).to.contain('start with a letter');
    expect(r.all.some((p) => p.line === 5)).to.equal(true);
    clean(check({ 'environments/a.yaml': env('variables:', '  OK_1: y', '  N: "3.10"', '  TOKEN: { secret: true }') }));
    // YAML reads 3.10 as the number 3.1: values must be quoted strings.
    const numeric = check({ 'environments/a.yaml': env('variables:', '  PYTHON_VERSION: 3.10') });
    expect(numeric.all.map((p) => [p.line, p.message])).to.deep.equal([[3, 'variables.PYTHON_VERSION must be a string or a mapping with secret, not number 3.1 (A string, or { secret: true } for a value provided at run time; quote numbers and booleans)']]);
  });

  it('reports every problem of every file in one run', () => {
    const r = check({
      'environments/a.yaml': env('titel: x', 'visibility: public'),
      'environments/b.yaml': yaml('title: no owner'),
      'environments/c.yaml': env('instructions: FROM x'),
    });
    expect(new Set(r.all.map((p) => p.file)).size).to.equal(3);
    expect(r.all.filter((p) => p.severity === 'error')).to.have.length(4);
  });
});

describe('check: bases', () => {
  it('base-unknown', () => {
    const r = check({ 'environments/a.yaml': env('base: { environment: pyhton }'), 'environments/python.yaml': env() });
    expect(only(r, 'base-unknown')).to.deep.equal([{ line: 2, col: 22, severity: 'error', message: 'base environment "pyhton" does not exist' }]);
    clean(check({ 'environments/a.yaml': env('base: { environment: python }'), 'environments/python.yaml': env() }));
  });

  it('base-cycle: one error per cycle, at the member that sorts first, naming the loop from there', () => {
    const r = check({
      'environments/b.yaml': env('base: { environment: c }'),
      'environments/c.yaml': env('base: { environment: a }'),
      'environments/a.yaml': env('base: { environment: b }'),
      'environments/d.yaml': env('base: { environment: a }'),
      'environments/x.yaml': env('base: { environment: y }'),
      'environments/y.yaml': env('base: { environment: x }'),
    });
    const cycles = byRule(r, 'base-cycle');
    expect(cycles.map((p) => [p.file, p.line, p.col])).to.deep.equal([['environments/a.yaml', 2, 22], ['environments/x.yaml', 2, 22]]);
    expect(cycles.map((p) => p.message)).to.deep.equal([
      'bases form a cycle of 3 environments: a → b → c → a',
      'bases form a cycle of 2 environments: x → y → x',
    ]);
    expect(byRule(check({ 'environments/a.yaml': env('base: { environment: a }') }), 'base-cycle')[0]!.message).to.equal('bases form a cycle of one environment: a → a');
  });

  it('base-cycle through 5,000 environments: one error, its text capped', () => {
    const files: Record<string, string> = {};
    const n = 5000;
    const name = (i: number) => `e${String(i).padStart(4, '0')}`;
    for (let i = 0; i < n; i++) files[`environments/${name(i)}.yaml`] = env(`base: { environment: ${name((i + 1) % n)} }`);
    const cycles = byRule(check(files), 'base-cycle');
    expect(cycles).to.have.length(1);
    expect(cycles[0]!.file).to.equal('environments/e0000.yaml');
    expect(cycles[0]!.message).to.equal('bases form a cycle of 5000 environments: e0000 → e0001 → e0002 → e0003 → e0004 → e0005 → e0006 → … (4992 more) → e4999 → e0000');
  });

  it('a chain of 5,000 environments is counted without recursion, and the layer message names a capped chain', () => {
    const files: Record<string, string> = {};
    const n = 5000;
    const name = (i: number) => `e${String(i).padStart(4, '0')}`;
    for (let i = 0; i < n; i++) {
      files[`environments/${name(i)}.yaml`] = env(i === n - 1 ? 'base: { image: "ubuntu:noble" }' : `base: { environment: ${name(i + 1)} }`, 'instructions: RUN true');
    }
    const r = check(files, { config: config({ imageLayers: { 'ubuntu:noble': 1 } }) });
    const limits = byRule(r, 'layer-limit');
    expect(limits).to.have.length(n - 126);
    const top = limits.find((p) => p.file === 'environments/e0000.yaml')!;
    expect(top.message).to.match(/^the image would have 5001 layers: 5000 from the base \(e0001 → e0002 → e0003 → e0004 → e0005 → e0006 → … \(4993 more\) → ubuntu:noble\) and 1 here;/);
  });

  it('base-archived: an error when newly chosen, a warning when kept', () => {
    const files = { 'environments/old.yaml': env('archived: true'), 'environments/a.yaml': env('base: { environment: old }') };
    expect(only(check(files), 'base-archived').map((p) => p.severity)).to.deep.equal(['error']);
    const kept = check(files, { previousBases: new Map([['a', 'old']]) });
    expect(only(kept, 'base-archived').map((p) => p.severity)).to.deep.equal(['warning']);
    clean(kept);
  });

  it('base-image-unpinned warns on an image without a version', () => {
    expect(only(check({ 'environments/a.yaml': env('base: { image: "quay.io/org/img" }') }), 'base-image-unpinned')).to.have.length(1);
    expect(only(check({ 'environments/a.yaml': env('base: { image: "quay.io/org/img:latest" }') }), 'base-image-unpinned')).to.have.length(1);
    expect(only(check({ 'environments/a.yaml': env('base: { image: "quay.io/org/img:2.1" }') }), 'base-image-unpinned')).to.have.length(0);
  });
});

describe('check: instructions', () => {
  it('instructions-from at the exact line and column inside the block', () => {
    const r = check({ 'environments/a.yaml': env('instructions: |', '  RUN echo hi', '  FROM debian', '  RUN echo bye') });
    expect(only(r, 'instructions-from').map((p) => [p.line, p.col])).to.deep.equal([[4, 3]]);
    clean(check({ 'environments/a.yaml': env('instructions: |', '  RUN echo from here') }));
  });

  it('instructions-unknown', () => {
    expect(only(check({ 'environments/a.yaml': env('instructions: |', '  RUNN x') }), 'instructions-unknown')[0]!.message).to.equal('unknown instruction "RUNN"');
  });

  it('instructions-unterminated: a trailing backslash or an open heredoc would swallow what follows', () => {
    const r = check({ 'environments/a.yaml': env('instructions: |', '  RUN echo a \\', '', '') });
    expect(only(r, 'instructions-unterminated').map((p) => p.line)).to.deep.equal([3]);
    // A comment after the backslash does not end the instruction: the builder skips it and joins the next line.
    const hidden = check({ 'environments/a.yaml': env('username: ubuntu', 'instructions: |', '  RUN echo a', '  RUN echo b \\', '  # done') }, { config: config({ policy: { administratorFields: ['a'] } }) });
    expect(only(hidden, 'instructions-unterminated').map((p) => p.line)).to.deep.equal([5]);
    const heredoc = check({ 'environments/a.yaml': env('instructions: |', '  RUN <<EOF', '  echo never closed') });
    expect(only(heredoc, 'instructions-unterminated')).to.have.length(1);
    expect(heredoc.environments[0]!.instructionsEndCleanly).to.equal(false);
    clean(check({ 'environments/a.yaml': env('instructions: |', '  RUN echo a \\', '   && echo b', '  # ends in a comment \\') }));
    // A closed heredoc is clean for docker buildx only: buildah 1.28 has no heredocs (test/builder-reading.test.ts).
    clean(check({ 'environments/a.yaml': env('instructions: |', '  RUN <<EOF', '  echo closed', '  EOF') }, { config: config({ builder: 'docker' }) }));
  });

  it('copy-missing, copy-no-context and copy-outside-context', () => {
    const r = check({
      'environments/a/environment.yaml': env('instructions: |', '  COPY requirements.txt /tmp/', '  COPY missing.txt /tmp/', '  COPY ../b.yaml /tmp/', '  COPY --from=busybox /bin/sh /bin/', '  COPY ["requirements.txt", "/opt/"]', '  COPY scripts/*.sh /opt/', '  COPY . /src', '  COPY "requirements.txt" \'requirements.txt\' "/x y/"'),
      'environments/a/requirements.txt': 'numpy\n',
      'environments/a/scripts/run.sh': 'echo\n',
      'environments/b.yaml': env('instructions: |', '  COPY requirements.txt /tmp/'),
    });
    expect(only(r, 'copy-missing').map((p) => [p.line, p.col])).to.deep.equal([[4, 3]]);
    expect(only(r, 'copy-missing')[0]!.message).to.contain('requirements.txt, scripts/run.sh');
    expect(only(r, 'copy-outside-context').map((p) => p.line)).to.deep.equal([5]);
    expect(byRule(r, 'copy-no-context').map((p) => p.file)).to.deep.equal(['environments/b.yaml']);
    expect(byRule(r, 'copy-no-context')[0]!.message).to.contain('environments/b/environment.yaml');
  });

  it('a COPY glob that matches nothing is copy-glob-empty, an error when the builder may be buildah (test/copy-lint.test.ts)', () => {
    const r = check({ 'environments/a/environment.yaml': env('instructions: |', '  COPY *.whl /tmp/'), 'environments/a/x.txt': '' });
    expect(byRule(r, 'copy-missing')).to.have.length(0);
    expect(only(r, 'copy-glob-empty').map((p) => [p.line, p.severity])).to.deep.equal([[3, 'error']]);
  });

  it('lint-pip-install-split and lint-consecutive-run', () => {
    const r = check({ 'environments/a.yaml': env('instructions: |', '  RUN pip install numpy', '  RUN pip install pandas', '  ENV A=1', '  RUN apt-get update', '  RUN apt-get install -y git') });
    expect(only(r, 'lint-pip-install-split').map((p) => [p.line, p.severity])).to.deep.equal([[4, 'warning']]);
    expect(only(r, 'lint-consecutive-run').map((p) => p.line)).to.deep.equal([6]);
    const ok = check({ 'environments/a.yaml': env('instructions: |', '  RUN pip install numpy pandas', '  ENV A=1', '  RUN apt-get update && apt-get install -y git') });
    expect(ok.all).to.deep.equal([]);
  });
});

describe('check: layers', () => {
  const runs = (n: number) => Array.from({ length: n }, (_, i) => `  RUN echo ${i}`).concat([]).flatMap((l, i) => (i % 2 ? ['  ENV X=1', l] : [l]));

  it('layer-limit counts base layers along the chain and names what to combine', () => {
    const cfg = config({ defaultBase: { image: 'img:1', layers: 100 }, layers: { limit: 127 } });
    const r = check({
      'environments/a.yaml': env('instructions: |', ...runs(20)),
      'environments/b.yaml': env('base: { environment: a }', 'instructions: |', '  RUN a', '  RUN b', '  RUN c', '  RUN d', '  RUN e', '  RUN f', '  RUN g', '  RUN h'),
    }, { config: cfg });
    const limit = byRule(r, 'layer-limit');
    expect(limit.map((p) => p.file)).to.deep.equal(['environments/b.yaml']);
    expect(limit[0]!.line).to.equal(3);
    expect(limit[0]!.message).to.contain('128 layers: 120 from the base (a → img:1) and 8 here; the limit is 127');
    expect(limit[0]!.message).to.contain('RUNs at lines 4–11 (saves 7)');
    expect(byRule(r, 'layer-limit-near').map((p) => p.file)).to.deep.equal(['environments/a.yaml']);
  });

  it('uses registry layer counts for custom images before declared ones', () => {
    const files = { 'environments/a.yaml': env('base: { image: "reg.example/img:1" }', 'instructions: |', '  RUN x', '  COPY --from=busybox / /', '  ADD https://example.com/f /f') };
    expect(byRule(check(files, { imageLayers: new Map([['reg.example/img:1', 125]]) }), 'layer-limit')).to.have.length(1);
    expect(byRule(check(files, { imageLayers: new Map([['reg.example/img:1', 124]]) }), 'layer-limit')).to.have.length(0);
    expect(byRule(check(files, { config: config({ imageLayers: { 'reg.example/img:1': 125 } }) }), 'layer-limit')).to.have.length(1);
    expect(byRule(check(files), 'layer-count-unknown')).to.have.length(1);
  });

  it('an unknown or broken base environment is its own error, not an unknown image', () => {
    const r = check({
      'environments/a.yaml': env('base: { environment: nosuch }'),
      'environments/bad.yaml': env('visibility: nope'),
      'environments/child.yaml': env('base: { environment: bad }'),
    });
    expect(byRule(r, 'layer-count-unknown')).to.deep.equal([]);
    expect(byRule(r, 'base-unknown').map((p) => p.file)).to.deep.equal(['environments/a.yaml']);
  });

  it('counts only RUN, COPY and ADD', () => {
    const r = check({ 'environments/a.yaml': env('instructions: |', '  ENV A=1', '  LABEL x=y', '  WORKDIR /x', '  USER root', '  RUN true') });
    expect(r.environments[0]!.layers).to.deep.include({ own: 1, base: 1, total: 2 });
  });
});

describe('check: policy', () => {
  it('administrator fields need the policy to name the environment', () => {
    const files = { 'environments/a.yaml': env('visibility: global', 'username: bob', 'vpn: true', 'dockerArguments: ["--shm-size=2g"]') };
    const r = check(files);
    expect(only(r, 'policy-administrator-field').map((p) => p.line)).to.deep.equal([2, 3, 4, 5]);
    clean(check(files, { config: config({ policy: { administratorFields: ['a'] } }) }));
    clean(check(files, { config: config({ policy: { administratorFields: ['*'] } }) }));
  });

  it('refuses privileged, host-namespace and host-mount docker arguments unless named', () => {
    const args = 'dockerArguments: ["--privileged", "--network", "host", "--pid=host", "-v", "/var/run/docker.sock:/var/run/docker.sock", "--mount=type=bind,src=/etc,dst=/e", "--device=/dev/fuse", "--cap-add=SYS_ADMIN", "-v", "data:/data", "--shm-size=1g"]';
    const admin = { administratorFields: ['*'] };
    const r = check({ 'environments/a.yaml': env(args) }, { config: config({ policy: admin }) });
    expect(byRule(r, 'policy-docker-argument').map((p) => p.message.split('"')[1])).to.deep.equal([
      '--privileged', '--network', '--pid=host', '-v', '--mount=type=bind,src=/etc,dst=/e', '--device=/dev/fuse', '--cap-add=SYS_ADMIN',
    ]);
    clean(check({ 'environments/a.yaml': env(args) }, { config: config({ policy: { ...admin, privileged: ['a'], hostNetwork: ['a*'], hostMounts: ['a'] } }) }));
  });
});

describe('check: fields', () => {
  it('variable-value refuses line breaks; variable-secret-value warns on a written secret', () => {
    const r = check({ 'environments/a.yaml': env('variables:', '  MULTI: "a\\nb"', '  API_TOKEN: abc123', '  DB_PASSWORD: { secret: true }') });
    expect(only(r, 'variable-value').map((p) => p.line)).to.deep.equal([3]);
    expect(only(r, 'variable-secret-value').map((p) => [p.line, p.severity])).to.deep.equal([[4, 'warning']]);
  });

  it('tool-template: unknown placeholders and helpers are errors', () => {
    const tool = (path: string) => env('workspaceTools:', '  j:', '    title: J', '    start: [/start]', '    httpProxy:', '      port: 8888', `      internalPath: "${path}"`);
    const ok = '/{{ownerUsername}}/{{projectName}}/{{sessionPathComponent}}/{{runId}}/{{#if pathToOpen}}tree/{{pathToOpen}}{{/if}}';
    clean(check({ 'environments/a.yaml': tool(ok) }));
    const r = check({ 'environments/a.yaml': tool('/{{owner}}/{{#each runId}}x{{/each}}/{{lookup a b}}') });
    const messages = byRule(r, 'tool-template').map((p) => p.message);
    expect(messages).to.have.length(3);
    expect(messages[0]).to.contain('unknown placeholder {{owner}}');
    expect(byRule(r, 'tool-template')[0]!.line).to.equal(8);
    expect(byRule(check({ 'environments/a.yaml': tool('/{{#if x}}') }), 'tool-template')[0]!.message).to.contain('not a valid template');
  });
});

describe('check: renamedFrom', () => {
  it('renamed-from-exists: the old name must be gone', () => {
    const r = check({ 'environments/a.yaml': env(), 'environments/b.yaml': env('renamedFrom: a') });
    expect(only(r, 'renamed-from-exists').map((p) => [p.line, p.col])).to.deep.equal([[2, 14]]);
    clean(check({ 'environments/b.yaml': env('renamedFrom: a') }));
  });
});
