/**
 * The server under test as a real process (`node dist/src/main.js`, what
 * `npm start` runs): started on ephemeral loopback ports with a fixed identity
 * (root S3 credentials, root API key, master key) so every restart on the same
 * data dir serves the same tenant, and killed with SIGKILL - no shutdown hook,
 * no flush, exactly what a crash or the OOM killer does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RawEndpoint } from '../helpers/rawS3.js';

const MAIN = join(process.cwd(), 'dist', 'src', 'main.js');

export const ROOT_USER = 'CRASHROOTACCESSKEY';
export const ROOT_SECRET = 'crash-root-secret-key-0123456789';
export const ROOT_APIKEY = 'crash-root-apikey-0123456789abcdef';
const MASTER_KEY = Buffer.alloc(32, 0x5c).toString('base64');
const REGION = 'us-east-1';

export interface ServerLayout {
  dataDir: string;
  /** Blob drives (COFFER_DRIVES); absent = <dataDir>/blobs. */
  drives?: readonly string[];
}

export interface RunningServer {
  s3: RawEndpoint;
  kmsUrl: string;
  /** What the process wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** SIGKILL, resolving once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (a clean shutdown), resolving with the exit code. */
  stop(): Promise<number | null>;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Start the server on `layout` and resolve once it prints its endpoints. */
export async function startServer(layout: ServerLayout, timeoutMs = 30_000): Promise<RunningServer> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build (npm test does it first)`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    COFFER_DATA_DIR: layout.dataDir,
    COFFER_HOST: '127.0.0.1',
    COFFER_S3_PORT: '0',
    COFFER_KMS_PORT: '0',
    COFFER_ROOT_USER: ROOT_USER,
    COFFER_ROOT_PASSWORD: ROOT_SECRET,
    COFFER_API_KEY: ROOT_APIKEY,
    COFFER_MASTER_KEY: MASTER_KEY,
    COFFER_REGION: REGION,
    COFFER_LOG_LEVEL: process.env.COFFER_TEST_LOG ?? 'warn',
  };
  if (layout.drives) env.COFFER_DRIVES = layout.drives.join(',');
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = exitOf(child);
  const t0 = Date.now();
  while (!out.includes('Default root key')) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before it started: ${err.trim()}`);
    }
    if (Date.now() - t0 > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`server did not start within ${timeoutMs} ms: ${err.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const s3Url = /S3 endpoint:\s+(\S+)/.exec(out)?.[1] ?? '';
  const kmsUrl = /KMS API:\s+(\S+)/.exec(out)?.[1] ?? '';
  const u = new URL(s3Url);
  if (u.hostname !== '127.0.0.1' || new URL(kmsUrl).hostname !== '127.0.0.1') {
    child.kill('SIGKILL');
    throw new Error(`refusing to test a server that does not listen on loopback: ${s3Url} ${kmsUrl}`);
  }
  return {
    s3: {
      host: '127.0.0.1',
      port: Number(u.port),
      region: REGION,
      accessKeyId: ROOT_USER,
      secretAccessKey: ROOT_SECRET,
    },
    kmsUrl,
    stderr: () => err,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
