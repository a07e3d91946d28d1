/** The shape every CLI command file exports; main.ts only dispatches. */
import { existsSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { EnvctlError } from '../model/errors.js';
import { outputText } from '../model/text.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Set when stdout is an interactive terminal: raw writes (no newline added) for live progress. */
  terminal?: { write: (raw: string) => void; columns: number };
}

/**
 * The Io commands get: whatever they print has its control characters
 * escaped (but newline and tab) and no line reads as a GitHub workflow
 * command (model/text.ts outputText), so no command has to remember. The
 * terminal's raw writes are left alone: progress draws with its own escape
 * sequences and makes its values printable itself.
 */
export function guardedIo(io: Io): Io {
  return { ...io, out: (text) => io.out(outputText(text)), err: (text) => io.err(outputText(text)) };
}

export interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Options;
  /** Returns the exit code: 0 clean, 1 problems found, 2 usage. */
  run(args: Parsed, io: Io): Promise<number>;
}

/**
 * Wrong flags or arguments, found by the CLI itself while parsing: exit 2
 * with the message and the command's usage. The library never throws it;
 * its own input errors (`inputError`, `notFound`) map to the same exit.
 */
export class UsageError extends EnvctlError {
  constructor(message: string) {
    super('input', 'usage', message);
  }
}

/** Options every command takes. */
export const COMMON: Options = {
  help: { type: 'boolean', short: 'h' },
  dir: { type: 'string', short: 'C' },
};

export function repoDir(args: Parsed, io: Io): string {
  const d = args.values.dir;
  const dir = typeof d === 'string' ? (d.startsWith('/') ? d : `${io.cwd}/${d}`) : io.cwd;
  if (!existsSync(dir)) throw new UsageError(`no folder ${dir}`);
  return dir;
}
