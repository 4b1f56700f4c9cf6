/**
 * Shared helpers for the S3 integration suite: the per-file gateway, S3 error
 * documents (raw and SDK), orphan-blob accounting on the data dir, per-test
 * bucket names, and SDK middleware to add request headers or capture raw
 * response headers.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect } from 'vitest';
import { endpointOf, errorBody, type RawEndpoint, type RawResponse } from './rawS3.js';
import { startTestGateway, type TestGateway } from './startGateway.js';

export interface GatewayUnderTest {
  gw: TestGateway;
  /** @aws-sdk/client-s3 with default settings, path-style. */
  s3: S3Client;
  /** For raw aws4-signed requests. */
  ep: RawEndpoint;
}

/** Create a bucket with a fresh name (see bucketName) and return the name. */
export async function createBucket(s3: S3Client, prefix: string): Promise<string> {
  const b = bucketName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  return b;
}

/** The object must not exist (HEAD answers 404). */
export async function expectAbsent(s3: S3Client, bucket: string, key: string): Promise<void> {
  await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), 404);
}

/**
 * One real gateway for a test file: started before its tests, closed after.
 * `set` receives it (assign it to the file's own variables).
 */
export function useGateway(set: (t: GatewayUnderTest) => void, opts?: Parameters<typeof startTestGateway>[0]): void {
  let gw: TestGateway | undefined;
  beforeAll(async () => {
    gw = await startTestGateway(opts);
    set({ gw, s3: gw.client(), ep: endpointOf(gw) });
  });
  afterAll(async () => {
    await gw?.close();
  });
}

let counter = 0;
/** A fresh, valid bucket name: every test gets its own. */
export function bucketName(prefix = 'b'): string {
  counter++;
  return `${prefix}-${counter}-${randomBytes(3).toString('hex')}`.toLowerCase().slice(0, 63);
}

/** Every regular file under `dir`, recursively (absolute paths). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw e;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Blob files under <dataDir>/blobs, excluding the tmp/ directory of writes in progress. */
export async function blobFiles(dataDir: string): Promise<string[]> {
  const root = join(dataDir, 'blobs');
  const all = await filesUnder(root);
  return all.filter((p) => !p.startsWith(join(root, 'tmp') + '/'));
}

export async function countBlobs(dataDir: string): Promise<number> {
  return (await blobFiles(dataDir)).length;
}

export async function tmpFiles(dataDir: string): Promise<string[]> {
  return filesUnder(join(dataDir, 'blobs', 'tmp'));
}

/**
 * Wait (briefly: cleanup may finish just after the response) until the blob
 * count equals `expected`, then assert it. A leak shows as a count above it.
 */
export async function expectBlobCount(
  dataDir: string,
  expected: number,
  what = 'blob files',
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let n = await countBlobs(dataDir);
  while (n !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    n = await countBlobs(dataDir);
  }
  expect(n, `${what} under <dataDir>/blobs (excluding tmp)`).toBe(expected);
}

const STACK_PATTERNS = [
  /\n\s+at\s/,
  /\bat\s+\S+\s+\(.*:\d+:\d+\)/,
  /node_modules/,
  /\.ts:\d+/,
  /\.js:\d+:\d+/,
  /Error: .*\n/,
];

/** Assert a raw response is an S3 error document with this status and code. */
export function expectXmlError(res: RawResponse, status: number, code?: string | RegExp): void {
  const b = errorBody(res);
  expect(res.status, `status (body: ${b.raw.slice(0, 400)})`).toBe(status);
  if (res.headers['content-length'] !== undefined || res.body.length) {
    expect(String(res.headers['content-type'] ?? ''), 'error content-type').toMatch(/xml/);
  }
  expect(b.raw, 'error body is an XML <Error> document').toMatch(/<Error>[\s\S]*<\/Error>/);
  if (code instanceof RegExp) expect(b.Code ?? '').toMatch(code);
  else if (code !== undefined) expect(b.Code, `error code (message: ${b.Message})`).toBe(code);
  expect(b.Code ?? '', '<Code>').not.toBe('');
  expect(b.Message ?? '', '<Message>').not.toBe('');
  expect(b.RequestId ?? '', '<RequestId>').not.toBe('');
  expectNoStackTrace(b.raw);
}

export function expectNoStackTrace(text: string): void {
  for (const p of STACK_PATTERNS) expect(text, `error body must not leak internals (${p})`).not.toMatch(p);
}

/** HEAD errors: the status, and no body at all. */
export function expectHeadError(res: RawResponse, status: number): void {
  expect(res.status).toBe(status);
  expect(res.body.length, 'HEAD error body length').toBe(0);
}

/** Await an SDK call that must fail with this HTTP status (and S3 error code, when given). */
export async function expectSdkError(p: Promise<unknown>, status: number, code?: string): Promise<S3ServiceException> {
  let err: unknown;
  try {
    const out = await p;
    throw new Error(
      `expected HTTP ${status}${code ? ` ${code}` : ''}, but the call succeeded: ${JSON.stringify(out, (_k, v: unknown) => (typeof v === 'object' && v !== null && 'pipe' in v ? '[stream]' : v)).slice(0, 300)}`,
    );
  } catch (e) {
    err = e;
  }
  if (!(err instanceof S3ServiceException)) throw err;
  expect(err.$metadata.httpStatusCode, `HTTP status of ${err.name}: ${err.message}`).toBe(status);
  if (code !== undefined) expect(err.name, `S3 error code (message: ${err.message})`).toBe(code);
  return err;
}

/** Minimal view of an SDK middleware stack, enough to add request headers and read response headers. */
interface Stackable {
  middlewareStack: {
    add(
      mw: (
        next: (args: { request: unknown }) => Promise<{ response: unknown; output?: unknown }>,
      ) => (args: { request: unknown }) => Promise<{ response: unknown; output?: unknown }>,
      opts: { step: 'build' | 'deserialize'; name?: string; priority?: 'high' | 'low' | 'normal' },
    ): void;
  };
}

/** Add raw request headers to one SDK command (e.g. the ibm-sse-kp-* headers). */
export function withHeaders<C>(cmd: C, headers: Record<string, string>): C {
  (cmd as unknown as Stackable).middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers?: Record<string, string> };
      if (req.headers) Object.assign(req.headers, headers);
      return next(args);
    },
    { step: 'build', name: 'testAddHeaders', priority: 'low' },
  );
  return cmd;
}

/** Capture the raw HTTP response headers (and the final request headers) of one SDK command. */
export function captureHeaders<C>(cmd: C): {
  cmd: C;
  headers: () => Record<string, string>;
  requestHeaders: () => Record<string, string>;
} {
  let captured: Record<string, string> = {};
  let sent: Record<string, string> = {};
  (cmd as unknown as Stackable).middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers?: Record<string, string> };
      sent = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      const r = await next(args);
      const res = r.response as { headers?: Record<string, string> };
      captured = Object.fromEntries(Object.entries(res.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      return r;
    },
    { step: 'deserialize', name: 'testCaptureHeaders', priority: 'low' },
  );
  return { cmd, headers: () => captured, requestHeaders: () => sent };
}

/** The whole body of an SDK GetObject output. */
export async function bodyBytes(out: { Body?: { transformToByteArray(): Promise<Uint8Array> } }): Promise<Buffer> {
  if (!out.Body) throw new Error('no body');
  return Buffer.from(await out.Body.transformToByteArray());
}
