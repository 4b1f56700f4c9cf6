/**
 * SigV4 header auth with raw aws4-signed requests: payload hash modes (hex
 * SHA-256 verified against the body, UNSIGNED-PAYLOAD), Content-MD5, wrong
 * secret, unknown key, clock skew, region mismatch, tampered signed headers,
 * unknown query parameters, and bodies cut short. Failed uploads store nothing
 * and leave no blob.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import aws4 from 'aws4';
import { describe, expect, it } from 'vitest';
import { errorBody, objectPath, send, signedRequest, signHeaders, type RawEndpoint } from '../../helpers/rawS3.js';
import { md5Base64, md5Hex, SeededData, sha256Hex } from '../../helpers/seeded.js';
import {
  bodyBytes,
  countBlobs,
  createBucket,
  expectAbsent as expectS3Absent,
  expectBlobCount,
  expectHeadError,
  expectXmlError,
  tmpFiles,
  useGateway,
} from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';

let gw: TestGateway;
let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ gw, s3, ep } = t));

const newBucket = (prefix: string) => createBucket(s3, prefix);

const expectAbsent = (b: string, key: string) => expectS3Absent(s3, b, key);

describe('payload hash', () => {
  it('a correct hex x-amz-content-sha256 (s3cmd style) is accepted', async () => {
    const b = await newBucket('auth-sha');
    const body = new SeededData('sha-ok', 100_000).bytes();
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body,
      headers: { 'x-amz-storage-class': 'STANDARD', 'Content-Type': 'text/plain' },
    });
    expect(res.status, res.text()).toBe(200);
    expect(res.headers['etag']).toBe(`"${md5Hex(body)}"`);
  });

  it.each([
    ['small', 100],
    ['1 MiB (mismatch found only at the end of the stream)', 1024 * 1024],
  ])(
    'a hex x-amz-content-sha256 that does not match the body (%s) is 400 XAmzContentSHA256Mismatch and creates nothing',
    async (_l, size) => {
      const b = await newBucket('auth-shabad');
      const before = await countBlobs(gw.dataDir);
      const body = new SeededData(`sha-bad-${size}`, size).bytes();
      const res = await signedRequest(ep, {
        method: 'PUT',
        path: objectPath(b, 'k'),
        body,
        payloadHash: sha256Hex('a different body'),
      });
      expectXmlError(res, 400, 'XAmzContentSHA256Mismatch');
      await expectAbsent(b, 'k');
      await expectBlobCount(gw.dataDir, before, 'blobs after a SHA-256 mismatch');
    },
  );

  it('a hex mismatch does not replace an existing object', async () => {
    const b = await newBucket('auth-shakeep');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('keep me') }));
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body: Buffer.from('evil'),
      payloadHash: sha256Hex('good'),
    });
    expectXmlError(res, 400, 'XAmzContentSHA256Mismatch');
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).toString()).toBe('keep me');
  });

  it('UNSIGNED-PAYLOAD is accepted', async () => {
    const b = await newBucket('auth-unsigned');
    const body = Buffer.from('unsigned payload body');
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body,
      payloadHash: 'UNSIGNED-PAYLOAD',
    });
    expect(res.status, res.text()).toBe(200);
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).equals(body)).toBe(true);
  });

  it('a Content-MD5 mismatch is 400 BadDigest and creates nothing', async () => {
    const b = await newBucket('auth-md5');
    const before = await countBlobs(gw.dataDir);
    const body = Buffer.from('body for md5');
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body,
      headers: { 'Content-MD5': md5Base64('not it') },
    });
    expectXmlError(res, 400, 'BadDigest');
    await expectAbsent(b, 'k');
    await expectBlobCount(gw.dataDir, before);
    const ok = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body,
      headers: { 'Content-MD5': md5Base64(body) },
    });
    expect(ok.status, ok.text()).toBe(200);
  });

  it('a Content-MD5 that is not base64 of 16 bytes is 400 InvalidDigest', async () => {
    const b = await newBucket('auth-md5inv');
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body: Buffer.from('x'),
      headers: { 'Content-MD5': 'not-an-md5' },
    });
    expectXmlError(res, 400, 'InvalidDigest');
    await expectAbsent(b, 'k');
  });

  it('a plain body cut short (socket closed before Content-Length bytes) stores nothing and leaves no blob', async () => {
    const b = await newBucket('auth-short');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('old version') }));
    const before = await countBlobs(gw.dataDir);
    const tmpBefore = (await tmpFiles(gw.dataDir)).length;
    const data = new SeededData('short', 500_000);
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      payloadHash: 'UNSIGNED-PAYLOAD',
      headers: { 'Content-Length': String(data.size) },
      sendBody: data.pieces(),
      abortAfterBytes: 200_000,
    });
    expect(res.status).toBe(0);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && (await tmpFiles(gw.dataDir)).length > tmpBefore)
      await new Promise((r) => setTimeout(r, 50));
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).toString()).toBe(
      'old version',
    );
    await expectBlobCount(gw.dataDir, before, 'blobs after a truncated upload');
    expect((await tmpFiles(gw.dataDir)).length, 'temp files after a truncated upload').toBe(tmpBefore);
  });
});

describe('credentials and signature', () => {
  it('a wrong secret is 403 SignatureDoesNotMatch (GET and PUT; the PUT stores nothing)', async () => {
    const b = await newBucket('auth-secret');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('x') }));
    const res = await signedRequest(ep, {
      method: 'GET',
      path: objectPath(b, 'k'),
      secretAccessKey: 'wrong-secret-key-0123456789',
    });
    expectXmlError(res, 403, 'SignatureDoesNotMatch');
    expect(res.text()).not.toContain(gw.secretAccessKey);
    const before = await countBlobs(gw.dataDir);
    const put = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'new'),
      body: Buffer.from('data'),
      secretAccessKey: 'wrong-secret-key-0123456789',
    });
    expectXmlError(put, 403, 'SignatureDoesNotMatch');
    await expectAbsent(b, 'new');
    await expectBlobCount(gw.dataDir, before);
  });

  it('an unknown access key is 403 InvalidAccessKeyId', async () => {
    const b = await newBucket('auth-akid');
    const res = await signedRequest(ep, {
      method: 'GET',
      path: objectPath(b),
      accessKeyId: 'AKIDOESNOTEXIST0000',
      secretAccessKey: 'whatever-secret',
    });
    expectXmlError(res, 403, 'InvalidAccessKeyId');
  });

  it.each([
    ['20 minutes behind', -20],
    ['20 minutes ahead', 20],
  ])('a request time %s is 403 RequestTimeTooSkewed', async (_l, minutes) => {
    const b = await newBucket('auth-skew');
    const res = await signedRequest(ep, {
      method: 'GET',
      path: objectPath(b),
      date: new Date(Date.now() + minutes * 60_000),
    });
    expectXmlError(res, 403, 'RequestTimeTooSkewed');
  });

  it('a request time 10 minutes off is inside the window', async () => {
    const b = await newBucket('auth-skewok');
    const res = await signedRequest(ep, {
      method: 'GET',
      path: objectPath(b),
      date: new Date(Date.now() - 10 * 60_000),
    });
    expect(res.status, res.text()).toBe(200);
  });

  it('a credential scope for another region is 400 AuthorizationHeaderMalformed naming the expected <Region>', async () => {
    const b = await newBucket('auth-region');
    const res = await signedRequest(ep, { method: 'GET', path: objectPath(b), region: 'ap-southeast-2' });
    expectXmlError(res, 400, 'AuthorizationHeaderMalformed');
    expect(res.text()).toContain(`<Region>${gw.region}</Region>`);
  });

  it('changing a signed header after signing is 403 SignatureDoesNotMatch', async () => {
    const b = await newBucket('auth-tamper');
    const body = Buffer.from('x');
    const s = signHeaders(ep, {
      method: 'PUT',
      path: objectPath(b, 'k'),
      body,
      headers: { 'x-amz-meta-owner': 'alice', 'Content-Length': '1' },
    });
    const headers = { ...s.headers, 'x-amz-meta-owner': 'mallory' };
    expectXmlError(await send(ep, { method: 'PUT', path: s.path, headers, body }), 403, 'SignatureDoesNotMatch');
    await expectAbsent(b, 'k');
  });

  it('a request with no authentication is 403 AccessDenied; a HEAD one has no body', async () => {
    const b = await newBucket('auth-anon');
    expectXmlError(await send(ep, { method: 'GET', path: objectPath(b) }), 403, 'AccessDenied');
    expectHeadError(await send(ep, { method: 'HEAD', path: objectPath(b) }), 403);
  });

  it('a malformed Authorization header is a 4xx XML error, not a 500', async () => {
    const b = await newBucket('auth-malformed');
    const res = await send(ep, {
      method: 'GET',
      path: objectPath(b),
      headers: {
        Authorization: 'AWS4-HMAC-SHA256 Credential=garbage',
        'x-amz-date': '20240101T000000Z',
        'x-amz-content-sha256': sha256Hex(''),
      },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectXmlError(res, res.status);
  });

  it('unknown query parameters such as x-id are ignored', async () => {
    const b = await newBucket('auth-xid');
    const put = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b, 'k', 'x-id=PutObject'),
      body: Buffer.from('hello'),
    });
    expect(put.status, put.text()).toBe(200);
    const get = await signedRequest(ep, { method: 'GET', path: objectPath(b, 'k', 'x-id=GetObject&foo=bar') });
    expect(get.status, get.text()).toBe(200);
    expect(get.text()).toBe('hello');
  });

  it('every error carries x-amz-request-id equal to the <RequestId> in the body', async () => {
    const b = await newBucket('auth-reqid');
    const res = await signedRequest(ep, { method: 'GET', path: objectPath(b, 'missing') });
    expectXmlError(res, 404, 'NoSuchKey');
    expect(res.headers['x-amz-request-id']).toBe(errorBody(res).RequestId);
  });
});

describe('repeated headers', () => {
  it('a signed header sent twice verifies: SigV4 joins the values with "," where Node joins them with ", "', async () => {
    const b = await newBucket('auth-dup');
    const path = objectPath(b, 'dup');
    const body = 'repeated';
    const signed = aws4.sign(
      {
        host: `127.0.0.1:${ep.port}`,
        path,
        method: 'PUT',
        service: 's3',
        region: ep.region,
        body,
        headers: { 'x-amz-meta-twice': ['one', 'two'] as unknown as string, 'content-length': String(body.length) },
      },
      { accessKeyId: ep.accessKeyId, secretAccessKey: ep.secretAccessKey },
    );
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: ep.port, path, method: 'PUT', headers: signed.headers as OutgoingHttpHeaders },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'dup' }));
    expect((await bodyBytes(got)).toString()).toBe(body);
  });
});

describe('non-ASCII header values', () => {
  // The client signs the UTF-8 bytes of its string and sends those bytes; Node
  // reads them as latin1. 'Åsa' (C3 85) and 'à' (C3 A0) carry bytes that are
  // whitespace in latin1, which a naive canonicalization trims or collapses.
  const VALUE = 'café Åsa à 日本語 😀';
  const onTheWire = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

  it('an x-amz-meta-* value sent as UTF-8 verifies as AWS canonicalizes it and comes back as the same bytes', async () => {
    const b = await newBucket('auth-utf8');
    const path = objectPath(b, 'k');
    const s = signHeaders(ep, {
      method: 'PUT',
      path,
      body: 'x',
      headers: { 'x-amz-meta-name': VALUE, 'Content-Length': '1' },
    });
    const headers = { ...s.headers, 'x-amz-meta-name': onTheWire(VALUE) };
    const res = await send(ep, { method: 'PUT', path: s.path, headers, body: 'x' });
    expect(res.status, res.text()).toBe(200);
    const got = await signedRequest(ep, { method: 'HEAD', path });
    expect(Buffer.from(String(got.headers['x-amz-meta-name']), 'latin1').toString('utf8')).toBe(VALUE);
  });

  it('the same bytes signed over a different value are 403 SignatureDoesNotMatch', async () => {
    const b = await newBucket('auth-utf8-bad');
    const path = objectPath(b, 'k');
    const s = signHeaders(ep, {
      method: 'PUT',
      path,
      body: 'x',
      headers: { 'x-amz-meta-name': 'cafe', 'Content-Length': '1' },
    });
    const res = await send(ep, {
      method: 'PUT',
      path: s.path,
      headers: { ...s.headers, 'x-amz-meta-name': onTheWire('café') },
      body: 'x',
    });
    expectXmlError(res, 403, 'SignatureDoesNotMatch');
    await expectAbsent(b, 'k');
  });
});
