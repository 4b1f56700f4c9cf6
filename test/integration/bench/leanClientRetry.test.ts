/**
 * The lean client's 503 retries (used by the cluster bench): a 503 is resent up
 * to the configured number of times and counted; a streamed body is never
 * resent; without the option a 503 fails at once. A plain loopback HTTP server
 * that answers 503 a given number of times stands in for a busy gateway.
 */
import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LeanS3Client, S3Error, type S3Endpoint } from '../../../scripts/bench/leanClient.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** Answers 503 to the first `busy` requests, then 200; counts what it got. */
async function busyServer(busy: number): Promise<{ endpoint: S3Endpoint; seen: () => number }> {
  let seen = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen++;
      res.writeHead(seen <= busy ? 503 : 200, { etag: '"x"' });
      res.end(seen <= busy ? '<Error><Code>SlowDown</Code></Error>' : '');
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: { host: '127.0.0.1', port, region: 'us-east-1', accessKeyId: 'A', secretAccessKey: 'S' },
    seen: () => seen,
  };
}

describe('LeanS3Client 503 retries', () => {
  it('resends a buffered PUT after 503s and counts them', async () => {
    const { endpoint, seen } = await busyServer(2);
    const c = new LeanS3Client(endpoint, { retries503: 4 });
    try {
      expect(await c.putObject('b', 'k', Buffer.from('body'))).toBe('"x"');
      expect(seen()).toBe(3);
      expect(c.retried503).toBe(2);
    } finally {
      c.close();
    }
  });

  it('gives up after the configured retries, and never resends a stream', async () => {
    const { endpoint, seen } = await busyServer(10);
    const c = new LeanS3Client(endpoint, { retries503: 2 });
    try {
      await expect(c.putObject('b', 'k', Buffer.from('body'))).rejects.toMatchObject({ status: 503 });
      expect(seen()).toBe(3);
      const stream = { stream: Readable.from([Buffer.from('streamed')]), length: 8 };
      await expect(c.putObject('b', 'k2', stream)).rejects.toBeInstanceOf(S3Error);
      expect(seen()).toBe(4);
      expect(c.retried503).toBe(2);
    } finally {
      c.close();
    }
  });

  it('fails at the first 503 by default', async () => {
    const { endpoint, seen } = await busyServer(1);
    const c = new LeanS3Client(endpoint);
    try {
      await expect(c.getObject('b', 'k')).rejects.toMatchObject({ status: 503 });
      expect(seen()).toBe(1);
      expect(c.retried503).toBe(0);
    } finally {
      c.close();
    }
  });
});
