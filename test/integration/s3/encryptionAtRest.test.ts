/**
 * Encryption at rest: objects whose bodies, user metadata and tags carry a known
 * marker are written through every write path (PutObject with Buffer and stream
 * bodies, a raw signed aws-chunked upload, multipart, CopyObject, a Key Protect
 * bucket, SSE-KMS under a per-object key, SSE-C PUT/part/copy). After the gateway is closed, every file under the data dir (blobs,
 * LevelDB files, KMS files), read recursively, must contain neither the marker
 * nor the plaintext MD5 (ETags are protected too, docs/encryption.md), nor the SSE-C
 * customer key in any encoding.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { endpointOf, objectPath, STREAMING_UNSIGNED_TRAILER, streamingPut } from '../../helpers/rawS3.js';
import { md5Hex } from '../../helpers/seeded.js';
import { bodyBytes, filesUnder, withHeaders } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

const MARKER = `COFFER-PLAINTEXT-MARKER-${randomBytes(8).toString('hex')}`;
const MiB = 1024 * 1024;

let dataDir: string;
let gw: TestGateway | undefined;

afterAll(async () => {
  await gw?.close().catch(() => undefined);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function repeated(size: number): Buffer {
  const unit = Buffer.from(MARKER + '|');
  const out = Buffer.alloc(size);
  for (let off = 0; off < size; off += unit.length) unit.copy(out, off, 0, Math.min(unit.length, size - off));
  return out;
}

describe('encryption at rest', () => {
  it('no plaintext marker (body, x-amz-meta-*, tags) and no plaintext MD5 anywhere under the data dir', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'coffer-atrest-'));
    gw = await startTestGateway({ dataDir });
    const s3 = gw.client();
    const ep = endpointOf(gw);
    const b = 'at-rest';
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const crn = await gw.createRootKey('at-rest-key');
    const kp = 'at-rest-kp';
    await s3.send(
      withHeaders(new CreateBucketCommand({ Bucket: kp }), {
        'ibm-sse-kp-encryption-algorithm': 'AES256',
        'ibm-sse-kp-customer-root-key-crn': crn,
      }),
    );

    const small = Buffer.from(`small object containing ${MARKER} once`);
    const big = repeated(3 * MiB);
    const meta = { secret: MARKER, note: `prefix ${MARKER} suffix` };
    const tagging = `label=${MARKER}`;
    const md5s = [md5Hex(small), md5Hex(big)];

    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'small', Body: small, Metadata: meta, Tagging: tagging }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'big', Body: big, Metadata: meta }));
    await s3.send(
      new PutObjectCommand({
        Bucket: b,
        Key: 'streamed',
        Body: Readable.from([big.subarray(0, MiB)]),
        ContentLength: MiB,
        Metadata: meta,
      }),
    );
    const raw = await streamingPut(ep, {
      mode: STREAMING_UNSIGNED_TRAILER,
      path: objectPath(b, 'chunked'),
      data: big.subarray(0, 200_000),
      chunkSize: 64 * 1024,
      headers: { 'x-amz-meta-secret': MARKER },
    });
    expect(raw.status, raw.text()).toBe(200);
    await s3.send(new PutObjectCommand({ Bucket: kp, Key: 'kp-object', Body: big, Metadata: meta }));
    await s3.send(new CopyObjectCommand({ Bucket: kp, Key: 'copied', CopySource: `${b}/small` }));
    await s3.send(
      new CopyObjectCommand({
        Bucket: b,
        Key: 'small',
        CopySource: `${b}/small`,
        MetadataDirective: 'REPLACE',
        Metadata: { replaced: MARKER },
      }),
    );

    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'multi', Metadata: meta }));
    const p1 = repeated(5 * MiB);
    const p2 = Buffer.from(`tail ${MARKER}`);
    const e1 = await s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'multi', UploadId: up.UploadId, PartNumber: 1, Body: p1 }),
    );
    const e2 = await s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'multi', UploadId: up.UploadId, PartNumber: 2, Body: p2 }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'multi',
        UploadId: up.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    // An upload left pending keeps its metadata (sealed) in the store too.
    const pending = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'pending', Metadata: meta }));
    await s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'pending', UploadId: pending.UploadId, PartNumber: 1, Body: p2 }),
    );

    // Per-object keys: SSE-KMS under another root key, SSE-C (a PUT, a part, a copy into SSE-C).
    const objectKey = await gw.createRootKey('at-rest-object-key');
    await s3.send(
      new PutObjectCommand({
        Bucket: b,
        Key: 'sse-kms',
        Body: big,
        Metadata: meta,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: objectKey,
      }),
    );
    const customerKey = randomBytes(32);
    const ssec = { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey as unknown as string };
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'sse-c', Body: big, Metadata: meta, ...ssec }));
    const upC = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'sse-c-multi', ...ssec }));
    await s3.send(
      new UploadPartCommand({
        Bucket: b,
        Key: 'sse-c-multi',
        UploadId: upC.UploadId,
        PartNumber: 1,
        Body: p2,
        ...ssec,
      }),
    );
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'sse-c-copy', CopySource: `${b}/small`, ...ssec }));
    md5s.push(md5Hex(p2));

    // Sanity: everything reads back in plaintext through the API.
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'big' })))).equals(big)).toBe(true);
    expect((await s3.send(new HeadObjectCommand({ Bucket: kp, Key: 'kp-object' }))).Metadata).toEqual(meta);
    const gotC = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'sse-c', ...ssec }));
    expect((await bodyBytes(gotC)).equals(big)).toBe(true);
    const gotK = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'sse-kms' }));
    expect(gotK.SSEKMSKeyId).toBe(objectKey);
    expect((await bodyBytes(gotK)).equals(big)).toBe(true);

    await gw.close({ keepData: true });
    gw = undefined;

    const files = await filesUnder(dataDir);
    // The scan covers the blobs (one per single-part object, one per part) and the metadata and KMS stores.
    const blobs = files.filter(
      (f) => relative(dataDir, f).startsWith('blobs/') && !relative(dataDir, f).startsWith('blobs/tmp/'),
    );
    expect(
      blobs.length,
      'blob files scanned: small, big, streamed, chunked, kp-object, copied, 2 multi parts, 1 pending part, ' +
        'sse-kms, sse-c, 1 sse-c part, sse-c-copy',
    ).toBe(13);
    expect(
      files.some((f) => relative(dataDir, f).startsWith('meta/')),
      'metadata store files scanned',
    ).toBe(true);
    expect(
      files.some((f) => relative(dataDir, f).startsWith('kms/')),
      'KMS store files scanned',
    ).toBe(true);
    const needles: Array<[string, Buffer]> = [
      ['marker', Buffer.from(MARKER)],
      ...md5s.map((m, i): [string, Buffer] => [`plaintext MD5 #${i} (hex)`, Buffer.from(m)]),
      ...md5s.map((m, i): [string, Buffer] => [`plaintext MD5 #${i} (raw)`, Buffer.from(m, 'hex')]),
      // The SSE-C key is never stored, in any encoding.
      ['SSE-C key (raw)', customerKey],
      ['SSE-C key (base64)', Buffer.from(customerKey.toString('base64'))],
      ['SSE-C key (hex)', Buffer.from(customerKey.toString('hex'))],
    ];
    const hits: string[] = [];
    let scanned = 0;
    for (const f of files) {
      const content = await readFile(f);
      scanned += content.length;
      for (const [what, needle] of needles)
        if (content.includes(needle)) hits.push(`${what} in ${relative(dataDir, f)}`);
    }
    expect(scanned, 'the data dir holds at least the ciphertext of what was written').toBeGreaterThan(3 * MiB * 2);
    expect(hits, 'plaintext found at rest').toEqual([]);
  });
});
