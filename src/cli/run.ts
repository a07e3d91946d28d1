import { openRepository } from '../repository/index.js';
import { runLocally } from '../repository/run.js';
import { resolveTarget } from '../repository/target.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { revisionOption } from './pick.js';
import { parseSession } from './run-spec.js';

export const run: Command = {
  name: 'run',
  summary: 'start a project or environment from its built image on this machine',
  usage: `envctl run <project|environment> [--revision N] [--mount DIR]
           [--tool NAME [--port N] [--session KEY=VALUE]… | -- COMMAND…]

Starts a container from the built image (buildah or podman, whichever is
installed) with the project folder mounted at /mnt/project (the project's
own folder, --mount DIR, or the current folder) and runs the lifecycle in
the product's order: pre-setup, requirements.txt, post-setup, pre-run, the
command (a workspace tool's start with --tool, the words after --, or the
project's command); post-run when the command ends or on Ctrl-C. Variables
come from the run spec; secret variables' values from this shell's
environment (export them first). The image is found in local storage by
its digest, else pulled; with registry.address embedded, the repository's
registry is started for the pull and stopped again if run started it.
Exits with the command's exit code.
  --tool NAME          start the workspace tool NAME; it is told where to
                       listen and under which path: ENVCTL_TOOL_HOST=127.0.0.1
                       (the container shares this machine's network),
                       ENVCTL_TOOL_PORT, ENVCTL_TOOL_BASE_URL
  --port N             the tool listens on port N instead of its
                       httpProxy.port (two runs, or a port in use)
  --session KEY=VALUE  serve under the tool's internalPath for this session
                       (as run-spec resolves it, without pathToOpen);
                       without any, the tool serves under /`,
  options: {
    ...COMMON, revision: { type: 'string' }, mount: { type: 'string' }, tool: { type: 'string' },
    port: { type: 'string' }, session: { type: 'string', multiple: true },
  },
  async run(args, io) {
    const [name, ...command] = args.positionals;
    if (name === undefined) throw new UsageError('name one project or environment');
    if (command.length > 0 && args.values.tool !== undefined) throw new UsageError('--tool or a command, not both');
    const tool = typeof args.values.tool === 'string' ? args.values.tool : undefined;
    const port = portOption(args.values.port);
    const pairs = args.values.session as string[] | undefined;
    if (tool === undefined && (port !== undefined || pairs !== undefined)) throw new UsageError('--port and --session are for a workspace tool: give --tool NAME');
    const session = parseSession(pairs);
    const revision = revisionOption(args);
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const target = await resolveTarget(repo, name, revision);
    return runLocally(root, repo.config, target, {
      ...(tool !== undefined ? { tool, session } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(command.length > 0 ? { command } : {}),
      ...(typeof args.values.mount === 'string' ? { mount: args.values.mount } : {}),
      cwd: io.cwd, env: io.env, say: io.err,
    });
  },
};

function portOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const port = typeof value === 'string' && /^[1-9][0-9]{0,4}$/.test(value) ? Number(value) : 0;
  if (port < 1 || port > 65535) throw new UsageError(`--port takes a port number, 1 to 65535; got ${JSON.stringify(value)}`);
  return port;
}
