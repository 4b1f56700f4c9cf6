/**
 * The two servers the bench drives, each in its own process so neither shares an
 * event loop with the client: Coffer through its real entry point
 * (dist/src/main.js) and s3rver through s3rverMain.js. Both listen on
 * 127.0.0.1 on ephemeral ports, with their data in temp directories that stop()
 * removes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtPath } from '../cluster/processes.js';
import type { S3Endpoint } from './leanClient.js';

export interface RunningServer {
  name: string;
  endpoint: S3Endpoint;
  dataDir: string;
  child: ChildProcess;
  /** SIGTERM, wait for the exit, remove the data dir. Safe to call twice. */
  stop(): Promise<void>;
}

const STARTUP_MS = 30_000;

/**
 * libuv's thread pool size for both servers, as Coffer is deployed (Dockerfile,
 * `npm start`): 16 unless the bench's own environment says otherwise. Same for
 * both, so neither gets a machine setting the other lacks.
 */
const THREAD_POOL = { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' };
/** USER_HZ: the unit of /proc/<pid>/stat times on Linux. */
const CLOCK_TICKS = 100;

/**
 * CPU seconds (user + system, all threads, the thread pool's included) the
 * process has used so far, from /proc; undefined where there is no /proc. On a
 * shared machine this is steadier than wall time: it does not count the time
 * the server waited for a core.
 */
export async function cpuSeconds(child: ChildProcess): Promise<number | undefined> {
  if (child.pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

/** Resolves with the child's stdout so far once `ready` matches it; rejects if it exits or takes too long. */
function waitForOutput(child: ChildProcess, ready: (out: string) => boolean, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${STARTUP_MS} ms`)), STARTUP_MS);
    const onExit = (code: number | null, sig: string | null) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited during startup (${code ?? sig})`));
    };
    child.once('exit', onExit);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (ready(out)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(out);
      }
    });
  });
}

function stopper(child: ChildProcess, dataDir: string): () => Promise<void> {
  // A bench ended by a signal (or a crash) while this server was still starting runs no stop(): SIGTERM
  // it and remove its dir on the way out.
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  let done: Promise<void> | undefined;
  return () =>
    (done ??= (async () => {
      process.off('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        // A server that ignores SIGTERM must not outlive the bench.
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      await rm(dataDir, { recursive: true, force: true });
    })());
}

async function started(
  name: string,
  child: ChildProcess,
  dataDir: string,
  ready: (out: string) => boolean,
  endpointOf: (out: string) => S3Endpoint,
): Promise<RunningServer> {
  const stop = stopper(child, dataDir);
  try {
    const out = await waitForOutput(child, ready, name);
    return { name, endpoint: endpointOf(out), dataDir, child, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * `node dist/src/main.js` with a fresh data dir and master key. extraNodeArgs:
 * e.g. --cpu-prof. mainPath: another build's entry point (A/B runs), under `name`.
 */
export async function startCoffer(
  extraNodeArgs: string[] = [],
  mainPath?: string,
  name = 'coffer',
  /** Extra environment, given the server's scratch dir (e.g. COFFER_DRIVES under it). */
  extraEnv: (scratch: string) => Record<string, string> = () => ({}),
): Promise<RunningServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'coffer-bench-'));
  const port = await freePort();
  const accessKeyId = 'BENCHACCESSKEY';
  const secretAccessKey = randomBytes(24).toString('hex');
  const main = mainPath ?? builtPath('src/main.js');
  const child = spawn(process.execPath, [...extraNodeArgs, main], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH ?? '',
      ...THREAD_POOL,
      COFFER_HOST: '127.0.0.1',
      COFFER_DATA_DIR: join(dataDir, 'data'),
      COFFER_S3_PORT: String(port),
      COFFER_KMS_PORT: String(await freePort()),
      COFFER_ROOT_USER: accessKeyId,
      COFFER_ROOT_PASSWORD: secretAccessKey,
      COFFER_MASTER_KEY: randomBytes(32).toString('base64'),
      COFFER_LOG_LEVEL: 'warn',
      ...extraEnv(dataDir),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return started(
    name,
    child,
    dataDir,
    (out) => out.includes('Default root key'),
    () => ({
      host: '127.0.0.1',
      port,
      region: 'us-east-1',
      accessKeyId,
      secretAccessKey,
    }),
  );
}

/** s3rver (devDependency) in its own process, with the legacy OpenSSL provider it needs to list past 1,000 keys. */
export async function startS3rver(): Promise<RunningServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'coffer-bench-s3rver-'));
  const main = builtPath('scripts/bench/s3rverMain.js');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', main, dataDir], {
    cwd: dataDir,
    env: { PATH: process.env.PATH ?? '', ...THREAD_POOL },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return started(
    's3rver',
    child,
    dataDir,
    (out) => out.includes('\n'),
    (out) => ({
      host: '127.0.0.1',
      port: (JSON.parse(out.split('\n')[0]) as { port: number }).port,
      region: 'us-east-1',
      // s3rver's built-in account.
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    }),
  );
}
