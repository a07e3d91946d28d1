/**
 * Fault-injection points. With ENVCTL_PAUSE_AT=<point> in the environment,
 * the process says so on stderr when it reaches that point and waits there
 * (to be killed). Tests use it to SIGKILL a sync at moments too brief to
 * hit by timing, such as between writing the ledger's objects and moving
 * its ref. Without the variable it costs one comparison.
 */
export async function pausePoint(point: string): Promise<void> {
  if (process.env.ENVCTL_PAUSE_AT !== point) return;
  process.stderr.write(`envctl: paused at ${point}\n`);
  await new Promise(() => setInterval(() => undefined, 1 << 30));
}
