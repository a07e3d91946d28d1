/**
 * The hints on an instructions block (warnings, never errors): the product's
 * documented advice (one pip install, fewer RUN layers), silenced where they
 * stand by a comment, and BuildKit's warning for blank continuation lines.
 */
import { problem, type Location, type Problem } from '../model/problem.js';

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

const PIP_INSTALL = /\b(pip3?|python3?\s+-m\s+pip)\s+install\b/;

/**
 * hadolint's ids for the hints envctl gives too, so Dockerfiles pasted with
 * `# hadolint ignore=DL3059` keep their meaning. hadolint: "DL3059 Multiple
 * consecutive RUN instructions. Consider consolidation."
 */
const HADOLINT: Record<string, string> = { DL3059: 'lint-consecutive-run' };

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

/** `lines` is the block, split at "\n"; `locate` maps a 0-based block line and column to the YAML file. */
export function lint(instructions: ParsedInstruction[], lines: string[], where: Where, locate: (line: number, col: number) => Location): Problem[] {
  const ignored = (ins: ParsedInstruction, rule: string) => ignores(lines, ins).has(rule);
  const out: Problem[] = [];
  for (const group of consecutiveRuns(instructions)) {
    const pips = group.filter((i) => PIP_INSTALL.test(i.text));
    for (const same of bySignature(pips)) {
      if (same.length < 2 || same.some((i) => ignored(i, 'lint-pip-install-split'))) continue;
      out.push(problem(where(same[1]!), 'warning', 'lint-pip-install-split',
        `pip install in ${same.length} RUNs in a row (block lines ${same.map((i) => i.blockLine).join(', ')}): ` +
        'install the packages in one pip install so their versions are resolved together'));
    }
    if (pips.length < group.length && !group.some((i) => ignored(i, 'lint-consecutive-run'))) {
      out.push(problem(where(group[0]!), 'warning', 'lint-consecutive-run',
        `${group.length} RUNs in a row (block lines ${group[0]!.blockLine}–${group[group.length - 1]!.blockLine}) add ${group.length} layers; ` +
        'join them with && into one RUN (or silence it with "# envctl-ignore: lint-consecutive-run" above one of them)'));
    }
  }
  out.push(...emptyContinuations(instructions, lines, locate));
  return out;
}

/**
 * The rules silenced for an instruction: `# envctl-ignore: a, b` or
 * `# hadolint ignore=DL3059,DL3008` on the comment lines right above it, or
 * `# envctl-ignore: …` at the end of its first line (a shell comment to RUN).
 * Only lint hints can be silenced: an id naming any other rule is ignored,
 * so no comment turns an error off.
 */
export function ignores(lines: string[], ins: ParsedInstruction): Set<string> {
  const out = new Set<string>();
  const take = (comment: string) => {
    const own = /#\s*envctl-ignore\s*:\s*(.*)$/.exec(comment);
    const theirs = /^#\s*hadolint\s+ignore\s*=\s*(\S+)/.exec(comment);
    const ids = own ? own[1]!.split(/[\s,]+/) : theirs ? theirs[1]!.split(',').map((id) => HADOLINT[id.trim()] ?? '') : [];
    for (const id of ids) if (id.startsWith('lint-')) out.add(id);
  };
  const first = lines[ins.blockLine - 1] ?? '';
  if (/\s#\s*envctl-ignore\s*:/.test(first)) take(first.slice(first.search(/#\s*envctl-ignore/)));
  for (let i = ins.blockLine - 2; i >= 0 && /^\s*#/.test(lines[i]!); i--) take(lines[i]!.trim());
  return out;
}

/**
 * pip install RUNs grouped by the options that pick where packages come from:
 * merging RUNs with different indexes, constraints or --pre would install
 * from the wrong index, so only RUNs with the same ones are worth joining.
 */
function bySignature(pips: ParsedInstruction[]): ParsedInstruction[][] {
  const groups = new Map<string, ParsedInstruction[]>();
  for (const ins of pips) {
    const key = pipSignature(ins.text);
    groups.set(key, [...(groups.get(key) ?? []), ins]);
  }
  return [...groups.values()];
}

const WITH_VALUE = new Map([
  ['--index-url', '--index-url'], ['-i', '--index-url'], ['--extra-index-url', '--extra-index-url'],
  ['-c', '--constraint'], ['--constraint', '--constraint'], ['-f', '--find-links'], ['--find-links', '--find-links'],
  ['--trusted-host', '--trusted-host'],
]);
const FLAGS = new Set(['--pre', '--no-index']);

/** The index options of every pip install in a RUN, in a stable order. */
export function pipSignature(text: string): string {
  const opts: string[] = [];
  const words = text.replace(/\\\r?\n/g, ' ').split(/\s+/);
  let inPip = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!.replace(/^["']|["']$/g, '');
    if (w === 'install' && /^(pip3?|pip)$/.test(words[i - 1] ?? '')) inPip = true;
    else if (/^(&&|\|\||;|\|)$/.test(w) || /;$/.test(w)) inPip = false;
    if (!inPip) continue;
    const [name, inline] = w.startsWith('--') ? [w.split('=')[0]!, w.includes('=') ? w.slice(w.indexOf('=') + 1) : undefined] : [w.slice(0, 2), w.length > 2 ? w.slice(2) : undefined];
    const canonical = WITH_VALUE.get(name);
    if (canonical) {
      opts.push(`${canonical}=${inline ?? words[++i] ?? ''}`);
    } else if (FLAGS.has(w)) opts.push(w);
  }
  return opts.sort().join(' ');
}

/**
 * BuildKit's parser skips a blank line inside a continued instruction and
 * warns: "Empty continuation line found in: <the instruction>" with the
 * detail "Empty continuation lines will become errors in a future release"
 * (check NoEmptyContinuation). Comment lines inside a continuation are
 * skipped without a warning. buildah 1.28 joins the same lines silently.
 */
function emptyContinuations(instructions: ParsedInstruction[], lines: string[], locate: (line: number, col: number) => Location): Problem[] {
  const out: Problem[] = [];
  const continues = (line: string) => /\\[ \t]*$/.test(line); // BuildKit: `\\[ \t]*$`
  for (const ins of instructions) {
    let i = ins.blockLine - 1;
    if (!continues(lines[i] ?? '')) continue;
    let blank: number | undefined;
    let ended = false;
    for (i++; i < lines.length; i++) {
      const line = lines[i]!;
      if (/^\s*#/.test(line)) continue;
      if (line.trim() === '') {
        blank ??= i;
        continue;
      }
      if (!continues(line)) {
        ended = true;
        break;
      }
    }
    // A blank line at the block's end is the unterminated-instruction error instead.
    if (blank === undefined || !ended) continue;
    const joined = lines.slice(ins.blockLine - 1, i + 1).filter((l) => l.trim() !== '' && !/^\s*#/.test(l))
      .map((l) => l.trim().replace(/\\[ \t]*$/, '')).join(' ');
    out.push(problem(locate(blank, 0), 'warning', 'instructions-empty-continuation',
      `Empty continuation line found in: ${joined.length > 80 ? `${joined.slice(0, 77)}…` : joined}; ` +
      'empty continuation lines will become errors in a future release (BuildKit); remove the blank line or end the instruction before it'));
  }
  return out;
}
