#!/usr/bin/env node
/**
 * The `coffer` executable (package.json "bin"): runs the command line through
 * run.ts. Servers keep the process alive after a successful start; client
 * commands end when their call is done.
 */
import type { Io } from './output.js';
import { run } from './run.js';

const io: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  errIsTTY: process.stderr.isTTY === true,
};
void run(process.argv.slice(2), io).then((code) => {
  process.exitCode = code;
});
