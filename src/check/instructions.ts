/**
 * The `instructions` block, parsed with dockerfile-ast as it will sit in the
 * rendered Dockerfile (after a FROM, so a `# escape=` comment is no parser
 * directive here either), with each instruction mapped back to its YAML line.
 */
import type { Instruction } from 'dockerfile-ast';
import type { LoadedEnvironment } from '../load/environments.js';
import type { Config } from '../model/config.js';
import { checkAgreement, type AstStart } from './agreement.js';
import { checkCopy } from './copy-sources.js';
import { parseBlock, parseDockerfile } from './dockerfile.js';
import { lint, type ParsedInstruction, type Where } from './lint.js';
import { problem, type Location, type Problem } from '../model/problem.js';

export { consecutiveRuns, type ParsedInstruction, type Where } from './lint.js';

/** Instructions that add a filesystem layer; the rest change only the image config. */
export const LAYER_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
const KNOWN = new Set([
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]);

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
export function checkInstructions(env: LoadedEnvironment, text: string, builder: Config['builder'] = 'auto', pointer = '/instructions'): InstructionFindings {
  const problems: Problem[] = [];
  const locate = locator(env, pointer);
  const where: Where = (i) => locate(i.blockLine - 1, i.blockCol);
  // Read as rendered: render drops trailing white space (render/dockerfile.ts instructionsBlock).
  const trimmed = text.trimEnd(); // the same white space as /\s+$/, without the regular expression's rescans
  const body = trimmed === '' ? '' : `${trimmed}\n`;
  const sentinelLine = 1 + newlines(body); // the preamble's line, then the body's
  const block = parseBlock(body, PREAMBLE, SENTINEL);
  const instructions: ParsedInstruction[] = [];
  const lines = text.split('\n');
  const astClean = block.sentinelClean;
  const ast: AstStart[] = block.starts;
  for (const s of ast) {
    // Parser line n is block line n - 1 (0-based): blockLine (1-based) is the keyword's parser line.
    const own = s.line === s.endLine ? lines[s.line]! : lines.slice(s.line, s.endLine + 1).join('\n');
    instructions.push({ keyword: s.keyword, text: own.trim(), blockLine: s.line + 1, blockCol: s.col });
  }
  const astAt = new Map<number, Instruction | undefined>();
  const instructionAt = (line: number) => (astAt.has(line) ? astAt.get(line) : block.instructionAt(line));

  const agreed = checkAgreement(body + SENTINEL, sentinelLine - 1, ast, builder, locate, block.plain);
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
      } else if ((keyword === 'COPY' || keyword === 'ADD') && instructionAt(line)?.getKeyword().toUpperCase() === keyword) {
        problems.push(...checkCopy(env, instructionAt(line)!, keyword, at, builder));
      }
    }
  }

  const endsCleanly = astClean && agreed.endsCleanly;
  if (!endsCleanly) {
    const last = instructions[instructions.length - 1];
    problems.push(problem(last ? where(last) : locate(0, 0), 'error', 'instructions-unterminated',
      'the last instruction does not end (a trailing "\\" or a heredoc without its end marker), so it would swallow what envctl writes after it (USER, labels)'));
  }
  problems.push(...lint(instructions, lines, where, locate));
  return { instructions, where, endsCleanly, problems };
}

function newlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Maps (0-based line in the block at `pointer`: the final instructions or a stage's, 0-based column) to a location in the YAML file. */
export function locator(env: LoadedEnvironment, pointer = '/instructions'): (line: number, col: number) => Location {
  return (line, col) => {
    const pos = env.positions.get(pointer);
    if (!pos) return { file: env.file, line: 1, col: 1 };
    const start = env.lines.locate(env.file, pos.value);
    if (pos.literalIndent === undefined) return start;
    return { file: env.file, line: start.line + line, col: pos.literalIndent + 1 + col };
  };
}
