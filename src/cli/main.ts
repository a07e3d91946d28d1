/** `envctl <command>`: parse arguments, dispatch to one command file, map failures to exit codes. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, type Command, type Io } from './command.js';
import { render } from './render.js';
import { revisions } from './revisions.js';
import { show } from './show.js';
import { diff } from './diff.js';
import { rollback } from './rollback.js';
import { status } from './status.js';
import { plan } from './plan.js';
import { sync } from './sync.js';
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

export const COMMANDS: Command[] = [validate, render, revisions, show, diff, rollback, plan, sync, record, status, base, codeowners, comment, usage, duplicate, runSpec, run, site];

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

export async function main(argv: string[], io: Io): Promise<number> {
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
    io.err(`envctl: unknown command "${name}"\n\n${help()}`);
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
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (usage) {
      io.err(`envctl ${command.name}: ${(err as Error).message}\n\n${command.usage}`);
      return 2;
    }
    // Bad input is reported as problems; reaching here is a fault in envctl or the machine.
    io.err(`envctl ${command.name}: ${(err as Error).message ?? String(err)}`);
    // Errors that know the fix (GitHubError) say it on the next line.
    const hint = (err as { hint?: unknown }).hint;
    if (typeof hint === 'string' && hint) io.err(`  ${hint}`);
    if (io.env.ENVCTL_DEBUG) io.err(String((err as Error).stack));
    return 1;
  }
}
