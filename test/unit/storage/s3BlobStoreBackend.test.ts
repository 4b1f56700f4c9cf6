/**
 * S3BlobStore against a scripted loopback S3 endpoint, for what a real backend
 * does not do on demand: throttle (503 SlowDown, retried with backoff, then
 * reported as SlowDown) and stall (writes in flight stay bounded).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { toS3Error } from '../../../src/s3/errors.js';
import { BlobBackendError } from '../../../src/storage/blobBackendError.js';
import { S3BlobStore } from '../../../src/storage/s3BlobStore.js';
import { newId } from '../../contract/blobStore.contract.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function backend(handler: Handler): Promise<string> {
  server = createServer((req, res) => {
    // HEAD of the bucket at open() always succeeds.
    if (req.method === 'HEAD' && /^\/bkt\/?(\?|$)/.test(req.url ?? '')) return void res.end();
    handler(req, res);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

function s3Error(res: ServerResponse, status: number, code: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><RequestId>r</RequestId></Error>`,
  );
}

const open = (endpoint: string, extra: Partial<Parameters<typeof S3BlobStore.open>[0]> = {}) =>
  S3BlobStore.open({
    endpoint,
    bucket: 'bkt',
    accessKeyId: 'AKID',
    secretAccessKey: 'SECRET',
    region: 'us-east-1',
    ...extra,
  });

describe('S3BlobStore against a scripted backend', () => {
  it('throttling is retried with backoff, then reported as SlowDown (S3 503 SlowDown)', async () => {
    const seen: number[] = [];
    const endpoint = await backend((req, res) => {
      seen.push(Date.now());
      req.resume();
      s3Error(res, 503, 'SlowDown');
    });
    const store = await open(endpoint, { maxAttempts: 3 });
    try {
      const err = await store.read(newId(), 0, 64).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BlobBackendError);
      expect(err).toMatchObject({ code: 'SlowDown' });
      expect((err as Error).message).not.toContain('SECRET');
      expect([toS3Error(err).code, toS3Error(err).status]).toEqual(['SlowDown', 503]);
      // Three attempts, spaced by the SDK's backoff.
      expect(seen.length).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('a backend that recovers within the retries is not an error', async () => {
    let n = 0;
    const endpoint = await backend((req, res) => {
      req.resume();
      if (n++ < 2) return s3Error(res, 503, 'SlowDown');
      res.writeHead(200, { 'content-length': '5' });
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    const store = await open(endpoint, { maxAttempts: 4 });
    try {
      expect(await store.stat(newId())).toEqual({ size: 5 });
      expect(n).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('at most maxConcurrentPuts writes are in flight; the others wait and then complete', async () => {
    let inFlight = 0;
    let peak = 0;
    const endpoint = await backend((req, res) => {
      if (req.method === 'HEAD') return s3Error(res, 404, 'NotFound');
      if (req.method !== 'PUT') return s3Error(res, 400, 'Unexpected');
      inFlight++;
      peak = Math.max(peak, inFlight);
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          inFlight--;
          res.writeHead(200, { etag: '"x"' });
          res.end();
        }, 30),
      );
    });
    const store = await open(endpoint, { maxConcurrentPuts: 3 });
    try {
      const sizes = await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.put(newId(), Readable.from([Buffer.alloc(100 + i)]))),
      );
      expect(sizes.map((s) => s.size)).toEqual(Array.from({ length: 12 }, (_, i) => 100 + i));
      expect(peak).toBe(3);
    } finally {
      await store.close();
    }
  });
});
