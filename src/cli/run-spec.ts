import { dump } from 'js-yaml';
import { openRepository } from '../repository/index.js';
import { podFor, projectSourceFor, resolveRunSpec } from '../repository/run-spec.js';
import { resolveTarget } from '../repository/target.js';
import type { RunCommand } from '../render/runspec.js';
import { SESSION_FIELDS, type Session } from '../render/session.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { revisionOption } from './pick.js';

export const runSpec: Command = {
  name: 'run-spec',
  summary: 'the resolved run spec of a project or environment (JSON, or a Kubernetes Pod)',
  usage: `envctl run-spec <project|environment> [--revision N] [--session KEY=VALUE]…
                 [--format json|k8s] [--tool NAME | --command CMD] [--secret-name NAME]
                 [--project-volume NAME]

What a launcher needs to run the environment's built image: the image by
digest (from the ledger: the active revision, the one a project pins, or
--revision), variables (secret ones by name only), docker arguments
(inherited along the base chain, then the environment's own), user,
workspace tools, cluster types, and the lifecycle: pre-setup, the project's
requirements.txt, post-setup, pre-run, the command; post-run when stopping.
The command step names what runs: {"step":"command","tool":NAME} with
--tool, {"step":"command","command":CMD} with --command or the project's
command, or neither. A name that is both may be written project/NAME or
environment/NAME.
  --session KEY=VALUE  resolve the tools' paths: ${SESSION_FIELDS.join(', ')}
  --format k8s         a Pod manifest (YAML) for a workspace session (--tool)
                       or a job (--command, or the project's command); a
                       user's uid is read from the image in the registry
                       (the embedded one started for it if need be)
  --secret-name NAME   the Kubernetes Secret holding secret variables
                       (default <name>-secrets)
  --project-volume NAME
                       mount the PersistentVolumeClaim NAME at /mnt/project;
                       without it a project's folder is cloned there at this
                       checkout's HEAD by an init container (envctl.yaml's
                       project.repository and project.gitImage)`,
  options: {
    ...COMMON, revision: { type: 'string' }, session: { type: 'string', multiple: true }, format: { type: 'string' },
    tool: { type: 'string' }, command: { type: 'string' }, 'secret-name': { type: 'string' }, 'project-volume': { type: 'string' },
  },
  async run(args, io) {
    const [name, ...extra] = args.positionals;
    if (name === undefined || extra.length > 0) throw new UsageError('name one project or environment');
    const format = (args.values.format as string | undefined) ?? 'json';
    if (format !== 'json' && format !== 'k8s') throw new UsageError('--format is json or k8s');
    const revision = revisionOption(args);
    const tool = args.values.tool as string | undefined;
    if (tool !== undefined && args.values.command !== undefined) throw new UsageError('--tool or --command, not both');
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const target = await resolveTarget(repo, name, revision);
    // The command step names what runs: the tool, the command given, or the project's own command.
    const command = (args.values.command as string | undefined) ?? target.consumer?.spec.command;
    const run: RunCommand | undefined = tool !== undefined ? { tool } : command !== undefined ? { command } : undefined;
    const spec = await resolveRunSpec(root, repo.config, {
      environment: target.environment, revision: target.revision, session: parseSession(args.values.session as string[] | undefined), ...(run ? { run } : {}),
    });
    if (format === 'json') {
      io.out(JSON.stringify({ ...(target.consumer ? { [target.consumer.kind]: target.consumer.name } : {}), ...spec }, null, 2));
      return 0;
    }
    if (run === undefined) throw new UsageError('a Pod runs a workspace tool (--tool NAME) or a job (--command CMD)');
    const podName = target.consumer?.name ?? target.environment;
    const project = await projectSourceFor(root, repo.config, target, args.values['project-volume'] as string | undefined);
    const pod = await podFor(root, repo.config, spec, {
      ...(project ? { project } : {}),
      name: `${podName}-${tool ?? 'job'}`,
      run,
      secretName: (args.values['secret-name'] as string | undefined) ?? `${podName}-secrets`,
      labels: target.consumer ? { [`envctl.io/${target.consumer.kind}`]: target.consumer.name } : {},
    });
    io.out(dump(pod, { lineWidth: -1, noRefs: true }).trimEnd());
    return 0;
  },
};

export function parseSession(pairs: string[] | undefined): Session {
  const session: Session = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq) as (typeof SESSION_FIELDS)[number];
    if (eq < 1 || !SESSION_FIELDS.includes(key)) throw new UsageError(`--session takes KEY=VALUE with KEY one of ${SESSION_FIELDS.join(', ')}`);
    session[key] = pair.slice(eq + 1);
  }
  return session;
}
