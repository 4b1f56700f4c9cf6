/**
 * Expect: 100-continue is answered only after the request is authenticated
 * and its body is wanted: a badly signed request, an unknown key or a missing
 * bucket get their final answer without a 100, and the body is never sent.
 * Other expectations are refused (501 NotImplemented naming Expect).
 */
import { connect } from 'node:net';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { objectPath, signHeaders, type RawEndpoint } from '../../helpers/rawS3.js';
import { bodyBytes, bucketName, createBucket, useGateway } from '../../helpers/s3Test.js';
import { GetObjectCommand } from '@aws-sdk/client-s3';

let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ s3, ep } = t));

interface Exchange {
  /** What the server sent before the client sent any body byte. */
  beforeBody: string;
  /** Everything the server sent. */
  all: string;
  bodySent: boolean;
}

/**
 * Send the head, wait for the server (up to `waitMs`), send the body only if
 * the server said 100 Continue, then read until the server closes or the final
 * response is complete.
 */
function exchange(
  head: Record<string, string>,
  method: string,
  path: string,
  body: Buffer,
  waitMs = 700,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const sock = connect(ep.port, '127.0.0.1');
    let all = '';
    let beforeBody = '';
    let bodySent = false;
    const lines = [`${method} ${path} HTTP/1.1`, ...Object.entries(head).map(([k, v]) => `${k}: ${v}`), '', ''];
    sock.on('connect', () => sock.write(lines.join('\r\n')));
    const finish = () => {
      sock.destroy();
      resolve({ beforeBody, all, bodySent });
    };
    const timer = setTimeout(() => {
      if (!bodySent && all.startsWith('HTTP/1.1 100')) return;
      finish();
    }, waitMs);
    sock.on('data', (d: Buffer) => {
      all += d.toString('latin1');
      if (!bodySent) beforeBody = all;
      if (!bodySent && /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(all)) {
        bodySent = true;
        sock.write(body);
        return;
      }
      const final = all.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
      const m = /\r\ncontent-length: (\d+)\r\n[\s\S]*?\r\n\r\n/i.exec(final);
      if (m && final.length >= final.indexOf('\r\n\r\n') + 4 + Number(m[1])) {
        clearTimeout(timer);
        finish();
      }
    });
    sock.on('end', () => {
      clearTimeout(timer);
      finish();
    });
    sock.on('error', reject);
  });
}

const status = (raw: string) =>
  Number(/HTTP\/1\.1 (\d{3})/.exec(raw.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''))?.[1]);

function signedHead(path: string, body: Buffer, extra: Record<string, string> = {}, secret?: string) {
  const s = signHeaders(ep, {
    method: 'PUT',
    path,
    body,
    headers: { 'Content-Length': String(body.length), ...extra },
    secretAccessKey: secret,
  });
  return { ...s.headers, Expect: '100-continue' };
}

describe('Expect: 100-continue', () => {
  it('an authenticated PUT gets 100 Continue, then its body is stored', async () => {
    const b = await createBucket(s3, 'expect-ok');
    const body = Buffer.from('sent after the 100');
    const path = objectPath(b, 'k');
    const x = await exchange(signedHead(path, body), 'PUT', path, body);
    expect(x.beforeBody).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    expect(x.bodySent).toBe(true);
    expect(status(x.all)).toBe(200);
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).toString()).toBe(
      'sent after the 100',
    );
  });

  it('a wrong signature is 403 without a 100: the body is never asked for', async () => {
    const b = await createBucket(s3, 'expect-bad');
    const body = Buffer.from('never sent');
    const path = objectPath(b, 'k');
    const x = await exchange(signedHead(path, body, {}, 'not-the-secret'), 'PUT', path, body);
    expect(x.bodySent).toBe(false);
    expect(status(x.beforeBody)).toBe(403);
    expect(x.beforeBody).toContain('SignatureDoesNotMatch');
  });

  it('a missing bucket is 404 without a 100', async () => {
    const body = Buffer.from('never sent');
    const path = objectPath(bucketName('expect-nobucket'), 'k');
    const x = await exchange(signedHead(path, body), 'PUT', path, body);
    expect(x.bodySent).toBe(false);
    expect(status(x.beforeBody)).toBe(404);
  });

  it('the SDK (which sends Expect: 100-continue for large bodies) still uploads', async () => {
    const b = await createBucket(s3, 'expect-sdk');
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'big', Body: body }));
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'big' })))).equals(body)).toBe(true);
  });
});

describe('other expectations', () => {
  it('are 501 NotImplemented naming the Expect header, and store nothing', async () => {
    const b = await createBucket(s3, 'expect-other');
    const body = Buffer.from('x');
    const path = objectPath(b, 'k');
    const head = { ...signedHead(path, body), Expect: 'something-else' };
    const x = await exchange(head, 'PUT', path, body);
    expect(status(x.all)).toBe(501);
    expect(x.all).toContain('<Code>NotImplemented</Code>');
    expect(x.all).toContain('<Header>Expect</Header>');
  });
});
