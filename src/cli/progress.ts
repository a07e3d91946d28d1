/**
 * sync's progress: in a terminal, one live line per environment redrawn
 * in place (state, elapsed time, last message); elsewhere (CI logs, pipes)
 * plain lines prefixed with `[environment@revision]`, one per event.
 */
import type { SyncEvent } from '../sync/index.js';
import type { Io } from './command.js';
import { printable } from '../model/text.js';

export interface Progress {
  event: (e: SyncEvent) => void;
  /** Draws the final state and stops redrawing. */
  end: () => void;
}

const MARK: Record<SyncEvent['state'], string> = {
  queued: '·', building: '▶', reusing: '↺', succeeded: '✔', failed: '✘', cancelled: '⊘', left: '→',
};

export function progressFor(io: Io, now: () => number = Date.now): Progress {
  const terminal = io.terminal;
  // Messages carry builder and registry output: printable, one line per event.
  if (!terminal) return { event: (e) => io.out(`[${printable(e.environment)}@${e.revision}] ${printable(e.message)}`), end: () => undefined };
  const rows = new Map<string, { e: SyncEvent; since: number }>();
  let drawn = 0;
  const draw = () => {
    const lines = [...rows.values()].map(({ e, since }) => progressLine(e, now() - since, terminal.columns));
    // Up to the first line drawn last time, then each line rewritten and cleared to its end.
    terminal.write(`${drawn > 0 ? `\x1b[${drawn}F` : ''}${lines.map((l) => `${l}\x1b[K\n`).join('')}`);
    drawn = lines.length;
  };
  const timer = setInterval(draw, 250);
  timer.unref();
  return {
    event: (e) => {
      const prev = rows.get(e.environment);
      rows.set(e.environment, { e, since: prev && prev.e.state === e.state ? prev.since : now() });
      draw();
    },
    end: () => {
      clearInterval(timer);
      if (rows.size > 0) draw();
    },
  };
}

/**
 * `✔ name@3  12s  succeeded sha256:…`, cut to the terminal's width. The
 * line goes out as a raw write beside envctl's own cursor sequences, so
 * its values are made printable here: a `\r` or ESC in a message would
 * redraw the screen.
 */
export function progressLine(e: SyncEvent, elapsedMs: number, columns: number): string {
  const running = e.state === 'building' || e.state === 'reusing' || e.state === 'queued';
  const time = running ? `${Math.floor(elapsedMs / 1000)}s` : '';
  const line = `${MARK[e.state]} ${printable(`${e.environment}@${e.revision}`).padEnd(24)} ${time.padStart(5)}  ${printable(e.message)}`;
  return line.length > columns ? `${line.slice(0, Math.max(0, columns - 1))}…` : line;
}
