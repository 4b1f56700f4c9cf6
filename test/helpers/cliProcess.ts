/**
 * The built CLI (`dist/src/cli/main.js`) as a child process for cluster tests:
 * started with only the environment given (plus PATH), its output collected,
 * a banner line awaited, and stopped with SIGTERM (SIGKILL after 10 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');

export interface CliProcess {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    // The master key file next to the data dir, in the test's temp dir: never the developer's home.
    env: {
      PATH: process.env.PATH ?? '',
      ...(env.COFFER_DATA_DIR ? { COFFER_MASTER_KEY_FILE: `${env.COFFER_DATA_DIR}-master.key` } : {}),
      COFFER_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

/** The first group of `pattern` in the process's stdout, once it appears. */
export async function banner(p: CliProcess, pattern: RegExp, what: string, ms = 60_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const m = pattern.exec(p.out());
    if (m?.[1]) return m[1];
    if (p.child.exitCode !== null || Date.now() - t0 > ms)
      throw new Error(`${what} did not start: ${p.err() || p.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopCli(p: CliProcess | undefined): Promise<number | null | undefined> {
  if (!p) return undefined;
  if (p.child.exitCode === null) p.child.kill('SIGTERM');
  const code = await Promise.race([p.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
  if (code === 'hung') {
    p.child.kill('SIGKILL');
    return p.exited;
  }
  return code;
}
