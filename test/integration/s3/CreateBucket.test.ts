/**
 * Bucket family: CreateBucket (plain, LocationConstraint, repeated, Key Protect
 * headers), ListBuckets, HeadBucket, DeleteBucket, GetBucketLocation.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectPath, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import {
  bodyBytes,
  bucketName,
  captureHeaders,
  expectHeadError,
  expectSdkError,
  useGateway,
  withHeaders,
} from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

const KP_ALG = 'ibm-sse-kp-encryption-algorithm';
const KP_CRN = 'ibm-sse-kp-customer-root-key-crn';

let gw: TestGateway;
let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ gw, s3, ep } = t));

describe('CreateBucket / ListBuckets / HeadBucket', () => {
  it('creates a bucket without a body; ListBuckets and HeadBucket see it', async () => {
    const b = bucketName('create');
    const out = await s3.send(new CreateBucketCommand({ Bucket: b }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.Location ?? '').toContain(b);
    const list = await s3.send(new ListBucketsCommand({}));
    const names = (list.Buckets ?? []).map((x) => x.Name);
    expect(names).toContain(b);
    const entry = list.Buckets?.find((x) => x.Name === b);
    expect(entry?.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs(entry!.CreationDate!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(list.Owner?.ID).toBeTruthy();
    const head = await s3.send(new HeadBucketCommand({ Bucket: b }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    expect(head.BucketRegion).toBe(gw.region);
  });

  it('lists buckets in name order', async () => {
    const names = [bucketName('order-c'), bucketName('order-a'), bucketName('order-b')];
    for (const n of names) await s3.send(new CreateBucketCommand({ Bucket: n }));
    const list = await s3.send(new ListBucketsCommand({}));
    const got = (list.Buckets ?? []).map((x) => x.Name ?? '');
    expect(got).toEqual([...got].sort());
    for (const n of names) expect(got).toContain(n);
  });

  it('a repeated CreateBucket by the owner answers 200 (as AWS us-east-1) and keeps the contents', async () => {
    const b = bucketName('again');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'keep', Body: Buffer.from('still here') }));
    const again = await s3.send(new CreateBucketCommand({ Bucket: b }));
    expect(again.$metadata.httpStatusCode).toBe(200);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'keep' }));
    expect((await bodyBytes(got)).toString()).toBe('still here');
  });

  it('HeadBucket of a missing bucket is 404 with no body', async () => {
    const b = bucketName('nothere');
    await expectSdkError(s3.send(new HeadBucketCommand({ Bucket: b })), 404);
    const res = await signedRequest(ep, { method: 'HEAD', path: objectPath(b) });
    expectHeadError(res, 404);
  });

  it('GetBucketLocation in us-east-1 answers an empty LocationConstraint', async () => {
    const b = bucketName('loc');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const out = await s3.send(new GetBucketLocationCommand({ Bucket: b }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.LocationConstraint ?? '').toBe('');
    await expectSdkError(
      s3.send(new GetBucketLocationCommand({ Bucket: bucketName('loc-missing') })),
      404,
      'NoSuchBucket',
    );
  });
});

describe('DeleteBucket', () => {
  it('refuses a non-empty bucket with 409 BucketNotEmpty, then deletes it once empty', async () => {
    const b = bucketName('del');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: Buffer.from('x') }));
    await expectSdkError(s3.send(new DeleteBucketCommand({ Bucket: b })), 409, 'BucketNotEmpty');
    // Still there, still readable.
    expect((await s3.send(new HeadBucketCommand({ Bucket: b }))).$metadata.httpStatusCode).toBe(200);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'x' }));
    const del = await s3.send(new DeleteBucketCommand({ Bucket: b }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    await expectSdkError(s3.send(new HeadBucketCommand({ Bucket: b })), 404);
    const names = ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((x) => x.Name);
    expect(names).not.toContain(b);
    await expectSdkError(s3.send(new DeleteBucketCommand({ Bucket: b })), 404, 'NoSuchBucket');
  });

  it('a bucket re-created under a deleted name starts empty', async () => {
    const b = bucketName('reuse');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'old', Body: Buffer.from('old') }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'old' }));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const list = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    expect(list.KeyCount).toBe(0);
    expect(list.Contents ?? []).toEqual([]);
  });
});

describe('CreateBucket with a LocationConstraint (server region eu-central-1)', () => {
  let eu: TestGateway;
  let euS3: S3Client;
  beforeAll(async () => {
    eu = await startTestGateway({ config: { region: 'eu-central-1' } });
    euS3 = eu.client();
  });
  afterAll(async () => {
    await eu?.close();
  });

  it('accepts a CreateBucketConfiguration naming the server region; GetBucketLocation returns it', async () => {
    const b = bucketName('eu');
    const cap = captureHeaders(
      new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }),
    );
    const out = await euS3.send(cap.cmd);
    expect(out.$metadata.httpStatusCode).toBe(200);
    // The SDK really sent a body (content-length > 0).
    expect(Number(cap.requestHeaders()['content-length'] ?? '0')).toBeGreaterThan(0);
    const loc = await euS3.send(new GetBucketLocationCommand({ Bucket: b }));
    expect(loc.LocationConstraint).toBe('eu-central-1');
    const head = await euS3.send(new HeadBucketCommand({ Bucket: b }));
    expect(head.BucketRegion).toBe('eu-central-1');
  });

  it('refuses a LocationConstraint of another region with 400', async () => {
    const b = bucketName('wrongregion');
    await expectSdkError(
      euS3.send(
        new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: 'ap-south-1' } }),
      ),
      400,
    );
    await expectSdkError(euS3.send(new HeadBucketCommand({ Bucket: b })), 404);
  });

  it('outside us-east-1 a repeated create by the owner is 409 BucketAlreadyOwnedByYou', async () => {
    const b = bucketName('eu-again');
    await euS3.send(
      new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }),
    );
    await expectSdkError(
      euS3.send(
        new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }),
      ),
      409,
      'BucketAlreadyOwnedByYou',
    );
  });
});

describe('CreateBucket with Key Protect headers', () => {
  it('binds the bucket to a customer root key; HeadBucket reports it under both header names', async () => {
    const crn = await gw.createRootKey('kp-create');
    const b = bucketName('kp');
    const out = await s3.send(
      withHeaders(new CreateBucketCommand({ Bucket: b }), { [KP_ALG]: 'AES256', [KP_CRN]: crn }),
    );
    expect(out.$metadata.httpStatusCode).toBe(200);
    const cap = captureHeaders(new HeadBucketCommand({ Bucket: b }));
    await s3.send(cap.cmd);
    const h = cap.headers();
    expect(h['ibm-sse-kp-enabled']).toBe('true');
    expect(h['ibm-sse-kp-customer-root-key-crn']).toBe(crn);
    expect(h['ibm-sse-kp-crk-id']).toBe(crn);
    // The bucket works for data.
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: Buffer.from('kp data') }));
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).toString()).toBe('kp data');
  });

  it('re-creating an owned bucket with a different root key is refused (409), never a silent 200 that keeps the old key', async () => {
    const crn = await gw.createRootKey('kp-recreate');
    const b = bucketName('kp-again');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await expectSdkError(
      s3.send(withHeaders(new CreateBucketCommand({ Bucket: b }), { [KP_ALG]: 'AES256', [KP_CRN]: crn })),
      409,
      'BucketAlreadyOwnedByYou',
    );
    // The same key again is the harmless us-east-1 repeat.
    const b2 = bucketName('kp-same');
    await s3.send(withHeaders(new CreateBucketCommand({ Bucket: b2 }), { [KP_ALG]: 'AES256', [KP_CRN]: crn }));
    const again = await s3.send(
      withHeaders(new CreateBucketCommand({ Bucket: b2 }), { [KP_ALG]: 'AES256', [KP_CRN]: crn }),
    );
    expect(again.$metadata.httpStatusCode).toBe(200);
  });

  it('a bucket created without KP headers does not claim ibm-sse-kp-enabled', async () => {
    const b = bucketName('nokp');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const cap = captureHeaders(new HeadBucketCommand({ Bucket: b }));
    await s3.send(cap.cmd);
    expect(cap.headers()['ibm-sse-kp-enabled']).not.toBe('true');
  });

  it('a malformed root key CRN is 400 InvalidArgument and creates nothing', async () => {
    const b = bucketName('kp-bad');
    await expectSdkError(
      s3.send(withHeaders(new CreateBucketCommand({ Bucket: b }), { [KP_ALG]: 'AES256', [KP_CRN]: 'not-a-crn' })),
      400,
      'InvalidArgument',
    );
    await expectSdkError(s3.send(new HeadBucketCommand({ Bucket: b })), 404);
  });

  it('a well-formed CRN of a key that does not exist is 400 and the message names the CRN', async () => {
    const real = await gw.createRootKey('kp-template');
    const segs = real.split(':');
    segs[segs.length - 1] = '0c6e5f10-3f9a-4c1e-9d2b-5a7e8f9a0b1c';
    const missing = segs.join(':');
    expect(missing).not.toBe(real);
    const b = bucketName('kp-missing');
    const res = await signedRequest(ep, {
      method: 'PUT',
      path: objectPath(b),
      headers: { [KP_ALG]: 'AES256', [KP_CRN]: missing },
    });
    expect(res.status, res.text()).toBe(400);
    const msg = /<Message>([\s\S]*?)<\/Message>/.exec(res.text())?.[1] ?? '';
    expect(msg).toContain(missing);
    await expectSdkError(s3.send(new HeadBucketCommand({ Bucket: b })), 404);
  });

  it('the algorithm header without a CRN, or a CRN without the algorithm, is 400 InvalidArgument', async () => {
    const crn = await gw.createRootKey('kp-half');
    const b1 = bucketName('kp-alg-only');
    await expectSdkError(
      s3.send(withHeaders(new CreateBucketCommand({ Bucket: b1 }), { [KP_ALG]: 'AES256' })),
      400,
      'InvalidArgument',
    );
    const b2 = bucketName('kp-crn-only');
    await expectSdkError(
      s3.send(withHeaders(new CreateBucketCommand({ Bucket: b2 }), { [KP_CRN]: crn })),
      400,
      'InvalidArgument',
    );
    await expectSdkError(s3.send(new HeadBucketCommand({ Bucket: b1 })), 404);
    await expectSdkError(s3.send(new HeadBucketCommand({ Bucket: b2 })), 404);
  });
});
