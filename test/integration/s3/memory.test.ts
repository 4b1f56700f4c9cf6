/**
 * Streams end to end: a large upload and download through a real server must not
 * grow the heap with the object size. The server runs in this process, so the
 * heap sampled here is the server's; the client streams from a generator and
 * counts the response bytes without keeping them.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';
import { endpointOf, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { request } from 'node:http';
import aws4 from 'aws4';

const MiB = 1024 * 1024;
const SIZE = 192 * MiB;

function* body(): Generator<Buffer> {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < SIZE / MiB; i++) {
    block.fill(i & 0xff);
    yield Buffer.from(block);
  }
}

describe('memory per request stays within a few segments', () => {
  let gw: TestGateway;
  let ep: RawEndpoint;
  beforeAll(async () => {
    gw = await startTestGateway();
    ep = endpointOf(gw);
    const r = await signedRequest(ep, { method: 'PUT', path: '/mem' });
    expect(r.status).toBe(200);
  });
  afterAll(async () => gw?.close());

  it(`PUT and GET of ${SIZE / MiB} MiB grow the heap by far less than the object`, async () => {
    if (!global.gc) throw new Error('run with --expose-gc (vitest.config.ts sets it)');
    global.gc();
    // Buffers live outside the V8 heap: count both.
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const base = used();
    let peak = base;
    // With --expose-gc (vitest.config.ts) each sample first collects garbage, so it measures what is live.
    const timer = setInterval(() => {
      global.gc?.();
      peak = Math.max(peak, used());
    }, 100);
    try {
      const put = await signedRequest(ep, {
        method: 'PUT',
        path: '/mem/big',
        payloadHash: 'UNSIGNED-PAYLOAD',
        headers: { 'Content-Length': String(SIZE) },
        sendBody: body(),
        timeoutMs: 180_000,
      });
      expect(put.status, put.text()).toBe(200);
      // Before the fix of ByteQueue retention this was ~64 MiB for any object over 64 MiB.
      expect(peak - base).toBeLessThan(32 * MiB);
      const want = createHash('md5');
      for (const b of body()) want.update(b);
      expect(put.headers.etag).toBe(`"${want.digest('hex')}"`);

      // GET: count and hash the bytes as they arrive, keep none.
      const signed = aws4.sign({ host: `127.0.0.1:${ep.port}`, path: '/mem/big', method: 'GET', service: 's3', region: ep.region, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, { accessKeyId: ep.accessKeyId, secretAccessKey: ep.secretAccessKey });
      const got = await new Promise<{ n: number; md5: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: ep.port, path: '/mem/big', method: 'GET', headers: signed.headers as Record<string, string> }, (res) => {
          const h = createHash('md5');
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            h.update(c);
          });
          res.on('end', () => resolve({ n, md5: h.digest('hex') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      expect(got.n).toBe(SIZE);
      expect(`"${got.md5}"`).toBe(put.headers.etag);
    } finally {
      clearInterval(timer);
    }
    // Generous bound (GC timing is not ours to control), still an order of magnitude below the object.
    console.log(`memory test: peak growth ${((peak - base) / MiB).toFixed(1)} MiB for a ${SIZE / MiB} MiB object`);
    expect(peak - base).toBeLessThan(48 * MiB);
  });
});
