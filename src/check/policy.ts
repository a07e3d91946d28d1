/**
 * Administrator-only fields and risky docker arguments, allowed only for
 * environments that envctl.yaml's policy names.
 */
import type { PolicyConfig } from '../model/config.js';
import { problem, type Problem } from '../model/problem.js';
import type { EnvironmentSpec } from '../model/spec.js';
import { position, type SourceMap } from '../schema/index.js';

export function allowedBy(patterns: string[], name: string): boolean {
  return patterns.some((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*')}$`).test(name));
}

export function checkPolicy(name: string, spec: EnvironmentSpec, policy: PolicyConfig, source: SourceMap): Problem[] {
  const out: Problem[] = [];
  const admin = allowedBy(policy.administratorFields, name);
  const adminField = (pointer: string, what: string) => {
    if (admin) return;
    out.push(problem(position(source, pointer, 'key'), 'error', 'policy-administrator-field',
      `${what} is an administrator setting; add "${name}" to policy.administratorFields in envctl.yaml (an administrator reviews that change)`));
  };
  if (spec.dockerArguments && spec.dockerArguments.length > 0) adminField('/dockerArguments', 'dockerArguments');
  if (spec.vpn) adminField('/vpn', 'vpn');
  if (spec.username !== undefined) adminField('/username', 'username');
  if (spec.visibility === 'global') adminField('/visibility', 'global visibility');

  const args = spec.dockerArguments ?? [];
  for (let i = 0; i < args.length; i++) {
    const risk = classify(args[i]!, args[i + 1]);
    if (!risk) continue;
    if (allowedBy(policy[risk.policy], name)) continue;
    out.push(problem(position(source, `/dockerArguments/${i}`, 'value'), 'error', 'policy-docker-argument',
      `"${args[i]}" ${risk.what} is refused; list "${name}" under policy.${risk.policy} in envctl.yaml to allow it`));
  }
  return out;
}

type Risk = { policy: 'privileged' | 'hostNetwork' | 'hostMounts'; what: string };

/** `next` is the following argument, for the `--flag value` form. */
export function classify(arg: string, next: string | undefined): Risk | undefined {
  const eq = arg.indexOf('=');
  const flag = (eq === -1 ? arg : arg.slice(0, eq)).trim();
  const inline = eq === -1 ? undefined : arg.slice(eq + 1).trim();
  const [head, ...rest] = flag.split(/\s+/);
  const value = inline ?? (rest.length ? rest.join(' ') : next ?? '');
  switch (head) {
    case '--privileged':
      return inline === 'false' ? undefined : { policy: 'privileged', what: '(full host privileges)' };
    case '--cap-add':
      return { policy: 'privileged', what: '(adds kernel capabilities)' };
    case '--security-opt':
      return /unconfined|no-new-privileges[:=]false/.test(value) ? { policy: 'privileged', what: '(turns off confinement)' } : undefined;
    case '--network':
    case '--net':
    case '--pid':
    case '--ipc':
    case '--uts':
    case '--userns':
      return value === 'host' ? { policy: 'hostNetwork', what: '(shares a host namespace)' } : undefined;
    case '-v':
    case '--volume': {
      const src = value.split(':')[0] ?? '';
      return src.startsWith('/') || src.startsWith('~') || src.startsWith('.') ? { policy: 'hostMounts', what: '(mounts a host path)' } : undefined;
    }
    case '--mount':
      return /(^|,)type=bind(,|$)/.test(value) ? { policy: 'hostMounts', what: '(bind-mounts a host path)' } : undefined;
    case '--device':
      return { policy: 'hostMounts', what: '(exposes a host device)' };
    default:
      return undefined;
  }
}
