/**
 * CompleteMultipartUpload's checksums: FULL_OBJECT (CRC64NVME, CRC32) built
 * from the part CRCs and verified against what the client claims, COMPOSITE
 * verified part by part, AWS's error codes (BadDigest, InvalidPart,
 * InvalidRequest), and a repeated Complete of a completed upload answering 200
 * with the same ETag.
 */
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { objectPath, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import {
  bodyBytes,
  createBucket,
  expectAbsent,
  expectSdkError,
  expectXmlError,
  useGateway,
} from '../../helpers/s3Test.js';
import { createChecksum } from '../../../src/util/checksums.js';

let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ s3, ep } = t));

const PARTS = [randomBytes(5 * 1024 * 1024), randomBytes(123_457)];
const b64 = (a: 'CRC32' | 'CRC64NVME' | 'SHA256', ...bufs: Buffer[]) => {
  const c = createChecksum(a);
  for (const b of bufs) c.update(b);
  return c.digest().toString('base64');
};

async function upload(b: string, k: string, alg: ChecksumAlgorithm, type?: 'FULL_OBJECT' | 'COMPOSITE') {
  const up = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: b, Key: k, ChecksumAlgorithm: alg, ChecksumType: type }),
  );
  const parts = [];
  for (let i = 0; i < PARTS.length; i++) {
    const out = await s3.send(
      new UploadPartCommand({
        Bucket: b,
        Key: k,
        UploadId: up.UploadId,
        PartNumber: i + 1,
        Body: PARTS[i],
        ChecksumAlgorithm: alg,
      }),
    );
    parts.push({ PartNumber: i + 1, ETag: out.ETag!, [`Checksum${alg}`]: out[`Checksum${alg}` as 'ChecksumCRC32'] });
  }
  return { uploadId: up.UploadId!, parts, type: up.ChecksumType };
}

describe('FULL_OBJECT', () => {
  it('CRC64NVME: the object checksum is the CRC of the whole object; the SDK validates it on GET', async () => {
    const b = await createBucket(s3, 'mpc-nvme');
    const u = await upload(b, 'k', 'CRC64NVME');
    expect(u.type).toBe('FULL_OBJECT');
    const whole = b64('CRC64NVME', ...PARTS);
    const out = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'k',
        UploadId: u.uploadId,
        MultipartUpload: { Parts: u.parts },
        ChecksumCRC64NVME: whole,
        ChecksumType: 'FULL_OBJECT',
      }),
    );
    expect(out.ChecksumCRC64NVME).toBe(whole);
    expect(out.ChecksumType).toBe('FULL_OBJECT');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC64NVME).toBe(whole);
    expect(head.ChecksumType).toBe('FULL_OBJECT');
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', ChecksumMode: 'ENABLED' }));
    expect((await bodyBytes(got)).equals(Buffer.concat(PARTS))).toBe(true);
  });

  it('CRC32 FULL_OBJECT: a wrong object checksum is 400 BadDigest and the upload survives', async () => {
    const b = await createBucket(s3, 'mpc-crc32');
    const u = await upload(b, 'k', 'CRC32', 'FULL_OBJECT');
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: b,
          Key: 'k',
          UploadId: u.uploadId,
          MultipartUpload: { Parts: u.parts },
          ChecksumCRC32: b64('CRC32', PARTS[0]),
        }),
      ),
      400,
      'BadDigest',
    );
    await expectAbsent(s3, b, 'k');
    expect((await s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: u.uploadId }))).Parts?.length).toBe(2);
    const out = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'k',
        UploadId: u.uploadId,
        MultipartUpload: { Parts: u.parts },
        ChecksumCRC32: b64('CRC32', ...PARTS),
      }),
    );
    expect(out.ChecksumCRC32).toBe(b64('CRC32', ...PARTS));
  });

  it("a checksum type other than the upload's is BadDigest; a COMPOSITE CRC64NVME upload is InvalidRequest", async () => {
    const b = await createBucket(s3, 'mpc-type');
    const u = await upload(b, 'k', 'CRC64NVME');
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: b,
          Key: 'k',
          UploadId: u.uploadId,
          MultipartUpload: { Parts: u.parts },
          ChecksumType: 'COMPOSITE',
        }),
      ),
      400,
      'BadDigest',
    );
    await expectSdkError(
      s3.send(
        new CreateMultipartUploadCommand({
          Bucket: b,
          Key: 'k2',
          ChecksumAlgorithm: 'CRC64NVME',
          ChecksumType: 'COMPOSITE',
        }),
      ),
      400,
      'InvalidRequest',
    );
    await expectSdkError(
      s3.send(
        new CreateMultipartUploadCommand({
          Bucket: b,
          Key: 'k2',
          ChecksumAlgorithm: 'SHA256',
          ChecksumType: 'FULL_OBJECT',
        }),
      ),
      400,
      'InvalidRequest',
    );
  });
});

describe('COMPOSITE', () => {
  it("SHA256: a part checksum in the Complete body that is not the part's is 400 InvalidPart; one left out is 400 InvalidRequest", async () => {
    const b = await createBucket(s3, 'mpc-sha');
    const u = await upload(b, 'k', 'SHA256');
    const wrong = u.parts.map((p, i) => (i === 1 ? { ...p, ChecksumSHA256: b64('SHA256', PARTS[0]) } : p));
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: b,
          Key: 'k',
          UploadId: u.uploadId,
          MultipartUpload: { Parts: wrong },
        }),
      ),
      400,
      'InvalidPart',
    );
    const missing = u.parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag }));
    await expectSdkError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: b,
          Key: 'k',
          UploadId: u.uploadId,
          MultipartUpload: { Parts: missing },
        }),
      ),
      400,
      'InvalidRequest',
    );
    const out = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'k',
        UploadId: u.uploadId,
        MultipartUpload: { Parts: u.parts },
      }),
    );
    expect(out.ChecksumSHA256).toMatch(/-2$/);
    expect(out.ChecksumType).toBe('COMPOSITE');
  });
});

describe('a repeated Complete', () => {
  it('of the upload that made the current object answers 200 with the same ETag; of an aborted or unknown upload 404 NoSuchUpload', async () => {
    const b = await createBucket(s3, 'mpc-again');
    const u = await upload(b, 'k', 'CRC32');
    const cmd = () =>
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'k',
        UploadId: u.uploadId,
        MultipartUpload: { Parts: u.parts },
      });
    const first = await s3.send(cmd());
    const again = await s3.send(cmd());
    expect(again.$metadata.httpStatusCode).toBe(200);
    expect(again.ETag).toBe(first.ETag);
    expect(again.ChecksumCRC32).toBe(first.ChecksumCRC32);
    // Once another object replaced it, the upload is just gone.
    await signedRequest(ep, { method: 'PUT', path: objectPath(b, 'k'), body: 'replaced' });
    await expectSdkError(s3.send(cmd()), 404, 'NoSuchUpload');
    const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${u.parts[0].ETag}</ETag></Part></CompleteMultipartUpload>`;
    expectXmlError(
      await signedRequest(ep, { method: 'POST', path: objectPath(b, 'k', 'uploadId=never-issued'), body: xml }),
      404,
      'NoSuchUpload',
    );
  });

  it("x-amz-mp-object-size that is not the object's size is 400 InvalidRequest", async () => {
    const b = await createBucket(s3, 'mpc-size');
    const u = await upload(b, 'k', 'CRC64NVME');
    const xml = `<CompleteMultipartUpload>${u.parts.map((p) => `<Part><PartNumber>${p.PartNumber}</PartNumber><ETag>${p.ETag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const path = objectPath(b, 'k', `uploadId=${encodeURIComponent(u.uploadId)}`);
    expectXmlError(
      await signedRequest(ep, { method: 'POST', path, body: xml, headers: { 'x-amz-mp-object-size': '12' } }),
      400,
      'InvalidRequest',
    );
    const size = String(PARTS[0].length + PARTS[1].length);
    expect(
      (await signedRequest(ep, { method: 'POST', path, body: xml, headers: { 'x-amz-mp-object-size': size } })).status,
    ).toBe(200);
  });
});
