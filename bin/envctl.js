#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  cwd: process.cwd(),
  env: process.env,
  ...(process.stdout.isTTY && !process.env.CI ? { terminal: { write: (raw) => process.stdout.write(raw), columns: process.stdout.columns ?? 80 } } : {}),
});
process.exitCode = code;
