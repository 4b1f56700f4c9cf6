/**
 * CopyObject across every pair of source and destination encryption: the
 * bucket's key, SSE-KMS under another root key, SSE-C. The copy reads the
 * source with what it needs (the copy-source SSE-C key), writes the target as
 * asked, and reports the target's encryption; the target then reads back under
 * its own terms only (an SSE-C target needs its key, a non-SSE-C target refuses
 * one).
 */
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, bucketName, expectSdkError, useGateway } from '../../helpers/s3Test.js';
import { createKpBucket } from '../kms/lifecycleKit.js';
import type { TestGateway } from '../../helpers/startGateway.js';

let s3: S3Client;
let gw: TestGateway;
useGateway((t) => ({ s3, gw } = t));

type Mode = 'bucket' | 'kms' | 'ssec';
const MODES: Mode[] = ['bucket', 'kms', 'ssec'];
const md5b64 = (k: Buffer) => createHash('md5').update(k).digest('base64');

let bucket: string;
let objectKeyCrn: string;
let bucketKeyCrn: string;
const sourceKey = randomBytes(32);
const targetKey = randomBytes(32);

beforeAll(async () => {
  // A Key Protect bucket, so that its own key is reported on every response.
  bucketKeyCrn = await gw.createRootKey('copy-sse-bucket-key');
  bucket = bucketName('copy-sse');
  await createKpBucket(s3, bucket, bucketKeyCrn);
  objectKeyCrn = await gw.createRootKey('copy-sse-object-key');
});

function writeParams(mode: Mode, key: Buffer) {
  if (mode === 'kms') return { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: objectKeyCrn };
  if (mode === 'ssec') return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key as unknown as string };
  return {};
}
function readParams(mode: Mode, key: Buffer) {
  return mode === 'ssec' ? { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key as unknown as string } : {};
}
function copySourceParams(mode: Mode) {
  return mode === 'ssec'
    ? { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: sourceKey as unknown as string }
    : {};
}

describe('CopyObject: every source x destination encryption', () => {
  for (const from of MODES)
    for (const to of MODES)
      it(`${from} -> ${to}`, async () => {
        const src = `src-${from}-${to}`;
        const dst = `dst-${from}-${to}`;
        const body = randomBytes(70_000 + MODES.indexOf(from) * 1000 + MODES.indexOf(to));
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: src, Body: body, ...writeParams(from, sourceKey) }));

        // Without the source's SSE-C key the copy is refused as GET would be.
        if (from === 'ssec')
          await expectSdkError(
            s3.send(new CopyObjectCommand({ Bucket: bucket, Key: dst, CopySource: `${bucket}/${src}` })),
            400,
            'InvalidRequest',
          );

        const copied = await s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: dst,
            CopySource: `${bucket}/${src}`,
            ...copySourceParams(from),
            ...writeParams(to, targetKey),
          }),
        );
        if (to === 'ssec') {
          expect(copied.SSECustomerKeyMD5).toBe(md5b64(targetKey));
          expect(copied.SSEKMSKeyId).toBeUndefined();
        } else {
          expect(copied.SSECustomerKeyMD5).toBeUndefined();
          expect(copied.SSEKMSKeyId).toBe(to === 'kms' ? objectKeyCrn : bucketKeyCrn);
          if (to === 'kms') expect(copied.ServerSideEncryption).toBe('aws:kms');
        }

        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: dst, ...readParams(to, targetKey) }));
        expect((await bodyBytes(got)).equals(body)).toBe(true);
        if (to === 'kms') expect(got.SSEKMSKeyId).toBe(objectKeyCrn);
        else if (to === 'bucket') expect(got.SSEKMSKeyId).toBe(bucketKeyCrn);

        if (to === 'ssec') {
          // The target is under the new key only: the source's key is another key (403), none is 400.
          await expectSdkError(
            s3.send(new HeadObjectCommand({ Bucket: bucket, Key: dst, ...readParams('ssec', sourceKey) })),
            403,
          );
          await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: dst })), 400);
        } else {
          // A customer key for an object that has none: 400.
          await expectSdkError(
            s3.send(new HeadObjectCommand({ Bucket: bucket, Key: dst, ...readParams('ssec', targetKey) })),
            400,
          );
        }
      });
});
