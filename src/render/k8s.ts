/**
 * A run spec as a Kubernetes Pod manifest, for a workspace session (a
 * tool's start command, its port exposed) or a job (a command): the image
 * by digest, the lifecycle as the container's command, plain variables as
 * env, secret variables from a named Secret (key = variable name), the
 * user as runAsUser. Docker arguments with a Pod equivalent are mapped
 * (--privileged, --cap-add, --shm-size); all are kept in an annotation.
 * Command and env values are written with `$` as `$$` (kubeLiteral), so
 * the kubelet's variable expansion cannot rewrite them.
 */
import { EnvctlError } from '../model/errors.js';
import { lifecycleScript } from './lifecycle.js';
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
  /** Where the project's files are mounted (a volume the cluster provides). */
  projectDir?: string;
  labels?: Record<string, string>;
}

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
  if ('tool' in opts.run) {
    const tool = spec.workspaceTools[opts.run.tool];
    if (!tool) throw new PodError('tool-unknown', `${spec.environment} has no workspace tool "${opts.run.tool}"; it has: ${Object.keys(spec.workspaceTools).join(', ') || 'none'}`, { option: 'tool', tool: opts.run.tool });
    command = tool.start;
    if (tool.httpProxy) ports = [{ name: portName(opts.run.tool), containerPort: tool.httpProxy.port, protocol: 'TCP' }];
  } else {
    command = ['sh', '-c', opts.run.command];
  }
  const env = spec.variables.map((v) => ('secret' in v
    ? { name: v.name, valueFrom: { secretKeyRef: { name: opts.secretName, key: v.name } } }
    : { name: v.name, value: kubeLiteral(v.value) }));
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
    ...(docker.volumeMounts.length ? { volumeMounts: docker.volumeMounts } : {}),
  };
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
      containers: [container],
      ...(docker.volumes.length ? { volumes: docker.volumes } : {}),
    },
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
