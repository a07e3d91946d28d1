/**
 * `envctl run`: the built image started on this machine with the project
 * folder mounted at /mnt/project, the lifecycle in the product's order,
 * the run spec's variables, and secret values taken from the caller's
 * environment (never written to the image or the spec). The embedded
 * registry, when envctl.yaml names it, is started for the container's
 * creation (the image may have to be pulled) and stopped again if this run
 * started it.
 *
 * A workspace tool (`--tool`) is told where to listen and under which path
 * (lifecycle.ts toolVariables): on loopback (the container shares the
 * host's network, and a tool behind the product's proxy has no login of
 * its own), on `--port` or its httpProxy.port, under its internalPath
 * resolved by `--session` (without pathToOpen, which is what to open, not
 * where the tool lives) unless the proxy rewrites paths (`rewrite: true`:
 * the tool sees `/`).
 */
import { resolve } from 'node:path';
import { chooseEngine, runContainer, SECRETS_FILE } from '../builder/container.js';
import { resolveStorage } from '../builder/storage.js';
import { withEmbeddedRegistry } from '../registry/embedded.js';
import type { Config } from '../model/config.js';
import { inputError } from '../model/errors.js';
import { writeLoginFile } from '../registry/auth.js';
import { lifecycleScript, toolVariables, type ToolPlace } from '../render/lifecycle.js';
import { resolveTools, type Session } from '../render/session.js';
import type { WorkspaceTool } from '../model/spec.js';
import { resolveRunSpec } from './run-spec.js';
import type { RunTarget } from './target.js';
import { noun } from '../model/words.js';

export const PROJECT_DIR = '/mnt/project';
/** Where a locally run tool listens: this machine only. */
export const LOCAL_TOOL_HOST = '127.0.0.1';

export interface RunOptions {
  /** A workspace tool's start command… */
  tool?: string;
  /** The port the tool listens on instead of its httpProxy.port (the host's network is shared, so the tool itself must move). */
  port?: number;
  /** Session values (as run-spec's --session) resolving the tool's internalPath into the path it serves under. */
  session?: Session;
  /** …or a command (words); otherwise the project's own command. */
  command?: string[];
  /** The folder mounted as the project: default the project's folder, else the current one. */
  mount?: string;
  cwd: string;
  /** Told, for a tool with a port, the address it will answer on once started. */
  say?: (line: string) => void;
  /** Where secret values come from. */
  env: NodeJS.ProcessEnv;
}

export async function runLocally(root: string, config: Config, target: RunTarget, opts: RunOptions): Promise<number> {
  const spec = await resolveRunSpec(root, config, { environment: target.environment, revision: target.revision });
  let command: string[];
  let place: ToolPlace = {};
  if (opts.tool !== undefined) {
    const tool = spec.workspaceTools[opts.tool];
    if (!tool) throw inputError('tool-unknown', `${spec.environment} has no workspace tool "${opts.tool}"; it has: ${Object.keys(spec.workspaceTools).join(', ') || 'none'}`, { data: { option: 'tool', tool: opts.tool } });
    command = tool.start;
    place = toolPlace(opts.tool, tool, opts);
    if (place.port !== undefined) opts.say?.(`envctl run: ${opts.tool} answers on http://${place.host}:${place.port}${place.baseUrl ?? '/'} once started`);
  } else if (opts.command && opts.command.length > 0) {
    command = opts.command;
  } else if (target.consumer?.spec.command) {
    command = ['sh', '-c', target.consumer.spec.command];
  } else {
    throw inputError('command-missing', 'nothing to run: give a command or a workspace tool', { data: { name: target.environment } });
  }
  const secrets = spec.variables.filter((v) => 'secret' in v).map((v) => v.name);
  const missing = secrets.filter((n) => opts.env[n] === undefined);
  if (missing.length > 0) throw inputError('secrets-missing', `${spec.environment} needs the ${noun(missing.length, 'secret variable')} ${missing.join(', ')}: export ${noun(missing.length, 'it', 'them')} before the run`, { data: { variables: missing } });
  const host = opts.mount !== undefined ? resolve(opts.cwd, opts.mount) : target.consumer?.folder ? resolve(root, target.consumer.folder) : opts.cwd;
  const login = await writeLoginFile(config.registry.address, opts.env);
  try {
    const engine = await chooseEngine();
    // buildah's images are kept per storage driver: the one builds use, or an image built here is not found here.
    const storage = engine === 'buildah' ? (await resolveStorage(config.storage)).driver : undefined;
    return await runContainer(engine, {
      image: spec.image,
      script: lifecycleScript(spec, { command, projectDir: PROJECT_DIR, secretsFile: SECRETS_FILE }),
      env: [...spec.variables.flatMap((v) => ('value' in v ? [{ name: v.name, value: v.value }] : [])), ...toolVariables(place)],
      secrets: secrets.map((name) => ({ name, value: opts.env[name]! })),
      mounts: [{ host, container: PROJECT_DIR }],
      insecure: config.registry.insecure,
      isolation: config.isolation,
      ...(storage ? { storage } : {}),
      ...(login ? { authFile: login.file } : {}),
    }, { pulling: (pull) => withEmbeddedRegistry(root, config.registry, pull) });
  } finally {
    await login?.remove();
  }
}

/**
 * Where the tool listens and its path: loopback, the port asked for or its
 * own, and its internalPath for the session (all of the template's
 * placeholders but pathToOpen must be given once any is; none given: `/`).
 */
export function toolPlace(name: string, tool: WorkspaceTool, opts: { port?: number; session?: Session }): ToolPlace {
  const port = opts.port ?? tool.httpProxy?.port;
  const place: ToolPlace = { host: LOCAL_TOOL_HOST, ...(port !== undefined ? { port } : {}) };
  const { pathToOpen: _open, ...session } = opts.session ?? {};
  if (tool.httpProxy?.rewrite === true || Object.keys(session).length === 0) return { ...place, baseUrl: '/' };
  // The tool as declared: a run spec's tool may carry an earlier resolution (its `missing`, its `resolvedPath`).
  const declared: WorkspaceTool = { title: tool.title, start: tool.start, ...(tool.httpProxy ? { httpProxy: tool.httpProxy } : {}) };
  const resolved = resolveTools({ [name]: declared }, session)[name]!;
  if (resolved.missing) throw inputError('session-missing', `workspace tool ${name}'s path needs ${resolved.missing.map((k) => `--session ${k}=…`).join(', ')}`, { data: { option: 'session', tool: name, missing: resolved.missing } });
  return { ...place, baseUrl: resolved.resolvedPath ?? '/' };
}
