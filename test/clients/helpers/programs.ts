/**
 * Running the real S3 client programs: locate the binary (a missing one fails
 * the test with a clear message, it is never skipped), build a clean child
 * environment (temporary HOME, no AWS_CA_BUNDLE, no inherited AWS_* or proxy
 * settings), run without a shell and collect the output.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout then stderr, for assertions on "anything the program printed". */
  output: string;
  ms: number;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Receives stdout as it arrives (e.g. to hash a download); then `stdout` stays empty. */
  onStdout?: (chunk: Buffer) => void;
}

const INSTALL_HINT =
  'install the test clients with `bash scripts/install-test-deps.sh` (Debian packages awscli, s3cmd, rclone, restic; CI does this)';

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of a client program, or an Error that fails the test.
 * `fixedPath` pins the program (the AWS CLI: Debian's /usr/bin/aws, whatever
 * else is first on PATH); otherwise /usr/bin first, then PATH.
 */
export function requireProgram(name: string, fixedPath?: string): string {
  if (fixedPath) {
    if (executable(fixedPath)) return fixedPath;
    throw new Error(`${name} is required at ${fixedPath} but is not installed there: ${INSTALL_HINT}.`);
  }
  const dirs = ['/usr/bin', ...(process.env.PATH ?? '').split(':').filter(Boolean)];
  for (const d of dirs) {
    const p = join(d, name);
    if (executable(p)) return p;
  }
  throw new Error(`${name} is required but was not found in /usr/bin or on PATH: ${INSTALL_HINT}.`);
}

/**
 * A child environment with nothing of ours in it but PATH: HOME is the test's
 * temporary home (config files live there, never in the user's), UTF-8 locale
 * (s3cmd and the AWS CLI print non-ASCII keys), and the given extras.
 */
export function childEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    PYTHONIOENCODING: 'utf-8',
    ...extra,
  };
}

/** Run a program (no shell) and collect what it printed. Never throws for a non-zero exit. */
export function run(bin: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const command = [bin, ...args].map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(' ');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 240_000);
    child.stdout.on('data', (c: Buffer) => (opts.onStdout ? opts.onStdout(c) : out.push(c)));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr =
        Buffer.concat(err).toString('utf8') + (timedOut ? `\n[killed after ${opts.timeoutMs ?? 240_000} ms]` : '');
      resolve({ command, code, signal, stdout, stderr, output: stdout + stderr, ms: Date.now() - started });
    });
  });
}

function tail(s: string, n = 4000): string {
  return s.length > n ? '…' + s.slice(-n) : s;
}

/** Describe a finished run for an assertion message. */
export function describeRun(r: RunResult): string {
  return `$ ${r.command}\nexit ${r.code ?? r.signal} after ${r.ms} ms\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

/** Run and require exit status 0; the error carries the command and its output. */
export async function runOk(bin: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const r = await run(bin, args, opts);
  if (r.code !== 0) throw new Error(`client command failed\n${describeRun(r)}`);
  return r;
}
