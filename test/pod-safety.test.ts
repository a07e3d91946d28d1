/**
 * A Pod manifest keeps every value literal under the kubelet's variable
 * expansion. The kubelet rewrites `$(NAME)` in a container's command, args
 * and env values from the container's environment, leaves an unknown or
 * unclosed reference as it is, and reads `$$` as `$` (the core/v1 API
 * reference for Container.command and EnvVar.value). `expand` below is that
 * documented rule; the manifest goes through YAML, is expanded with an
 * environment that knows every name used, and must give back the values.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { dump, load } from 'js-yaml';
import { kubeLiteral, podManifest } from '../src/render/k8s.js';
import { lifecycleScript } from '../src/render/lifecycle.js';
import { renderRunSpec, type RunSpec } from '../src/render/runspec.js';
import { check, yaml } from './helpers.js';

/** The kubelet's rule, from its documentation: `$$` → `$`, `$(NAME)` → the value when NAME is known, anything else as written. */
function expand(s: string, env: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '$' || i + 1 === s.length) {
      out += s[i];
      continue;
    }
    const next = s[i + 1];
    const close = next === '(' ? s.indexOf(')', i + 2) : -1;
    if (next === '$') out += '$';
    else if (close !== -1) {
      const name = s.slice(i + 2, close);
      out += Object.hasOwn(env, name) ? env[name] : `$(${name})`;
      i = close - 1;
    } else out += `$${next}`;
    i += 1;
  }
  return out;
}

const HOSTILE = ['$(HOME)', '$$(HOME)', 'a$b', '$(', '$(X', '$)', '$', '$$', '$$$', 'x$(SECRET_TOKEN)y', '$(A)$(B)', '$$$(HOME)', '${HOME}', 'p@$$word', '$()'];
/** Every name the values mention is known, so an unescaped reference would change. */
const ENV: Record<string, string> = { HOME: '/root', X: 'x', A: 'a', B: 'b', SECRET_TOKEN: 'leaked', '': 'empty', V0: 'v0', V1: 'v1' };

function specWith(value: string): RunSpec {
  const quoted = JSON.stringify(value);
  const files = {
    'environments/e.yaml': yaml(
      'owner: alice',
      `variables: { V0: ${quoted}, V1: ${JSON.stringify(`${value}/bin`)} }`,
      `scripts: { preRun: ${JSON.stringify(`echo ${value}`)} }`,
      'workspaceTools:',
      '  t:',
      '    title: T',
      `    start: ["/start", ${quoted}]`,
    ),
  };
  const run = check(files);
  expect(run.all.filter((p) => p.severity === 'error'), JSON.stringify(run.all)).to.deep.equal([]);
  return renderRunSpec(run.environments[0]!, [], `registry.example/e@sha256:${'a'.repeat(64)}`, 1);
}

/** The Pod as the API server would store it (through YAML), then as the kubelet would expand it. */
function expectLiteral(spec: RunSpec, run: { tool: string } | { command: string }, command: string[]): void {
  const pod = podManifest(spec, { name: 'p', run, secretName: 's' });
  const stored = load(dump(pod, { lineWidth: -1, noRefs: true })) as typeof pod;
  expect(stored).to.deep.equal(pod);
  const c = stored.spec.containers[0] as { command: string[]; env: { name: string; value?: string }[] };
  expect(c.command.map((s) => expand(s, ENV))).to.deep.equal(['/bin/sh', '-c', lifecycleScript(spec, { command, projectDir: '/mnt/project' })]);
  expect(c.env.map((e) => [e.name, e.value === undefined ? undefined : expand(e.value, ENV)]))
    .to.deep.equal(spec.variables.map((v) => [v.name, 'value' in v ? v.value : undefined]));
}

describe('Pod manifest: values stay literal under $(VAR) expansion', () => {
  it('the reference rule expands what the kubelet expands (so the checks below can fail)', () => {
    expect(expand('$(HOME)/x', ENV)).to.equal('/root/x');
    expect(expand('$$(HOME)', ENV)).to.equal('$(HOME)');
    expect(expand('$(NOPE) $( a$b $', ENV)).to.equal('$(NOPE) $( a$b $');
    expect(expand('x$(SECRET_TOKEN)y', ENV)).to.equal('xleakedy');
  });

  for (const value of HOSTILE) {
    it(`${JSON.stringify(value)} in env values, a tool's start command, a script and a job's command`, () => {
      const spec = specWith(value);
      expectLiteral(spec, { tool: 't' }, ['/start', value]);
      expectLiteral(spec, { command: `run ${value}` }, ['sh', '-c', `run ${value}`]);
    });
  }

  it('kubeLiteral doubles every $ and nothing else, for any string', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('$', '(', ')', '$$', 'HOME', 'A', 'x', ' ', '{', '}') }), (s) => {
      const written = kubeLiteral(s);
      expect(written.replace(/\$\$/g, '')).to.not.contain('$');
      expect(expand(written, ENV)).to.equal(s);
    }), { numRuns: 300 });
  });

  it('a secret variable stays a reference to the Secret, with nothing to expand', () => {
    const files = { 'environments/e.yaml': yaml('owner: alice', 'variables: { DB_PASSWORD: { secret: true } }') };
    const run = check(files);
    const spec = renderRunSpec(run.environments[0]!, [], `registry.example/e@sha256:${'a'.repeat(64)}`, 1);
    const c = podManifest(spec, { name: 'p', run: { command: 'true' }, secretName: 's' }).spec.containers[0] as { env: unknown[] };
    expect(c.env).to.deep.equal([{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 's', key: 'DB_PASSWORD' } } }]);
  });
});
