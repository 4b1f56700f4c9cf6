/**
 * Coffer processes started through the built CLI (dist/src/cli/main.js), for
 * the scale-out test and the cluster bench: spawn with a clean environment,
 * wait for the line of the banner that says where it listens, stop with SIGTERM
 * (SIGKILL if it hangs) and report the exit code, so a caller can insist on a
 * clean shutdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CliProcess {
  child: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}

/**
 * Path of a built file, `rel` under dist/ (e.g. 'src/cli/main.js'): the same
 * whether this module runs built (dist/scripts/cluster) or from its sources
 * under the test runner (scripts/cluster), which cannot spawn a .ts entry point.
 */
export function builtPath(rel: string): string {
  const here = fileURLToPath(import.meta.url);
  const root = resolve(dirname(here), here.endsWith('.ts') ? '../..' : '../../..');
  return join(root, 'dist', rel);
}

/** `node <cli> ...args` with only PATH, COFFER_LOG_LEVEL=warn and `env`; stdout and stderr are kept. */
export function startCli(args: string[], env: Record<string, string>, cli = builtPath('src/cli/main.js')): CliProcess {
  const child = spawn(process.execPath, [cli, ...args], {
    // The master key file next to the data dir, in the caller's temp dir: never the developer's home.
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

/** The first group of `pattern` in the process's stdout, once it appears; throws if it exits or takes over `ms`. */
export async function banner(p: CliProcess, pattern: RegExp, what: string, ms = 30_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const m = pattern.exec(p.out());
    if (m?.[1]) return m[1];
    if (p.child.exitCode !== null || Date.now() - t0 > ms)
      throw new Error(`${what} did not start: ${p.err() || p.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM, then SIGKILL after 10 s; resolves with the exit code (null: killed by a signal). */
export async function stopCli(p: CliProcess | undefined): Promise<number | null | undefined> {
  if (!p) return undefined;
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    p.exited,
    new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), 10_000))),
  ]);
  clearTimeout(timer);
  if (code === 'hung') {
    p.child.kill('SIGKILL');
    return p.exited;
  }
  return code;
}
