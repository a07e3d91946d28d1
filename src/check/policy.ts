/**
 * Administrator-only fields and risky docker arguments, allowed only for
 * environments that envctl.yaml's policy names. An environment's docker
 * arguments are all that its run carries: those inherited along its base
 * chain (farthest base first, as render/runspec.ts joins them) and its own,
 * read as one list as docker reads it, and judged by the policy for the
 * environment's own name.
 */
import type { PolicyConfig } from '../model/config.js';
import { problem, type Problem } from '../model/problem.js';
import { baseOf, type EnvironmentSpec } from '../model/spec.js';
import { position, type SourceMap } from '../schema/index.js';
import { readDockerArguments, type Reading, type Unreadable } from './docker-args.js';

/** Compiled patterns: a policy has a handful, asked about for every environment. */
const compiledPatterns = new Map<string, RegExp>();

function patternRegExp(p: string): RegExp {
  let re = compiledPatterns.get(p);
  if (!re) {
    re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*')}$`);
    if (compiledPatterns.size >= 1024) compiledPatterns.clear(); // patterns come from config: bounded all the same
    compiledPatterns.set(p, re);
  }
  return re;
}

export function allowedBy(patterns: string[], name: string): boolean {
  return patterns.some((p) => patternRegExp(p).test(name));
}

export interface PolicyNode {
  name: string;
  spec: EnvironmentSpec;
  source: SourceMap;
}

/** Every environment against the policy, each with the arguments it inherits from the environments in `nodes`. */
export function checkPolicies(nodes: Map<string, PolicyNode>, policy: PolicyConfig): Problem[] {
  const { inherited, overLimit } = inheritedArguments(nodes);
  return [...nodes.values()].flatMap((node) => overLimit.has(node.name) || (node.spec.dockerArguments?.length ?? 0) > MAX_RUN_ARGUMENTS
    ? [tooMany(node)]
    : checkPolicy(node.name, node.spec, policy, node.source, inherited.get(node.name) ?? []));
}

/** More docker arguments than any real run passes: refused unread, so a long chain of them costs no quadratic work. */
export const MAX_RUN_ARGUMENTS = 1000;

function tooMany(node: PolicyNode): Problem {
  const own = node.spec.dockerArguments?.length ?? 0;
  return problem(position(node.source, own > MAX_RUN_ARGUMENTS ? '/dockerArguments' : '/base', 'key'), 'error', 'docker-argument-syntax',
    `the run would carry more than ${MAX_RUN_ARGUMENTS} docker arguments${own > MAX_RUN_ARGUMENTS ? '' : ' with those inherited along the base chain'}; envctl reads at most ${MAX_RUN_ARGUMENTS}`);
}

type Inherited = { environment: string; args: string[] }[];

/**
 * For every environment, one inherited list per base environment that
 * passes arguments, farthest first; a chain stops at a cycle or a missing
 * base (bases.ts reports those). Each chain is walked once and a list is
 * shared down the chain until a base adds to it; past MAX_RUN_ARGUMENTS
 * words a list stops growing and its environments are `overLimit`. So a
 * chain of 10,000 environments costs linear time, not a walk (or a copy)
 * per environment.
 */
export function inheritedArguments(nodes: Map<string, PolicyNode>): { inherited: Map<string, Inherited>; overLimit: Set<string> } {
  const inherited = new Map<string, Inherited>();
  const words = new Map<string, number>();
  const overLimit = new Set<string>();
  for (const start of nodes.keys()) {
    const path: string[] = [];
    const onPath = new Set<string>();
    let name: string | undefined = start;
    while (name !== undefined && !inherited.has(name) && nodes.has(name) && !onPath.has(name)) {
      path.push(name);
      onPath.add(name);
      const base = baseOf(nodes.get(name)!.spec);
      name = base.kind === 'environment' ? base.environment : undefined;
    }
    // `name` is now counted, missing, none, or on this path: a cycle, whose members inherit nothing
    // (the cycle is its own error, and nothing on it can be built or run).
    let end = path.length;
    if (name !== undefined && onPath.has(name)) {
      end = path.indexOf(name);
      for (const member of path.slice(end)) { inherited.set(member, []); words.set(member, 0); }
    }
    for (let i = end - 1; i >= 0; i--) {
      const current = path[i]!;
      const base = baseOf(nodes.get(current)!.spec);
      const parent = base.kind === 'environment' ? nodes.get(base.environment) : undefined;
      if (!parent) { inherited.set(current, []); words.set(current, 0); continue; }
      const below = inherited.get(parent.name) ?? [];
      const own = parent.spec.dockerArguments ?? [];
      const count = (words.get(parent.name) ?? 0) + own.length;
      if (overLimit.has(parent.name) || count > MAX_RUN_ARGUMENTS) {
        overLimit.add(current);
        inherited.set(current, below);
        words.set(current, words.get(parent.name) ?? 0);
        continue;
      }
      inherited.set(current, own.length > 0 ? [...below, { environment: parent.name, args: own }] : below);
      words.set(current, count);
    }
  }
  return { inherited, overLimit };
}

export function checkPolicy(name: string, spec: EnvironmentSpec, policy: PolicyConfig, source: SourceMap, inherited: { environment: string; args: string[] }[] = []): Problem[] {
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
  out.push(...checkArguments(name, spec.dockerArguments ?? [], inherited, policy, source));
  return out;
}

function checkArguments(name: string, own: string[], inherited: { environment: string; args: string[] }[], policy: PolicyConfig, source: SourceMap): Problem[] {
  const words: { word: string; from?: string; index: number }[] = [
    ...inherited.flatMap((b) => b.args.map((word, index) => ({ word, from: b.environment, index }))),
    ...own.map((word, index) => ({ word, index })),
  ];
  const out: Problem[] = [];
  for (const reading of readDockerArguments(words.map((w) => w.word))) {
    const said = judge(reading, name, policy);
    if (!said) continue;
    const w = words[reading.at]!;
    const [at, subject] = w.from === undefined
      ? [position(source, `/dockerArguments/${w.index}`, 'value'), quote(w.word)]
      : [position(source, '/base', 'key'), `${quote(w.word)}, inherited from base environment ${quote(w.from)},`];
    out.push(problem(at, 'error', said.rule, `${subject} ${said.message}`));
  }
  return out;
}

/** The refusal for one reading, or undefined when it is harmless or the policy allows it for `name`. */
function judge(reading: Reading, name: string, policy: PolicyConfig): { rule: string; message: string } | undefined {
  if (reading.kind === 'unreadable') return { rule: 'docker-argument-syntax', message: UNREADABLE[reading.why](reading.spelled) };
  const byName = (long: string) => allowedBy(Object.hasOwn(policy.arguments, long) ? policy.arguments[long]! : [], name);
  if (reading.kind === 'unknown') {
    if (byName(reading.long)) return undefined;
    return { rule: 'policy-docker-argument', message: `uses ${reading.long}, which is no docker run flag envctl knows; list "${name}" under policy.arguments["${reading.long}"] in envctl.yaml to allow it (give its value as ${reading.long}=value)` };
  }
  const risk = reading.flag.judge(reading.value);
  const long = `--${reading.flag.long}`;
  if (!risk || byName(long)) return undefined;
  const flag = reading.spelled === long ? long : `${reading.spelled} (${long})`;
  if (risk.class === 'unlisted') {
    return { rule: 'policy-docker-argument', message: `uses ${flag}, which ${risk.what} and is not among the arguments envctl judges harmless; list "${name}" under policy.arguments["${long}"] in envctl.yaml to allow it` };
  }
  if (allowedBy(policy[risk.class], name)) return undefined;
  return { rule: 'policy-docker-argument', message: `is refused: ${flag} ${risk.what}; list "${name}" under policy.${risk.class} (or policy.arguments["${long}"]) in envctl.yaml to allow it` };
}

const UNREADABLE: Record<Unreadable, (spelled: string) => string> = {
  'positional': () => 'is not a flag: docker run would take it, and every argument after it, as the image and its command',
  'end-of-flags': () => "ends docker's flags: what follows would become the image and its command",
  'missing-value': (f) => `is the last argument, but ${f} takes a value: docker would take the image name as it`,
  'spaced': () => 'holds a flag and its value in one item, but docker reads each item as one word (a flag whose name or value has the space in it); write them as two items, or as --flag=value',
  'syntax': () => 'is not flag syntax docker reads',
  'unknown-shorthand': (f) => `uses ${f}, which is no docker run flag; write a flag envctl does not know in its long form (--name=value), which policy.arguments can allow by name`,
  'not-boolean': (f) => `gives ${f} a value docker does not read as a boolean (true, false, 1, 0, t, f)`,
};

/** A user's word in a message: JSON quoting escapes control characters; long words are cut. */
function quote(word: string): string {
  return JSON.stringify(word.length > 80 ? `${word.slice(0, 77)}...` : word);
}
