/**
 * A client that stops sending in the middle of a body must not hold a request
 * (and its temp file) forever: after the idle timeout the socket is closed, no
 * object is created and nothing is left on disk.
 */
import { HeadObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointOf, signHeaders, type RawEndpoint } from '../../helpers/rawS3.js';
import { bucketName, countBlobs, expectSdkError, tmpFiles } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

let gw: TestGateway;
let ep: RawEndpoint;
beforeAll(async () => {
  gw = await startTestGateway({ config: { idleTimeoutSeconds: 1 } });
  ep = endpointOf(gw);
});
afterAll(async () => gw?.close());

describe('stalled uploads', () => {
  it('a PUT whose body stops arriving is cut off after the idle timeout; nothing is stored', async () => {
    const s3 = gw.client();
    const b = bucketName('stall');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const before = await countBlobs(gw.dataDir);
    const s = signHeaders(ep, {
      method: 'PUT',
      path: `/${b}/stalled`,
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'Content-Length': String(1024 * 1024) },
    });
    const sock = connect(ep.port, '127.0.0.1');
    const closed = new Promise<number>((resolve) => {
      const t0 = Date.now();
      sock.on('close', () => resolve(Date.now() - t0));
    });
    sock.on('error', () => undefined);
    const head = [`PUT ${s.path} HTTP/1.1`, ...Object.entries(s.headers).map(([k, v]) => `${k}: ${v}`), '', ''].join(
      '\r\n',
    );
    sock.write(head);
    sock.write(Buffer.alloc(100 * 1024, 1)); // then nothing more
    const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
    sock.destroy();
    expect(ms, 'server closed the stalled connection').toBeGreaterThan(0);
    expect(ms).toBeLessThan(8_000);
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: b, Key: 'stalled' })), 404);
    expect(await countBlobs(gw.dataDir)).toBe(before);
    // The temp file of the interrupted write is gone too.
    await new Promise((r) => setTimeout(r, 200));
    expect(await tmpFiles(gw.dataDir)).toEqual([]);
  });
});
