import { openRepository } from '../repository/index.js';
import { runLocally } from '../repository/run.js';
import { resolveTarget } from '../repository/target.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { revisionOption } from './pick.js';

export const run: Command = {
  name: 'run',
  summary: 'start a project or environment from its built image on this machine',
  usage: `envctl run <project|environment> [--revision N] [--mount DIR] [--tool NAME | -- COMMAND…]

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
Exits with the command's exit code.`,
  options: { ...COMMON, revision: { type: 'string' }, mount: { type: 'string' }, tool: { type: 'string' } },
  async run(args, io) {
    const [name, ...command] = args.positionals;
    if (name === undefined) throw new UsageError('name one project or environment');
    if (command.length > 0 && args.values.tool !== undefined) throw new UsageError('--tool or a command, not both');
    const revision = revisionOption(args);
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const target = await resolveTarget(repo, name, revision);
    return runLocally(root, repo.config, target, {
      ...(typeof args.values.tool === 'string' ? { tool: args.values.tool } : {}),
      ...(command.length > 0 ? { command } : {}),
      ...(typeof args.values.mount === 'string' ? { mount: args.values.mount } : {}),
      cwd: io.cwd, env: io.env,
    });
  },
};
