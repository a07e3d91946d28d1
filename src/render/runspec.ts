/**
 * The run spec: what a launcher needs to start a workspace or job from the
 * image. Secret variables appear by name only; their values never exist here.
 */
import type { CheckedEnvironment } from '../check/index.js';
import { inputError } from '../model/errors.js';
import { isSecret, type ClusterType, type RequirementsSpec, type WorkspaceTool } from '../model/spec.js';

export type RunVariable = { name: string; value: string } | { name: string; secret: true };

/** The product's order: pre-setup → requirements.txt → post-setup → pre-run → command; post-run on stop. */
export type LifecycleStep =
  | { step: 'preSetup' | 'postSetup' | 'preRun' | 'postRun'; script: string }
  | RequirementsStep
  | CommandStep;

/**
 * The project's requirements.txt, installed by the pip the environment
 * chose (`requirements:`, inherited along the base chain): a virtual
 * environment's (`venv`), or the system's with `--break-system-packages`
 * (`pip`); neither: the system's pip, refused with a clear message where
 * the image's Python is marked externally managed (PEP 668).
 */
export interface RequirementsStep { step: 'requirements'; file: 'requirements.txt'; venv?: string; pip?: 'break-system-packages' }

/**
 * The command step: a job's shell command, or a workspace tool's start
 * (`workspaceTools[tool].start`); neither while nothing chose one (a rendered
 * spec, before a launcher does).
 */
export interface CommandStep {
  step: 'command';
  command?: string;
  tool?: string;
}

/** What a run starts: a job's command (run with `sh -c`) or a workspace tool. */
export type RunCommand = { command: string } | { tool: string };

export interface RunSpec {
  environment: string;
  revision: number | null;
  /** Image reference with digest once built; a `{{image}}` placeholder before. */
  image: string;
  variables: RunVariable[];
  /** Inherited along the base chain (farthest base first), then the environment's own. */
  dockerArguments: string[];
  inheritedDockerArguments: string[];
  username: string | null;
  workspaceTools: Record<string, WorkspaceTool>;
  lifecycle: { start: LifecycleStep[]; stop: LifecycleStep[] };
  clusterTypes: ClusterType[];
  vpn: boolean;
}

export const IMAGE_PLACEHOLDER = '{{image}}';

/** The spec with its command step naming what runs; a tool must be one of the spec's workspace tools. */
export function withCommand<S extends Pick<RunSpec, 'environment' | 'lifecycle'> & { workspaceTools: Record<string, unknown> }>(spec: S, run: RunCommand): S {
  if ('tool' in run && !Object.hasOwn(spec.workspaceTools, run.tool)) {
    throw inputError('tool-unknown', `${spec.environment} has no workspace tool "${run.tool}"; it has: ${Object.keys(spec.workspaceTools).join(', ') || 'none'}`, { data: { option: 'tool', tool: run.tool } });
  }
  const step: CommandStep = 'tool' in run ? { step: 'command', tool: run.tool } : { step: 'command', command: run.command };
  return { ...spec, lifecycle: { ...spec.lifecycle, start: spec.lifecycle.start.map((s) => (s.step === 'command' ? step : s)) } };
}

/** `chain`: the base environments, nearest first. */
export function renderRunSpec(env: CheckedEnvironment, chain: CheckedEnvironment[], image = IMAGE_PLACEHOLDER, revision: number | null = null): RunSpec {
  const farthestFirst = [...chain].reverse();
  const inherited = farthestFirst.flatMap((e) => e.spec.dockerArguments ?? []);
  const variables = new Map<string, RunVariable>();
  const tools: Record<string, WorkspaceTool> = {};
  let username: string | null = null;
  let requirements: RequirementsSpec | undefined;
  for (const e of [...farthestFirst, env]) {
    for (const [name, v] of Object.entries(e.spec.variables ?? {})) {
      variables.set(name, isSecret(v) ? { name, secret: true } : { name, value: String(v) });
    }
    Object.assign(tools, e.spec.workspaceTools ?? {});
    username = e.spec.username ?? username;
    requirements = e.spec.requirements ?? requirements;
  }
  const scripts = env.spec.scripts ?? {};
  const start: LifecycleStep[] = [];
  if (scripts.preSetup) start.push({ step: 'preSetup', script: scripts.preSetup });
  start.push({ step: 'requirements', file: 'requirements.txt', ...requirements });
  if (scripts.postSetup) start.push({ step: 'postSetup', script: scripts.postSetup });
  if (scripts.preRun) start.push({ step: 'preRun', script: scripts.preRun });
  start.push({ step: 'command' });
  const stop: LifecycleStep[] = scripts.postRun ? [{ step: 'postRun', script: scripts.postRun }] : [];

  return {
    environment: env.name,
    revision,
    image,
    variables: [...variables.values()],
    dockerArguments: [...inherited, ...(env.spec.dockerArguments ?? [])],
    inheritedDockerArguments: inherited,
    username,
    workspaceTools: tools,
    lifecycle: { start, stop },
    clusterTypes: env.spec.clusterTypes ?? [],
    vpn: env.spec.vpn ?? false,
  };
}
