/** `envctl <command>`: parse arguments, dispatch to one command file, map failures to exit codes. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EnvctlError } from '../model/errors.js';
import { printable } from '../model/text.js';
import { guardedIo, type Command, type Io } from './command.js';
import { render } from './render.js';
import { revisions } from './revisions.js';
import { show } from './show.js';
import { diff } from './diff.js';
import { rollback } from './rollback.js';
import { status } from './status.js';
import { plan } from './plan.js';
import { sync } from './sync.js';
import { build } from './build.js';
import { base } from './base.js';
import { validate } from './validate.js';
import { codeowners } from './codeowners.js';
import { record } from './record.js';
import { comment } from './comment.js';
import { usage } from './usage.js';
import { duplicate } from './duplicate.js';
import { runSpec } from './run-spec.js';
import { run } from './run.js';
import { site } from './site.js';
import { packages } from './packages.js';
import { importCommand } from './import.js';
import { publish } from './publish.js';

export const COMMANDS: Command[] = [validate, render, revisions, show, diff, packages, rollback, plan, build, sync, record, status, base, codeowners, comment, usage, duplicate, runSpec, run, site, importCommand, publish];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'envctl: compute environments as code',
    '',
    'Usage: envctl <command> [options]   (envctl <command> --help for its options)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes -C DIR to run in another repository folder.',
  ].join('\n');
}

export async function main(argv: string[], given: Io): Promise<number> {
  const io = guardedIo(given);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    io.out(pkg.version);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`envctl: unknown command "${printable(name)}"\n\n${help()}`);
    return 2;
  }
  try {
    const parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    if (parsed.values.help) {
      io.out(command.usage);
      return 0;
    }
    return await command.run(parsed, io);
  } catch (err) {
    return failed(command, err, io);
  }
}

/**
 * Input errors about the repository or the machine rather than the command
 * line (a shallow clone, a clone without the configured branch, a ledger a
 * newer envctl wrote, object alternates, no Debian mirror to make a base
 * from): exit 1 as they always have, with the hint and without the usage,
 * which would not help.
 */
const NOT_THE_COMMAND_LINE = new Set([
  'history-shallow', 'branch-not-found', 'ledger-not-json', 'ledger-format-unknown', 'ledger-malformed', 'git-alternates', 'debian-mirror-missing',
  'state-folder-tracked', 'state-folder-link', 'state-folder-not-folder',
]);

/**
 * A command's failure → its exit code, by the error's kind:
 * - input, not-found (the CLI's own UsageError is input; node's argument
 *   parser's errors are too): exit 2, the message (with the flag it is
 *   about, and the value given, when `data.option` and `data.value` name
 *   them) and the command's usage;
 *   except those in NOT_THE_COMMAND_LINE: exit 1, without the usage;
 * - external: exit 1, the host that failed and its message, the hint on
 *   the next line;
 * - anything else is envctl's own fault: exit 1, the message and a request
 *   to report it; the stack only with ENVCTL_DEBUG=1.
 */
function failed(command: Command, err: unknown, io: Io): number {
  const debug = () => {
    if (io.env.ENVCTL_DEBUG && io.env.ENVCTL_DEBUG !== '0') io.err(String((err as Error)?.stack ?? err));
  };
  // A hint may have lines of its own; a message is one line, whatever values it quotes.
  const hint = (e: EnvctlError) => {
    if (e.hint) io.err(`  ${e.hint.split('\n').map(printable).join('\n  ')}`);
  };
  if ((err as { code?: unknown })?.code !== undefined && String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
    io.err(`envctl ${command.name}: ${printable((err as Error).message)}\n\n${command.usage}`);
    return 2;
  }
  if (err instanceof EnvctlError && (err.kind === 'input' || err.kind === 'not-found') && NOT_THE_COMMAND_LINE.has(err.code)) {
    io.err(`envctl ${command.name}: ${printable(err.message)}`);
    hint(err);
    debug();
    return 1;
  }
  if (err instanceof EnvctlError && (err.kind === 'input' || err.kind === 'not-found')) {
    // The library names the option (and the value it was given) as data; the CLI says it as its flag.
    const { option: name, value } = err.data;
    const option = typeof name !== 'string' ? '' : typeof value === 'string' ? `--${name} ${printable(value)}: ` : `--${name}: `;
    io.err(`envctl ${command.name}: ${option}${printable(err.message)}`);
    hint(err);
    io.err(`\n${command.usage}`);
    debug();
    return 2;
  }
  if (err instanceof EnvctlError && err.kind === 'external') {
    io.err(`envctl ${command.name}: ${err.host ? `${printable(err.host)}: ` : ''}${printable(err.message)}`);
    hint(err);
    debug();
    return 1;
  }
  io.err(`envctl ${command.name}: ${printable(err instanceof Error ? err.message : String(err))}`);
  io.err('  this is a bug in envctl; please report it (ENVCTL_DEBUG=1 shows where it happened)');
  debug();
  return 1;
}
