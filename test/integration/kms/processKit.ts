/**
 * Coffer as separate processes for the key event suites: `coffer kms` and
 * `coffer server --kms-url` from the built CLI (ephemeral ports, temporary
 * data dirs, 127.0.0.1 only), their banners read for the URLs, and a TCP relay
 * that can cut a gateway off from a KMS that keeps running (a network
 * partition, so that key state can change while the gateway hears nothing).
 */
import { existsSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { GetObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { GATEWAY_APIKEY, ROOT_APIKEY, ROOT_SECRET, ROOT_USER } from './lifecycleKit.js';
import { banner, CLI, startCli, stopCli, type CliProcess } from '../../helpers/cliProcess.js';

// The one child-process helper (test/helpers/cliProcess.ts), under this suite's names.
export { banner, CLI };
export type Proc = CliProcess;
export const startProc = startCli;
export const stopProc = stopCli;

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
}

/** `coffer kms` on `port` (0: ephemeral) over `dataDir`; resolves with its URL and root account. */
export async function startKmsProc(
  dataDir: string,
  port = 0,
  env: Record<string, string> = {},
): Promise<{ proc: Proc; url: string; rootAccount: string }> {
  const proc = startProc(['kms'], {
    COFFER_DATA_DIR: dataDir,
    COFFER_KMS_PORT: String(port),
    COFFER_ROOT_USER: ROOT_USER,
    COFFER_ROOT_PASSWORD: ROOT_SECRET,
    COFFER_API_KEY: ROOT_APIKEY,
    COFFER_GATEWAY_APIKEY: GATEWAY_APIKEY,
    ...env,
  });
  const url = await banner(proc, /KMS API:\s+(http:\/\/127\.0\.0\.1:\d+)/, 'coffer kms');
  const rootAccount = await banner(proc, /Root account:\s+(\S+)/, 'coffer kms');
  return { proc, url, rootAccount };
}

/** `coffer server --kms-url` with the DEK cache TTL given; resolves with its S3 URL. */
export async function startGatewayProc(
  dataDir: string,
  kmsUrl: string,
  ttlSeconds: number,
): Promise<{ proc: Proc; s3Url: string }> {
  const proc = startProc(['server', '--kms-url', kmsUrl], {
    COFFER_DATA_DIR: dataDir,
    COFFER_S3_PORT: '0',
    COFFER_GATEWAY_APIKEY: GATEWAY_APIKEY,
    COFFER_DEK_CACHE_TTL_SECONDS: String(ttlSeconds),
  });
  const s3Url = await banner(proc, /S3 endpoint:\s+(http:\/\/127\.0\.0\.1:\d+)/, 'coffer server --kms-url');
  return { proc, s3Url };
}

/** "200" or "<status> <code>" of a GET of the object (body read whole). */
export async function getOutcome(s3: S3Client, bucket: string, key = 'o'): Promise<string> {
  try {
    const o = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await o.Body!.transformToByteArray();
    return '200';
  } catch (e) {
    if (e instanceof S3ServiceException) return `${e.$metadata.httpStatusCode} ${e.name}`;
    throw e;
  }
}

/**
 * Polls every probe every `everyMs` until each one satisfied `done` once;
 * returns, per probe, the ms from the start until it first did and what it
 * answered then. Throws after `timeoutMs` naming the last answers.
 */
export async function untilEach(
  probes: Array<() => Promise<string>>,
  done: (outcome: string) => boolean,
  timeoutMs: number,
  everyMs = 25,
): Promise<Array<{ ms: number; outcome: string }>> {
  const t0 = performance.now();
  const firsts: Array<{ ms: number; outcome: string } | undefined> = probes.map(() => undefined);
  for (;;) {
    const now = await Promise.all(probes.map((p, i) => (firsts[i] ? Promise.resolve('') : p())));
    const ms = performance.now() - t0;
    now.forEach((o, i) => {
      if (!firsts[i] && done(o)) firsts[i] = { ms, outcome: o };
    });
    if (firsts.every((f) => f)) return firsts as Array<{ ms: number; outcome: string }>;
    if (ms > timeoutMs) throw new Error(`not reached within ${timeoutMs} ms; last answers: ${JSON.stringify(now)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A TCP relay on 127.0.0.1 to `target` (host:port) that can be cut (every connection dropped, new ones refused) and mended. */
export class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  url = '';

  constructor(private readonly target: URL) {}

  async start(): Promise<string> {
    this.server = createServer((client) => {
      if (this.cutOff) {
        client.destroy();
        return;
      }
      const upstream = connect(Number(this.target.port), this.target.hostname);
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}`;
    return this.url;
  }

  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  mend(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
