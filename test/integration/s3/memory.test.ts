/**
 * Streams end to end: a large upload and download through a real server must not
 * grow memory with the object size. The server runs in this process; the client
 * streams from a generator and hashes the response bytes without keeping them.
 *
 * Absolute figures in a shared test process are noisy (client buffers, GC timing,
 * other work), so the test compares a small and a large object: memory that
 * scales with the object would show as a difference of well over 100 MiB, while
 * bounded buffering shows as little. (Before the ByteQueue fix, a PUT pinned up
 * to 64 MiB of Buffers: a difference of ~56 MiB.)
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import aws4 from 'aws4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointOf, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

const MiB = 1024 * 1024;
const SMALL = 8 * MiB;
const LARGE = 192 * MiB;

function* body(size: number): Generator<Buffer> {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < size / MiB; i++) {
    block.fill(i & 0xff);
    yield Buffer.from(block);
  }
}

function md5Of(size: number): string {
  const h = createHash('md5');
  for (const b of body(size)) h.update(b);
  return h.digest('hex');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Live memory after a full collection, in its two places: Buffers (where object
 * bytes would pile up) live outside the V8 heap; strings and objects inside it.
 * V8 frees Buffer backing stores on a background thread after the collection,
 * so the reading waits a moment for that sweep.
 */
async function live(): Promise<{ ab: number; heap: number }> {
  global.gc!();
  await sleep(10);
  const m = process.memoryUsage();
  return { ab: m.arrayBuffers, heap: m.heapUsed };
}

type Growth = { ab: number; heap: number };

/** Sample peak growth over the starting level every ~100 ms until stop(). */
async function sampler(): Promise<{ stop(): Promise<Growth> }> {
  const base = await live();
  const peak = { ...base };
  let running = true;
  const loop = (async () => {
    while (running) {
      const l = await live();
      peak.ab = Math.max(peak.ab, l.ab);
      peak.heap = Math.max(peak.heap, l.heap);
      await sleep(90);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ab: peak.ab - base.ab, heap: peak.heap - base.heap };
    },
  };
}

describe('memory per request stays within a few segments', () => {
  let gw: TestGateway;
  let ep: RawEndpoint;
  beforeAll(async () => {
    if (!global.gc) throw new Error('run with --expose-gc (vitest.config.ts sets it)');
    gw = await startTestGateway();
    ep = endpointOf(gw);
    const r = await signedRequest(ep, { method: 'PUT', path: '/mem' });
    expect(r.status).toBe(200);
  });
  afterAll(async () => gw?.close());

  /** Peak growth of live memory during a PUT and a GET of `size` bytes; also checks the bytes. */
  async function peakGrowth(size: number): Promise<{ put: Growth; get: Growth }> {
    const key = `/mem/obj-${size}`;
    let s = await sampler();
    const put = await signedRequest(ep, {
      method: 'PUT',
      path: key,
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'Content-Length': String(size) },
      sendBody: body(size),
      timeoutMs: 180_000,
    });
    const putGrowth = await s.stop();
    expect(put.status, put.text()).toBe(200);
    expect(put.headers.etag).toBe(`"${md5Of(size)}"`);

    s = await sampler();
    const signed = aws4.sign(
      {
        host: `127.0.0.1:${ep.port}`,
        path: key,
        method: 'GET',
        service: 's3',
        region: ep.region,
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { accessKeyId: ep.accessKeyId, secretAccessKey: ep.secretAccessKey },
    );
    const got = await new Promise<{ n: number; md5: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: ep.port,
          path: key,
          method: 'GET',
          headers: signed.headers as Record<string, string>,
        },
        (res) => {
          const h = createHash('md5');
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            h.update(c);
          });
          res.on('end', () => resolve({ n, md5: h.digest('hex') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    const getGrowth = await s.stop();
    expect(got.n).toBe(size);
    expect(`"${got.md5}"`).toBe(put.headers.etag);
    return { put: putGrowth, get: getGrowth };
  }

  it(`PUT and GET of ${LARGE / MiB} MiB need no more memory than of ${SMALL / MiB} MiB`, async () => {
    const small = await peakGrowth(SMALL);
    const large = await peakGrowth(LARGE);
    const f = (g: Growth) => `buffers ${(g.ab / MiB).toFixed(1)} MiB, heap ${(g.heap / MiB).toFixed(1)} MiB`;
    console.log(
      `memory test (${SMALL / MiB} -> ${LARGE / MiB} MiB): PUT ${f(small.put)} -> ${f(large.put)}; GET ${f(small.get)} -> ${f(large.get)}`,
    );
    for (const op of ['put', 'get'] as const) {
      // Object bytes would pile up in Buffers: the difference would be over 100 MiB.
      expect(large[op].ab - small[op].ab, `${op} buffers`).toBeLessThan(32 * MiB);
      // Or, converted to strings, in the heap.
      expect(large[op].heap - small[op].heap, `${op} heap`).toBeLessThan(32 * MiB);
    }
  });
});
