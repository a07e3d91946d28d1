/**
 * The run spec's lifecycle as one POSIX sh script, the same for a local run
 * and a Kubernetes Pod: pre-setup, the project's requirements.txt when
 * present, post-setup, pre-run, the command; post-run when stopping (the
 * command's end, or SIGINT/SIGTERM). The setup scripts are bash by the
 * product's definition; they are run with bash when the image has it.
 * User values enter only as single-quoted words (`shellQuote`).
 */
import type { RunSpec } from './runspec.js';

export interface LifecycleOptions {
  /** The command, already a list of words (a tool's start, or `sh -c <job command>`). */
  command: string[];
  /** Where the project is mounted; the scripts and command run there. */
  projectDir: string;
  /** A file of `NAME='value'` lines sourced first (secret values, never in the image or the spec). */
  secretsFile?: string;
  /** Run the command (only the command: setup scripts run as root, as in the product) as this user, with su. */
  runAs?: string;
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
    if (step.step === 'requirements') lines.push(`if [ -f ${step.file} ]; then pip install -r ${step.file}; fi`);
    else if (step.step === 'command') {
      const words = opts.command.map(shellQuote).join(' ');
      const command = opts.runAs ? `su -s /bin/sh ${shellQuote(opts.runAs)} -c ${shellQuote(words)}` : words;
      lines.push(`if command -v setsid >/dev/null 2>&1; then setsid ${command} & else ${command} & fi`, 'envctl_pid=$!', 'wait "$envctl_pid"');
    }
    else lines.push(script(step.script));
  }
  return `${lines.join('\n')}\n`;
}
