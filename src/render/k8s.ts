/**
 * A run spec as a Kubernetes Pod manifest, for a workspace session (a
 * tool's start command, its port exposed) or a job (a command): the image
 * by digest, the lifecycle as the container's command, plain variables as
 * env, secret variables from a named Secret (key = variable name), the
 * user as runAsUser. Docker arguments with a Pod equivalent are mapped
 * (--privileged, --cap-add, --shm-size); all are kept in an annotation.
 * Command and env values are written with `$` as `$$` (kubeLiteral), so
 * the kubelet's variable expansion cannot rewrite them.
 *
 * The project folder is a volume filled before the lifecycle starts: by an
 * init container that fetches the one commit and unpacks the project's
 * folder (the URL, commit and path reach git as env values of a fixed
 * script, never spliced into it), or a named volume (a claim); with
 * neither, an empty folder, so the lifecycle's `cd` still works.
 */
import { EnvctlError } from '../model/errors.js';
import { lifecycleScript, toolVariables } from './lifecycle.js';
import type { ResolvedTool } from './session.js';
import type { RunSpec } from './runspec.js';
import { readDockerArguments } from '../check/docker-args.js';
import { parseBool } from '../check/docker-values.js';

export interface PodOptions {
  /** Pod name before DNS-1123 clean-up. */
  name: string;
  /** A tool's session, or a job running `command`. */
  run: { tool: string } | { command: string };
  /** Kubernetes Secret holding the secret variables' values. */
  secretName: string;
  /** The image user's uid and gid, when the spec names a user. */
  user?: { uid: number; gid: number };
  /** Where the project's files are mounted (default /mnt/project). */
  projectDir?: string;
  /** What fills the project folder; default an empty one. */
  project?: ProjectSource;
  labels?: Record<string, string>;
}

/**
 * The project's files: a folder of a git repository at one commit (`path`
 * relative to the repository root, '' for all of it), cloned by an init
 * container running `image` (which needs git, sh and tar); or a
 * PersistentVolumeClaim the cluster already holds.
 */
export type ProjectSource =
  | { git: { repository: string; commit: string; path: string; image: string } }
  | { claim: string };

/** Where the init container keeps its clone; the project folder gets only the project's files. */
const CLONE_DIR = '/var/run/envctl-clone';

/**
 * The init container's script, fixed text: every value arrives in the
 * environment (ENVCTL_REPOSITORY, ENVCTL_COMMIT, ENVCTL_PATH,
 * ENVCTL_PROJECT_DIR, ENVCTL_CLONE_DIR) and is only ever expanded inside
 * double quotes, as one word. One commit is fetched, shallow; `git archive
 * <commit>:<path>` is the folder's tree alone, unpacked into the project
 * folder (written to a file first, so a failing archive is not an empty
 * project).
 */
export const CLONE_SCRIPT = [
  'set -eu',
  'cd "$ENVCTL_CLONE_DIR"',
  'git init -q repo',
  'cd repo',
  'git remote add origin "$ENVCTL_REPOSITORY"',
  'git fetch -q --depth 1 origin "$ENVCTL_COMMIT"',
  'git archive --format=tar -o "$ENVCTL_CLONE_DIR/project.tar" "$ENVCTL_COMMIT:$ENVCTL_PATH"',
  'tar -xf "$ENVCTL_CLONE_DIR/project.tar" -C "$ENVCTL_PROJECT_DIR"',
  'rm -rf "$ENVCTL_CLONE_DIR/repo" "$ENVCTL_CLONE_DIR/project.tar"',
].join('\n');

export interface PodManifest {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown> & { containers: Record<string, unknown>[] };
}

/** No Pod can be made for this run spec as asked (input; codes `image-unbuilt`, `tool-unknown`). */
export class PodError extends EnvctlError {
  constructor(code: string, message: string, data: Record<string, unknown> = {}) {
    super('input', code, message, { data });
  }
}

export function podManifest(spec: RunSpec, opts: PodOptions): PodManifest {
  if (spec.image.includes('{{')) throw new PodError('image-unbuilt', `${spec.environment} has no built image yet: sync it first`, { name: spec.environment });
  const projectDir = opts.projectDir ?? '/mnt/project';
  let command: string[];
  let ports: { name: string; containerPort: number; protocol: 'TCP' }[] = [];
  let toolEnv: { name: string; value: string }[] = [];
  if ('tool' in opts.run) {
    const tool = spec.workspaceTools[opts.run.tool];
    if (!tool) throw new PodError('tool-unknown', `${spec.environment} has no workspace tool "${opts.run.tool}"; it has: ${Object.keys(spec.workspaceTools).join(', ') || 'none'}`, { option: 'tool', tool: opts.run.tool });
    command = tool.start;
    if (tool.httpProxy) {
      ports = [{ name: portName(opts.run.tool), containerPort: tool.httpProxy.port, protocol: 'TCP' }];
      // Told as envctl run tells a tool (lifecycle.ts TOOL_VARIABLES): all interfaces, for the proxy in front of the
      // Pod; its own port; and, unless the proxy rewrites the path away, the session's path to serve under.
      const basePath = tool.httpProxy.rewrite === true ? '/' : (tool as ResolvedTool).basePath ?? '/';
      toolEnv = toolVariables({ host: '0.0.0.0', port: tool.httpProxy.port, baseUrl: basePath });
    }
  } else {
    command = ['sh', '-c', opts.run.command];
  }
  const env = spec.variables.map((v) => ('secret' in v
    ? { name: v.name, valueFrom: { secretKeyRef: { name: opts.secretName, key: v.name } } }
    : { name: v.name, value: kubeLiteral(v.value) }))
    .concat(toolEnv.map((v) => ({ name: v.name, value: kubeLiteral(v.value) })));
  const docker = dockerToPod(spec.dockerArguments);
  const securityContext: Record<string, unknown> = { ...docker.securityContext };
  if (opts.user) Object.assign(securityContext, { runAsUser: opts.user.uid, runAsGroup: opts.user.gid });
  const container: Record<string, unknown> = {
    name: 'main',
    image: spec.image,
    command: ['/bin/sh', '-c', lifecycleScript(spec, { command, projectDir })].map(kubeLiteral),
    workingDir: projectDir,
    env,
    ...(ports.length ? { ports } : {}),
    ...(Object.keys(securityContext).length ? { securityContext } : {}),
    volumeMounts: [{ name: 'project', mountPath: projectDir }, ...docker.volumeMounts],
  };
  const project = projectVolumes(opts.project, projectDir, securityContext);
  const labels = {
    'app.kubernetes.io/managed-by': 'envctl',
    'envctl.io/environment': spec.environment,
    ...(spec.revision !== null ? { 'envctl.io/revision': String(spec.revision) } : {}),
    ...(opts.labels ?? {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: dnsName(opts.name),
      labels,
      annotations: spec.dockerArguments.length ? { 'envctl.io/docker-arguments': JSON.stringify(spec.dockerArguments) } : {},
    },
    spec: {
      restartPolicy: 'Never',
      ...(project.initContainers.length ? { initContainers: project.initContainers } : {}),
      containers: [container],
      volumes: [...project.volumes, ...docker.volumes],
    },
  };
}

/** The project volume, and the init container that fills it from git (as the main container's user, so the files are theirs). */
function projectVolumes(source: ProjectSource | undefined, projectDir: string, securityContext: Record<string, unknown>): { volumes: unknown[]; initContainers: unknown[] } {
  if (source && 'claim' in source) return { volumes: [{ name: 'project', persistentVolumeClaim: { claimName: source.claim } }], initContainers: [] };
  const volumes: unknown[] = [{ name: 'project', emptyDir: {} }];
  if (!source) return { volumes, initContainers: [] };
  const { repository, commit, path, image } = source.git;
  const user = Object.fromEntries(Object.entries(securityContext).filter(([k]) => k === 'runAsUser' || k === 'runAsGroup'));
  const env = { ENVCTL_REPOSITORY: repository, ENVCTL_COMMIT: commit, ENVCTL_PATH: path, ENVCTL_PROJECT_DIR: projectDir, ENVCTL_CLONE_DIR: CLONE_DIR, HOME: CLONE_DIR };
  return {
    volumes: [...volumes, { name: 'project-clone', emptyDir: {} }],
    initContainers: [{
      name: 'project',
      image,
      command: ['/bin/sh', '-c', CLONE_SCRIPT].map(kubeLiteral),
      env: Object.entries(env).map(([name, value]) => ({ name, value: kubeLiteral(value) })),
      volumeMounts: [{ name: 'project', mountPath: projectDir }, { name: 'project-clone', mountPath: CLONE_DIR }],
      ...(Object.keys(user).length ? { securityContext: user } : {}),
    }],
  };
}

/**
 * The kubelet expands `$(NAME)` in a container's command, args and env
 * values from the container's environment, and reads `$$` as one `$`
 * (EnvVar.value and Container.command in the core/v1 API reference: "Double
 * $$ are reduced to a single $ … Escaped references will never be
 * expanded"). Every `$` doubled: the process sees exactly the text written,
 * the same as the Dockerfile's ENV, where `$` is escaped too.
 */
export function kubeLiteral(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

/** The Pod settings some docker arguments have; the rest only travel in the annotation. */
function dockerToPod(args: string[]): { securityContext: Record<string, unknown>; volumes: unknown[]; volumeMounts: unknown[] } {
  const securityContext: Record<string, unknown> = {};
  const add: string[] = [];
  const volumes: unknown[] = [];
  const volumeMounts: unknown[] = [];
  // Read as docker reads them (check/docker-args.ts), the reading the policy judged:
  // `--privileged=false` is not privileged, `--cap-add` `SYS_ADMIN` as two words is one flag.
  for (const reading of readDockerArguments(args)) {
    if (reading.kind !== 'flag') continue;
    const { flag, value } = reading;
    if (flag.long === 'privileged' && parseBool(value)) securityContext.privileged = true;
    else if (flag.long === 'cap-add' && value) add.push(value.toUpperCase().replace(/^CAP_/, ''));
    else if (flag.long === 'shm-size' && value) {
      volumes.push({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: value.replace(/([kmg])b?$/i, (_, u: string) => `${u.toUpperCase()}i`) } });
      volumeMounts.push({ name: 'dshm', mountPath: '/dev/shm' });
    }
  }
  if (add.length) securityContext.capabilities = { add };
  return { securityContext, volumes, volumeMounts };
}

/** RFC 1123 label: lowercase letters, digits and dashes, at most 63. */
export function dnsName(name: string): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return clean || 'envctl';
}

/** Container port names: at most 15 characters, lowercase letters, digits and dashes. */
function portName(tool: string): string {
  return dnsName(tool).slice(0, 15).replace(/-+$/, '') || 'http';
}
