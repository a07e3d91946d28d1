/**
 * The run spec's lifecycle as one POSIX sh script, the same for a local run
 * and a Kubernetes Pod: pre-setup, the project's requirements.txt when
 * present, post-setup, pre-run, the command; post-run when stopping (the
 * command's end, or SIGINT/SIGTERM). The setup scripts are bash by the
 * product's definition; they are run with bash when the image has it.
 * User values enter only as single-quoted words (`shellQuote`).
 *
 * Everything runs as the image's user (the environment's `username`, the
 * image's USER): a Pod's runAsUser gives no way back to root, so a local
 * run does the same rather than behave differently from the cluster.
 */
import type { RequirementsStep, RunSpec } from './runspec.js';

export interface LifecycleOptions {
  /** The command, already a list of words (a tool's start, or `sh -c <job command>`). */
  command: string[];
  /** Where the project is mounted; the scripts and command run there. */
  projectDir: string;
  /** A file of `NAME='value'` lines sourced first (secret values, never in the image or the spec). */
  secretsFile?: string;
}

/**
 * Python's marker of an externally managed installation (PEP 668): the file
 * EXTERNALLY-MANAGED in the stdlib folder of a Python that is not a virtual
 * environment. Fixed text, no user value.
 */
const EXTERNALLY_MANAGED = `import os, sys, sysconfig; sys.exit(0 if sys.prefix == sys.base_prefix and os.path.isfile(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)`;

/** The requirements step: the chosen pip, or the system's after the PEP 668 check, so the refusal says what to set. */
function requirementsLines(step: RequirementsStep): string[] {
  const file = shellQuote(step.file);
  if (step.venv !== undefined) return [`if [ -f ${file} ]; then ${shellQuote(`${step.venv}/bin/pip`)} install -r ${file}; fi`];
  if (step.pip === 'break-system-packages') return [`if [ -f ${file} ]; then pip install -r ${file} --break-system-packages; fi`];
  const message = `envctl: cannot install ${step.file}: this image's Python is externally managed (PEP 668), so pip refuses to install into it. `
    + 'Choose in the environment: requirements: { venv: /opt/venv } (a virtual environment the image provides) or requirements: { pip: break-system-packages }';
  return [
    `if [ -f ${file} ]; then`,
    `  if command -v python3 >/dev/null 2>&1 && python3 -c ${shellQuote(EXTERNALLY_MANAGED)} 2>/dev/null; then echo ${shellQuote(message)} >&2; exit 1; fi`,
    `  pip install -r ${file}`,
    'fi',
  ];
}

/** One word for sh: single quotes, with embedded single quotes closed, escaped and reopened. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function lifecycleScript(spec: RunSpec, opts: LifecycleOptions): string {
  const script = (body: string) => `"$envctl_shell" -e -c ${shellQuote(body)}`;
  const lines = [
    'set -e',
    'envctl_shell=$(command -v bash || command -v sh)',
    ...(opts.secretsFile ? [`set -a; . ${shellQuote(opts.secretsFile)}; set +a`] : []),
    `cd ${shellQuote(opts.projectDir)}`,
  ];
  const requirements = spec.lifecycle.start.find((s): s is RequirementsStep => s.step === 'requirements');
  // The virtual environment leads PATH for everything after, so python3 in a script or the command sees what was installed.
  if (requirements?.venv !== undefined) lines.push(`PATH=${shellQuote(`${requirements.venv}/bin`)}:"$PATH"; export PATH`);
  const stop = spec.lifecycle.stop.find((s) => s.step === 'postRun');
  // post-run runs once, however the run ends.
  lines.push(
    'envctl_stopped=',
    `envctl_stop() { [ -n "$envctl_stopped" ] && return; envctl_stopped=1; ${stop && stop.step === 'postRun' ? `${script(stop.script)} || true` : ':'}; }`,
    'envctl_pid=',
    'trap envctl_stop EXIT',
    // The command runs in the background, in its own process group (setsid, where the image has it),
    // so a signal is handled at once and the stop reaches everything the command started.
    'envctl_kill() { [ -n "$envctl_pid" ] && { kill -TERM -"$envctl_pid" 2>/dev/null || kill -TERM "$envctl_pid" 2>/dev/null; }; }',
    `trap 'envctl_kill; exit 130' INT`,
    `trap 'envctl_kill; exit 143' TERM`,
  );
  for (const step of spec.lifecycle.start) {
    if (step.step === 'requirements') lines.push(...requirementsLines(step));
    else if (step.step === 'command') {
      const command = opts.command.map(shellQuote).join(' ');
      lines.push(`if command -v setsid >/dev/null 2>&1; then setsid ${command} & else ${command} & fi`, 'envctl_pid=$!', 'wait "$envctl_pid"');
    }
    else lines.push(script(step.script));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * What a workspace tool's start is told by the run, as variables beside the
 * run spec's own: where to listen (ENVCTL_TOOL_HOST, ENVCTL_TOOL_PORT) and
 * under which path the proxy forwards to it (ENVCTL_TOOL_BASE_URL, with a
 * leading and, from a template ending in one, a trailing `/`). A start
 * script falls back to 0.0.0.0, its httpProxy.port and `/` for what it is
 * not given. Only names envctl owns, so no variable of the environment's is
 * shadowed.
 */
export const TOOL_VARIABLES = { host: 'ENVCTL_TOOL_HOST', port: 'ENVCTL_TOOL_PORT', baseUrl: 'ENVCTL_TOOL_BASE_URL' } as const;

export interface ToolPlace {
  host?: string;
  port?: number;
  baseUrl?: string;
}

export function toolVariables(place: ToolPlace): { name: string; value: string }[] {
  return (['host', 'port', 'baseUrl'] as const).flatMap((k) => (place[k] === undefined ? [] : [{ name: TOOL_VARIABLES[k], value: String(place[k]) }]));
}
