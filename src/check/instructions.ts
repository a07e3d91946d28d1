/**
 * The `instructions` block, parsed with dockerfile-ast as it will sit in the
 * rendered Dockerfile (after a FROM, so a `# escape=` comment is no parser
 * directive here either), with each instruction mapped back to its YAML line.
 */
import type { Instruction } from 'dockerfile-ast';
import { posix } from 'node:path';
import type { LoadedEnvironment } from '../load/environments.js';
import type { Config } from '../model/config.js';
import { checkAgreement, type AstStart } from './agreement.js';
import { parseDockerfile } from './dockerfile.js';
import { problem, type Location, type Problem } from '../model/problem.js';

/** Instructions that add a filesystem layer; the rest change only the image config. */
export const LAYER_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
const KNOWN = new Set([
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]);

export interface ParsedInstruction {
  keyword: string;
  /** The instruction's text as written, continuation lines included. */
  text: string;
  /** 1-based line in the instructions block. */
  blockLine: number;
  /** 0-based column in that line. */
  blockCol: number;
}

/** Where an instruction starts in the YAML file; computed only when a problem needs it. */
export type Where = (ins: ParsedInstruction) => Location;

export interface InstructionFindings {
  instructions: ParsedInstruction[];
  where: Where;
  /** False when the block's end would swallow what envctl writes after it (a trailing "\\", an open heredoc). */
  endsCleanly: boolean;
  problems: Problem[];
}

const PREAMBLE = 'FROM scratch\n';
/** Parsed after the block: it must come out as an instruction of its own, or the block does not end cleanly. */
const SENTINEL = 'LABEL envctl.end-of-instructions=1';

/**
 * `builder` decides how the builders read the block (see agreement.ts): every
 * line one of them starts an instruction at is checked as an instruction.
 */
export function checkInstructions(env: LoadedEnvironment, text: string, builder: Config['builder'] = 'auto'): InstructionFindings {
  const problems: Problem[] = [];
  const locate = locator(env);
  const where: Where = (i) => locate(i.blockLine - 1, i.blockCol);
  // Read as rendered: render drops trailing white space (render/dockerfile.ts instructionsBlock).
  const trimmed = text.replace(/\s+$/, '');
  const body = trimmed === '' ? '' : `${trimmed}\n`;
  const sentinelLine = (PREAMBLE + body).split('\n').length - 1;
  const dockerfile = parseDockerfile(PREAMBLE + body + SENTINEL);
  const instructions: ParsedInstruction[] = [];
  const lines = text.split('\n');
  const all = dockerfile.getInstructions();
  const tail = all[all.length - 1];
  const astClean = tail !== undefined && tail.getRange().start.line === sentinelLine && tail.getKeyword() === 'LABEL';

  const ast: AstStart[] = [];
  const astAt = new Map<number, Instruction>();
  for (const ins of all) {
    const start = ins.getRange().start;
    if (start.line === 0 || start.line >= sentinelLine) continue; // the preamble and the sentinel
    const blockLine = start.line; // preamble is line 0, so block line n (1-based) is parser line n
    const keyword = ins.getKeyword().toUpperCase();
    instructions.push({ keyword, text: instructionText(lines, ins), blockLine, blockCol: start.character });
    const kw = ins.getInstructionRange().start;
    ast.push({ keyword, word: ins.getKeyword(), line: kw.line - 1, col: kw.character, endLine: ins.getRange().end.line - 1 });
    astAt.set(kw.line - 1, ins);
  }

  const agreed = checkAgreement(body + SENTINEL, sentinelLine - 1, ast, builder, locate);
  problems.push(...agreed.problems);
  for (const extra of agreed.builderOnly) {
    // A line only a builder reads as an instruction: checked (and counted) all the same.
    instructions.push({ keyword: extra.keyword, text: lines[extra.line]?.trim() ?? extra.text, blockLine: extra.line + 1, blockCol: extra.col });
    const alone = parseDockerfile(PREAMBLE + extra.text).getInstructions()[1];
    if (alone) astAt.set(extra.line, alone);
  }
  instructions.sort((a, b) => a.blockLine - b.blockLine);
  for (const ins of instructions) ins.keyword = agreed.builderKeyword.get(ins.blockLine - 1) ?? ins.keyword; // `\u00a0RUN` is a RUN to the builder

  for (const [line, found] of agreed.keywords) {
    for (const { keyword, word, col, inRefusedHeredoc } of found) {
      const at = () => locate(line, col);
      if (keyword === 'FROM') {
        problems.push(problem(at(), 'error', 'instructions-from',
          'FROM is not allowed in instructions: the base decides it; set `base:` to an image or another environment'));
      } else if (!KNOWN.has(keyword)) {
        if (!inRefusedHeredoc) problems.push(problem(at(), 'error', 'instructions-unknown', `unknown instruction "${word}"`));
      } else if ((keyword === 'COPY' || keyword === 'ADD') && astAt.get(line)?.getKeyword().toUpperCase() === keyword) {
        problems.push(...checkCopy(env, astAt.get(line)!, keyword, at));
      }
    }
  }

  const endsCleanly = astClean && agreed.endsCleanly;
  if (!endsCleanly) {
    const last = instructions[instructions.length - 1];
    problems.push(problem(last ? where(last) : locate(0, 0), 'error', 'instructions-unterminated',
      'the last instruction does not end (a trailing "\\" or a heredoc without its end marker), so it would swallow what envctl writes after it (USER, labels)'));
  }
  problems.push(...lint(instructions, where));
  return { instructions, where, endsCleanly, problems };
}

/** Maps (0-based line in the block, 0-based column) to a location in the YAML file. */
export function locator(env: LoadedEnvironment): (line: number, col: number) => Location {
  return (line, col) => {
    const pos = env.positions.get('/instructions');
    if (!pos) return { file: env.file, line: 1, col: 1 };
    const start = env.lines.locate(env.file, pos.value);
    if (pos.literalIndent === undefined) return start;
    return { file: env.file, line: start.line + line, col: pos.literalIndent + 1 + col };
  };
}

/** Parser lines count the preamble, so parser line n is block line n - 1 (0-based). */
function instructionText(lines: string[], ins: Instruction): string {
  const r = ins.getRange();
  return lines.slice(r.start.line - 1, r.end.line).join('\n').trim();
}


function checkCopy(env: LoadedEnvironment, ins: Instruction, keyword: string, where: () => Location): Problem[] {
  const flags = 'getFlags' in ins ? (ins as unknown as { getFlags(): { getName(): string }[] }).getFlags() : [];
  if (flags.some((f) => f.getName() === 'from')) return []; // from another image or stage
  const sources = copySources(ins);
  if (sources === undefined) return []; // heredoc: inline content
  const out: Problem[] = [];
  let here: Location | undefined;
  const at = () => (here ??= where());
  for (const src of sources) {
    if (keyword === 'ADD' && /^(https?:\/\/|git@|git:\/\/)/.test(src)) continue;
    if (src.includes('$')) continue; // resolved by the builder from ARG/ENV
    const rel = posix.normalize(src.replace(/^\/+/, '')).replace(/\/+$/, '');
    if (rel === '..' || rel.startsWith('../')) {
      out.push(problem(at(), 'error', 'copy-outside-context', `${keyword} source "${src}" is outside the environment's folder`));
      continue;
    }
    if (!env.folder) {
      out.push(problem(at(), 'error', 'copy-no-context',
        `${keyword} source "${src}": environment "${env.name}" is a single file, so there is nothing to copy; ` +
        `move it to ${posix.dirname(env.file)}/${env.name}/environment.yaml and put "${src}" beside it`));
      continue;
    }
    if (!matchesContext(env, rel)) {
      const have = env.context.map((f) => f.path.slice(env.folder!.length + 1));
      out.push(problem(at(), 'error', 'copy-missing',
        `${keyword} source "${src}" is not in ${env.folder}/ (${have.length ? `it holds: ${have.slice(0, 8).join(', ')}${have.length > 8 ? ', …' : ''}` : 'it holds no other files'})`));
    }
  }
  return out;
}

/** Sources of a COPY/ADD (all arguments but the destination), or undefined for a heredoc. */
function copySources(ins: Instruction): string[] | undefined {
  const content = (ins.getRawArgumentsContent() ?? '').replace(/\\\r?\n/g, ' ');
  let args: string[] | undefined;
  if (content.trimStart().startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(content);
      if (Array.isArray(parsed)) args = parsed.map(String);
    } catch {
      // not JSON after all: read it as words
    }
  }
  args ??= shellWords(content);
  while (args[0]?.startsWith('--')) args.shift(); // --from, --chown, --chmod, --link …
  if (args.some((a) => a.startsWith('<<'))) return undefined;
  return args.slice(0, -1);
}

/** Words as the builder splits COPY and ADD arguments: whitespace outside quotes, quotes removed, backslash escapes. */
export function shellWords(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

function matchesContext(env: LoadedEnvironment, rel: string): boolean {
  if (rel === '.' || rel === '') return true;
  const files = env.context.map((f) => f.path.slice(env.folder!.length + 1));
  if (/[*?[]/.test(rel)) {
    const re = globToRegExp(rel);
    return files.some((f) => re.test(f) || dirsOf(f).some((d) => re.test(d)));
  }
  return files.some((f) => f === rel || f.startsWith(`${rel}/`));
}

function dirsOf(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** Go filepath.Match semantics, which the builders use: `*` and `?` stop at "/". */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^\^/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const PIP_INSTALL = /\b(pip3?|python3?\s+-m\s+pip)\s+install\b/;

/** The product's documented advice: one pip install, and fewer RUN layers. */
/** Runs of two or more RUNs with nothing else between them: each could be one layer. */
export function consecutiveRuns(instructions: ParsedInstruction[]): ParsedInstruction[][] {
  const groups: ParsedInstruction[][] = [];
  let current: ParsedInstruction[] = [];
  for (const ins of [...instructions, undefined]) {
    if (ins?.keyword === 'RUN') {
      current.push(ins);
      continue;
    }
    if (current.length > 1) groups.push(current);
    current = [];
  }
  return groups;
}

function lint(instructions: ParsedInstruction[], where: Where): Problem[] {
  const out: Problem[] = [];
  for (const group of consecutiveRuns(instructions)) {
    const pips = group.filter((i) => PIP_INSTALL.test(i.text));
    if (pips.length > 1) {
      out.push(problem(where(pips[1]!), 'warning', 'lint-pip-install-split',
        `pip install in ${pips.length} RUNs in a row (block lines ${pips.map((i) => i.blockLine).join(', ')}): ` +
        'install the packages in one pip install so their versions are resolved together'));
    }
    if (pips.length < group.length) {
      out.push(problem(where(group[0]!), 'warning', 'lint-consecutive-run',
        `${group.length} RUNs in a row (block lines ${group[0]!.blockLine}–${group[group.length - 1]!.blockLine}) add ${group.length} layers; ` +
        'join them with && into one RUN'));
    }
  }
  return out;
}
