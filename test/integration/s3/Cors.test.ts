/**
 * CORS: the configuration through the SDK (Put/Get/DeleteBucketCors and AWS's
 * validation), raw OPTIONS preflights on bucket and object paths, and the
 * Access-Control-* headers on actual requests, error answers included.
 */
import {
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type CORSRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { objectPath, send, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import {
  captureHeaders,
  createBucket,
  expectSdkError,
  expectXmlError,
  useGateway,
  withHeaders,
  type GatewayUnderTest,
} from '../../helpers/s3Test.js';

let t: GatewayUnderTest;
useGateway((g) => (t = g));
const s3 = (): S3Client => t.s3;
const ep = (): RawEndpoint => t.ep;

const APP = 'https://app.example.com';
const RULES: CORSRule[] = [
  {
    ID: 'app',
    AllowedOrigins: ['https://*.example.com'],
    AllowedMethods: ['GET', 'PUT', 'POST'],
    AllowedHeaders: ['x-amz-*', 'content-type'],
    ExposeHeaders: ['ETag', 'x-amz-request-id'],
    MaxAgeSeconds: 600,
  },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
];

async function bucketWithCors(): Promise<string> {
  const b = await createBucket(s3(), 'cors');
  await s3().send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: RULES } }));
  return b;
}

const options = (path: string, headers: Record<string, string>) => send(ep(), { method: 'OPTIONS', path, headers });

describe('Put/Get/DeleteBucketCors', () => {
  it('stores the rules, returns them as sent, and deletes them', async () => {
    const b = await createBucket(s3(), 'cors');
    await expectSdkError(s3().send(new GetBucketCorsCommand({ Bucket: b })), 404, 'NoSuchCORSConfiguration');
    await s3().send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: RULES } }));
    const got = await s3().send(new GetBucketCorsCommand({ Bucket: b }));
    expect(got.CORSRules).toEqual([RULES[0], { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] }]);
    await s3().send(new DeleteBucketCorsCommand({ Bucket: b }));
    await expectSdkError(s3().send(new GetBucketCorsCommand({ Bucket: b })), 404, 'NoSuchCORSConfiguration');
    // The preflight no longer passes either.
    const res = await options(objectPath(b, 'k'), { Origin: APP, 'Access-Control-Request-Method': 'GET' });
    expectXmlError(res, 403, 'AccessForbidden');
    expect(res.text()).toContain('CORS is not enabled for this bucket');
  });

  it('validates as AWS does', async () => {
    const b = await createBucket(s3(), 'cors');
    const put = (rules: CORSRule[]) =>
      s3().send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: rules } }));
    await expectSdkError(put([{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }]), 400, 'InvalidRequest');
    await expectSdkError(put([{ AllowedOrigins: ['http://*.*.com'], AllowedMethods: ['GET'] }]), 400, 'InvalidRequest');
    await expectSdkError(
      put([{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['a*b*'] }]),
      400,
      'InvalidRequest',
    );
    await expectSdkError(
      put(Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }))),
      400,
      'InvalidRequest',
    );
    await expectSdkError(put([]), 400, 'MalformedXML');
    await expectSdkError(s3().send(new GetBucketCorsCommand({ Bucket: b })), 404, 'NoSuchCORSConfiguration');
    const other = await signedRequest(ep(), {
      method: 'PUT',
      path: objectPath('no-such-bucket-cors', undefined, 'cors'),
      body: '<CORSConfiguration/>',
    });
    expectXmlError(other, 404, 'NoSuchBucket');
  });
});

describe('preflight (OPTIONS)', () => {
  it('answers 200 with the Access-Control-* headers when a rule matches, on bucket and object paths', async () => {
    const b = await bucketWithCors();
    for (const path of [objectPath(b), objectPath(b, 'dir/photo.jpg')]) {
      const res = await options(path, {
        Origin: APP,
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'Content-Type, X-Amz-Date',
      });
      expect(res.status, res.text()).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(APP);
      expect(res.headers['access-control-allow-methods']).toBe('GET, PUT, POST');
      expect(res.headers['access-control-allow-headers']).toBe('content-type, x-amz-date');
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers['access-control-expose-headers']).toBe('ETag, x-amz-request-id');
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      expect(String(res.headers.vary)).toContain('Origin');
    }
    // The catch-all rule answers *.
    const any = await options(objectPath(b, 'k'), {
      Origin: 'https://elsewhere.org',
      'Access-Control-Request-Method': 'HEAD',
    });
    expect(any.status).toBe(200);
    expect(any.headers['access-control-allow-origin']).toBe('*');
    expect(any.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('answers 403 "CORSResponse: This CORS request is not allowed" when none does, 400 without Origin', async () => {
    const b = await bucketWithCors();
    const refused: Record<string, string>[] = [
      { Origin: 'https://elsewhere.org', 'Access-Control-Request-Method': 'PUT' },
      { Origin: APP, 'Access-Control-Request-Method': 'DELETE' },
      { Origin: APP, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'x-custom' },
      { Origin: 'http://app.example.com', 'Access-Control-Request-Method': 'PUT' },
    ];
    for (const h of refused) {
      const res = await options(objectPath(b, 'k'), h);
      expectXmlError(res, 403, 'AccessForbidden');
      expect(res.text()).toContain('CORSResponse: This CORS request is not allowed');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    expectXmlError(await options(objectPath(b, 'k'), { 'Access-Control-Request-Method': 'GET' }), 400, 'BadRequest');
    expectXmlError(await options(objectPath(b, 'k'), { Origin: APP }), 400, 'BadRequest');
    expectXmlError(
      await options(objectPath('no-such-bucket-cors', 'k'), { Origin: APP, 'Access-Control-Request-Method': 'GET' }),
      403,
      'AccessForbidden',
    );
  });
});

describe('actual requests', () => {
  it('carry Access-Control-Allow-Origin, Expose-Headers and Vary, also on errors', async () => {
    const b = await bucketWithCors();
    await s3().send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'data' }));
    const ok = captureHeaders(withHeaders(new GetObjectCommand({ Bucket: b, Key: 'k' }), { Origin: APP }));
    await s3().send(ok.cmd);
    expect(ok.headers()['access-control-allow-origin']).toBe(APP);
    expect(ok.headers()['access-control-expose-headers']).toBe('ETag, x-amz-request-id');
    expect(ok.headers().vary).toContain('Origin');

    // A 404 answer: the page can still read it.
    const missing = await signedRequest(ep(), { method: 'GET', path: objectPath(b, 'nope'), headers: { Origin: APP } });
    expectXmlError(missing, 404, 'NoSuchKey');
    expect(missing.headers['access-control-allow-origin']).toBe(APP);
    expect(missing.headers['access-control-expose-headers']).toBe('ETag, x-amz-request-id');
    // Refused by auth (unsigned): still CORS headers, from the catch-all rule, and * (no credentials).
    const anon = await send(ep(), {
      method: 'GET',
      path: objectPath(b, 'k'),
      headers: { Origin: 'https://elsewhere.org' },
    });
    expectXmlError(anon, 403, 'AccessDenied');
    expect(anon.headers['access-control-allow-origin']).toBe('*');
    // A method no rule allows for that origin: Vary only.
    const del = await signedRequest(ep(), {
      method: 'DELETE',
      path: objectPath(b, 'k'),
      headers: { Origin: 'https://elsewhere.org' },
    });
    expect(del.status).toBe(204);
    expect(del.headers['access-control-allow-origin']).toBeUndefined();
    expect(String(del.headers.vary)).toContain('Origin');
  });

  it('a browser form POST gets them too, refused or not', async () => {
    const b = await bucketWithCors();
    const res = await send(ep(), {
      method: 'POST',
      path: objectPath(b),
      headers: { Origin: APP, 'Content-Type': 'text/plain' },
      body: 'not a form',
    });
    expectXmlError(res, 412, 'PreconditionFailed');
    expect(res.headers['access-control-allow-origin']).toBe(APP);
  });

  it('without an Origin, or on a bucket without rules, no CORS headers', async () => {
    const b = await bucketWithCors();
    await s3().send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'data' }));
    const noOrigin = await signedRequest(ep(), { method: 'GET', path: objectPath(b, 'k') });
    expect(noOrigin.status).toBe(200);
    expect(noOrigin.headers['access-control-allow-origin']).toBeUndefined();
    const plain = await createBucket(s3(), 'cors');
    await s3().send(new PutObjectCommand({ Bucket: plain, Key: 'k', Body: 'data' }));
    const res = await signedRequest(ep(), { method: 'GET', path: objectPath(plain, 'k'), headers: { Origin: APP } });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.vary).toBeUndefined();
  });
});
