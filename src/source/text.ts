/** Bytes → text for spec files, with located errors for what YAML cannot hold. */
import { problem, type Problem } from '../model/problem.js';

/** Environment and config files are small; anything larger is a mistake or an attack. */
export const MAX_SPEC_BYTES = 1024 * 1024;

const decoder = new TextDecoder('utf-8', { fatal: true });

export function decodeSpec(bytes: Uint8Array, file: string): { text?: string; problems: Problem[] } {
  if (bytes.length > MAX_SPEC_BYTES) {
    return { problems: [problem({ file, line: 1, col: 1 }, 'error', 'file-too-large', `file is ${bytes.length} bytes; spec files are limited to ${MAX_SPEC_BYTES} bytes`)] };
  }
  try {
    const text = decoder.decode(bytes);
    return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, problems: [] };
  } catch {
    const at = firstInvalidUtf8(bytes);
    const before = bytes.subarray(0, at);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < before.length; i++) if (before[i] === 0x0a) { line++; lineStart = i + 1; }
    const col = new TextDecoder().decode(bytes.subarray(lineStart, at)).length + 1;
    const byte = bytes[at]?.toString(16).padStart(2, '0') ?? '??';
    return { problems: [problem({ file, line, col }, 'error', 'encoding', `byte 0x${byte} is not valid UTF-8; save the file as UTF-8`)] };
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
    }
    // Overlong three- and four-byte forms and surrogates.
    if (n === 2 && ((c === 0xe0 && b[i + 1]! < 0xa0) || (c === 0xed && b[i + 1]! >= 0xa0))) return i;
    if (n === 3 && ((c === 0xf0 && b[i + 1]! < 0x90) || (c === 0xf4 && b[i + 1]! >= 0x90))) return i;
    i += n + 1;
  }
  return b.length;
}
