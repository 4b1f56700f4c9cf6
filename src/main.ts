/**
 * `npm start`: `coffer server` with no flags. Embedded defaults unless
 * COFFER_KMS_URL names a KMS (split mode); loads config (exit 2 with one line
 * naming the setting when invalid), starts, prints where it listens and the
 * default root key CRN, and shuts down cleanly on signals (cli/serverCommand.ts).
 */
import { CliError } from './cli/args.js';
import type { Io } from './cli/output.js';
import { runServer } from './cli/serverCommand.js';

const io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env };
runServer([], io).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (e: unknown) => {
    io.err(`coffer: ${(e as Error).message}\n`);
    process.exit(e instanceof CliError ? e.exitCode : 1);
  },
);
