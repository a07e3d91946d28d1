/**
 * The environment spec as users write it in `environments/<name>.yaml` or
 * `environments/<name>/environment.yaml`. Field names follow the hosted
 * product's revision fields (see ARCHITECTURE.md for the mapping).
 */
import { resolveBuildArgs, substituteArgs } from './build-args.js';

export type Visibility = 'private' | 'organization' | 'global';
export type ClusterType = 'spark' | 'ray' | 'dask' | 'mpi';

/** `default`: the deployment default image from envctl.yaml; `{ stage }`: one of the spec's own stages (`FROM base AS notebooks`). */
export type BaseSpec =
  | 'default'
  | { image: string }
  | { stage: string }
  | { environment: string; revision?: number | 'active' };

/** A build stage: `FROM <base> AS <name>` and its instructions, rendered before the final FROM. */
export interface StageSpec {
  name: string;
  /** `{ environment }`: another environment's image, resolved as a base environment is (digest from the ledger). */
  base: 'default' | { image: string } | { stage: string } | { environment: string; revision?: number | 'active' };
  /** None for a stage that is only something to copy from. */
  instructions?: string;
}

export interface HttpProxy {
  port: number;
  rewrite?: boolean;
  /** Handlebars template resolved when a session starts. */
  internalPath?: string;
  requireSubdomain?: boolean;
}

export interface WorkspaceTool {
  title: string;
  iconUrl?: string;
  start: string[];
  httpProxy?: HttpProxy;
  supportedFileExtensions?: string[];
}

export interface Scripts {
  preSetup?: string;
  postSetup?: string;
  preRun?: string;
  postRun?: string;
}

/** A plain value, or a secret whose value is provided at run time and never stored. */
export type VariableSpec = string | { secret: true; description?: string };

/** A build secret: read from the caller's variable `env` when building; its value is never stored. */
export interface BuildSecretSpec {
  env: string;
  description?: string;
}

export interface EnvironmentSpec {
  title?: string;
  description?: string;
  owner: string;
  visibility?: Visibility;
  archived?: boolean;
  /** The environment's name before a rename; its revision numbers continue. */
  renamedFrom?: string;
  base?: BaseSpec;
  /** Repository folders shared by a family of environments, added to the build context under their repository path. */
  context?: string[];
  /** Target platform (os/arch[/variant]), overriding envctl.yaml's. */
  platform?: string;
  /** Build stages before the final image (its own base and instructions). */
  stages?: StageSpec[];
  instructions?: string;
  /** Build arguments: passed as `--build-arg NAME=VALUE`, in the content key, not inherited by environments built on this one. */
  buildArgs?: Record<string, string>;
  workspaceTools?: Record<string, WorkspaceTool>;
  scripts?: Scripts;
  variables?: Record<string, VariableSpec>;
  /** Build secrets by id (`RUN --mount=type=secret,id=ID`): the variable of sync's environment holding each. */
  buildSecrets?: Record<string, BuildSecretSpec>;
  dockerArguments?: string[];
  username?: string;
  /** How a project's requirements.txt is installed on a Python marked externally managed (PEP 668); inherited. */
  requirements?: RequirementsSpec;
  vpn?: boolean;
  clusterTypes?: ClusterType[];
  noCache?: boolean;
  /** Image tests: run inside the built image before its revision may become active (not inherited). */
  tests?: TestsSpec;
}

/**
 * `tests:` — commands run in the built image as its user, in order, and
 * whether the workspace tools are started and asked over HTTP. Every
 * tool's start is checked to exist and be executable whatever this says.
 */
export interface TestsSpec {
  commands?: TestCommandSpec[];
  /** `true`: start each workspace tool with an `httpProxy` and wait for an HTTP answer on its port; `{ timeout }` sets the wait. */
  tools?: boolean | { timeout?: number };
}

/** A string is the command for `/bin/sh -c`; the long form names it, gives an argv list, an expected-output pattern, a timeout. */
export type TestCommandSpec = string | {
  name?: string;
  run: string | string[];
  /** A regular expression (JavaScript, multiline) that stdout and stderr together must match. */
  expect?: string;
  /** Seconds; default TEST_TIMEOUT_DEFAULT. */
  timeout?: number;
};

export const TEST_TIMEOUT_DEFAULT = 120;
export const TOOL_TIMEOUT_DEFAULT = 60;

/** The image's virtual environment (its pip installs, its bin leads PATH), or pip's own PEP 668 override. */
export type RequirementsSpec = { venv: string } | { pip: 'break-system-packages' };

export function isSecret(v: VariableSpec): v is { secret: true; description?: string } {
  return typeof v === 'object' && v !== null && (v as { secret?: unknown }).secret === true;
}

/** Normalised view of `base`, so later stages switch on one field. */
export type ResolvedBase =
  | { kind: 'default' }
  | { kind: 'image'; image: string }
  | { kind: 'environment'; environment: string; revision: number | 'active' };

/** The image reference a default or custom base is built FROM (as written, tag or digest); undefined for a base environment. */
export function baseImageOf(base: ResolvedBase, defaultImage: string): string | undefined {
  return base.kind === 'default' ? defaultImage : base.kind === 'image' ? base.image : undefined;
}

/** Environments the stages are built on, with the revision each names: an environment copying from them builds after them. */
export function stageEnvironments(spec: EnvironmentSpec): { stage: number; environment: string; revision: number | 'active' }[] {
  return (spec.stages ?? []).flatMap((s, stage) => (typeof s.base === 'object' && 'environment' in s.base
    ? [{ stage, environment: s.base.environment, revision: s.base.revision ?? 'active' }] : []));
}

/**
 * What the image stands on. A final image on one of its stages stands on
 * what the stage's chain of stages starts from (their layers are in the
 * image): plan, sync, pinning, policy and the key all see that image or
 * environment, and only render writes `FROM <stage>`. A chain that cannot be
 * followed (an unknown stage, or one not earlier: check/stages.ts reports
 * them) is read as the default.
 */
export function baseOf(spec: EnvironmentSpec): ResolvedBase {
  const chain = stageChain(spec);
  const b = chain ? (chain.length > 0 ? spec.stages![chain[chain.length - 1]!]!.base : 'default') : spec.base;
  if (b === undefined || b === 'default' || 'stage' in b) return { kind: 'default' };
  // `${NAME}` in the reference reads the build arguments (ARG before FROM); one that cannot be read stays as written, and check says why.
  if ('image' in b) return { kind: 'image', image: imageWithArgs(b.image, spec) };
  return { kind: 'environment', environment: b.environment, revision: b.revision ?? 'active' };
}

/** An image reference (a base's or a stage's) with the build arguments filled in; as written when one cannot be. */
export function imageWithArgs(image: string, spec: EnvironmentSpec): string {
  return image.includes('$') ? substituteArgs(image, buildArgValues(spec)).value ?? image : image;
}

/** The build arguments' values as the builder gets them: each with the earlier ones substituted (model/build-args.ts). */
export function buildArgValues(spec: EnvironmentSpec): Record<string, string> {
  return resolveBuildArgs(spec.buildArgs).values;
}

/**
 * When the final image stands on a stage: the indices of the stages it
 * stands on, nearest first, down to the one built on an image, the default
 * or an environment; [] when the chain breaks (a name that is no earlier
 * stage). Undefined when the base is no stage. Each step goes to an earlier
 * stage, so the walk ends.
 */
export function stageChain(spec: EnvironmentSpec): number[] | undefined {
  const b = spec.base;
  if (typeof b !== 'object' || !('stage' in b)) return undefined;
  const stages = spec.stages ?? [];
  const chain: number[] = [];
  let name = b.stage;
  let limit = stages.length;
  for (;;) {
    const i = stages.findIndex((s) => s.name === name);
    if (i < 0 || i >= limit) return [];
    chain.push(i);
    const base = stages[i]!.base;
    if (typeof base !== 'object' || !('stage' in base)) return chain;
    name = base.stage;
    limit = i;
  }
}

/** One test command as run: its name in reports, its argv (a string goes to `/bin/sh -c`), pattern and timeout. */
export interface TestCommand {
  /** Index in `tests.commands`, for locating it in the file. */
  index: number;
  name: string;
  argv: string[];
  expect?: string;
  timeoutSeconds: number;
}

/** `tests.commands` in one shape: names defaulted to the command, strings run by `/bin/sh -c`. */
export function testCommands(spec: EnvironmentSpec): TestCommand[] {
  return (spec.tests?.commands ?? []).map((c, index) => {
    const long = typeof c === 'string' ? { run: c } : c;
    const argv = typeof long.run === 'string' ? ['/bin/sh', '-c', long.run] : long.run;
    const name = long.name ?? (typeof long.run === 'string' ? long.run : long.run.join(' '));
    return {
      index, name, argv, timeoutSeconds: long.timeout ?? TEST_TIMEOUT_DEFAULT,
      ...(long.expect !== undefined ? { expect: long.expect } : {}),
    };
  });
}

/** The wait for a tool's HTTP answer, or undefined when `tests.tools` does not ask for tools to be started. */
export function toolWaitSeconds(spec: EnvironmentSpec): number | undefined {
  const t = spec.tests?.tools;
  if (t === undefined || t === false) return undefined;
  return t === true ? TOOL_TIMEOUT_DEFAULT : t.timeout ?? TOOL_TIMEOUT_DEFAULT;
}

/** `expect` compiled as tests match it: JavaScript syntax, `^` and `$` at each line. Throws SyntaxError. */
export function expectPattern(expect: string): RegExp {
  return new RegExp(expect, 'm');
}
