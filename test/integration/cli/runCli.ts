/** Runs the built `coffer` CLI (dist/src/cli/main.js; npm test builds first) in a clean environment. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
}

export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error
          ? typeof (error as { code?: unknown }).code === 'number'
            ? (error as { code: number }).code
            : 1
          : 0;
        resolve({ code, out: stdout.toString(), err: stderr.toString() });
      },
    );
  });
}

/** The value after `label:` on its own line of the output. */
export function field(out: string, label: string): string {
  const m = new RegExp(`${label}:\\s*(\\S+)`).exec(out);
  if (!m?.[1]) throw new Error(`no "${label}" in: ${out}`);
  return m[1];
}
