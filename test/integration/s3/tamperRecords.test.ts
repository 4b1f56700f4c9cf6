/**
 * Tampered LevelDB records. Objects (single PUT and multipart) are written
 * through S3; the gateway is stopped, the records are edited in the LevelDB on
 * disk the way an attacker with write access to the data dir could, and a new
 * gateway on the same dir must refuse every edited object with an error before
 * any byte of data (the object seal binds the looked-up bucket, name and
 * version and the stream reference), while untouched neighbours still read.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  PutObjectTaggingCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Level } from 'level';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketKey, objectKey, partKey } from '../../../src/meta/keyCodec.js';
import type { BucketRecord, ObjectRecord, PartRecord } from '../../../src/meta/records.js';
import { endpointOf, objectPath, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { md5Hex, SeededData } from '../../helpers/seeded.js';
import { addressOf, openObject, sealMeta } from '../../../src/services/sealedMeta.js';
import { expectIntegrityError } from '../../helpers/tamper.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

const MiB = 1024 * 1024;
const SIZE = 150_000; // three 64 KiB segments; every single object has this size, so sizes never give a swap away
const B = 'tamper-rec';
const BA = 'tamper-rec-a';
const BB = 'tamper-rec-b';
const single = (name: string) => new SeededData(`rec-${name}`, SIZE).bytes();
const partData = (obj: string, n: number) => new SeededData(`rec-${obj}-${n}`, n === 1 ? 5 * MiB : 1000).bytes();

const SINGLES = [
  'swap-a',
  'swap-b',
  'sf-a',
  'sf-b',
  'sealed-a',
  'sealed-b',
  'size',
  'ctype',
  'downgrade',
  'ok',
  'legacy',
  'legacy-tag',
  'legacy-swap-a',
  'legacy-swap-b',
];
const MULTIS = ['mp-donor', 'mp-order', 'mp-partswap', 'mp-drop', 'mp-ok', 'legacy-mp'];
const LEGACY = ['legacy', 'legacy-tag', 'legacy-swap-a', 'legacy-swap-b', 'legacy-mp'];
/** Records rewritten as an older release wrote them (seal format 1), stored with the tampering. */
const legacy = new Map<string, ObjectRecord>();

/** Two uploads in progress for the same key; the second gets the first's part record planted. */
const uploads = { from: '', into: '', etag: '' };

let dataDir: string;
let gw: TestGateway | undefined;
let s3: S3Client;
let ep: RawEndpoint;

async function start(): Promise<void> {
  gw = await startTestGateway({ dataDir });
  s3 = gw.client();
  ep = endpointOf(gw);
}

async function putMultipart(key: string): Promise<void> {
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key }));
  const parts = [];
  for (const n of [1, 2]) {
    const r = await s3.send(
      new UploadPartCommand({ Bucket: B, Key: key, UploadId: up.UploadId, PartNumber: n, Body: partData(key, n) }),
    );
    parts.push({ PartNumber: n, ETag: r.ETag });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: B,
      Key: key,
      UploadId: up.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

/** Edit the stopped gateway's LevelDB directly: no Coffer code between the test and the bytes on disk. */
async function tamperRecords(): Promise<void> {
  const db = new Level<Buffer, unknown>(join(dataDir, 'meta'), { keyEncoding: 'buffer', valueEncoding: 'json' });
  await db.open();
  try {
    const bucket = async (name: string) => (await db.get(bucketKey(name))) as BucketRecord;
    const uid = (await bucket(B)).uid;
    const get = async (key: string) => {
      const r = (await db.get(objectKey(uid, key))) as ObjectRecord | undefined;
      if (!r) throw new Error(`no record for ${key}`);
      return r;
    };
    const put = (r: ObjectRecord, key = r.key) => db.put(objectKey(uid, key), r);
    const [swapA, swapB, sfA, sfB, sealedA, sealedB] = await Promise.all(
      ['swap-a', 'swap-b', 'sf-a', 'sf-b', 'sealed-a', 'sealed-b'].map(get),
    );
    // Record swap: each key now holds the other's whole record.
    await put(swapB, 'swap-a');
    await put(swapA, 'swap-b');
    // Stream-field swap: only the stream reference (dataId, salt, headerDigest; sizes are equal).
    await put({ ...sfA, stream: sfB.stream });
    // Sealed-field swap: the other record's sealed metadata with its salt (and record id).
    await put({ ...sealedA, sealed: sealedB.sealed, metaSalt: sealedB.metaSalt, versionId: sealedB.versionId });
    // Clear-field edits: the size (stream and record, consistently), a header, the seal format.
    const size = await get('size');
    await put({ ...size, size: SIZE - 1, stream: { ...size.stream!, size: SIZE - 1 } });
    const ctype = await get('ctype');
    await put({ ...ctype, headers: { ...ctype.headers, contentType: 'text/html' } });
    const { sealFormat, ...downgraded } = await get('downgrade');
    expect(sealFormat, 'objects are written in seal format 2').toBe(2);
    await put(downgraded as ObjectRecord);
    // Part lists: reordered; a part replaced by another object's part; the last part dropped.
    const donor = await get('mp-donor');
    const order = await get('mp-order');
    await put({ ...order, parts: [...order.parts!].reverse() });
    const partswap = await get('mp-partswap');
    await put({ ...partswap, parts: [partswap.parts![0], donor.parts![1]] });
    const drop = await get('mp-drop');
    await put({ ...drop, parts: [drop.parts![0]], size: drop.parts![0].size });
    // A part record of one upload copied into another upload of the same key.
    const planted = (await db.get(partKey(uploads.from, 1))) as PartRecord;
    await db.put(partKey(uploads.into, 1), planted);
    // Bucket record swap: the names now lead to each other's uid, DEK and objects.
    const [ba, bb] = await Promise.all([bucket(BA), bucket(BB)]);
    await db.put(bucketKey(BA), bb);
    await db.put(bucketKey(BB), ba);
    // Format-1 records, as written before seal format 2; two of them swapped.
    for (const [k, r] of legacy) await put(r, k);
    await put(legacy.get('legacy-swap-b')!, 'legacy-swap-a');
    await put(legacy.get('legacy-swap-a')!, 'legacy-swap-b');
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'coffer-tamper-rec-'));
  await start();
  for (const b of [B, BA, BB]) await s3.send(new CreateBucketCommand({ Bucket: b }));
  for (const k of SINGLES)
    await s3.send(
      new PutObjectCommand({ Bucket: B, Key: k, Body: single(k), ContentType: 'application/octet-stream' }),
    );
  for (const k of MULTIS) await putMultipart(k);
  await s3.send(new PutObjectCommand({ Bucket: BA, Key: 'obj', Body: single('bucket-a') }));
  await s3.send(new PutObjectCommand({ Bucket: BB, Key: 'obj', Body: single('bucket-b') }));
  for (const k of ['from', 'into'] as const) {
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'pending' }));
    uploads[k] = up.UploadId!;
    const r = await s3.send(
      new UploadPartCommand({
        Bucket: B,
        Key: 'pending',
        UploadId: up.UploadId,
        PartNumber: 1,
        Body: single(`pending-${k}`),
      }),
    );
    if (k === 'from') uploads.etag = r.ETag!;
  }
  // What an older release stored for LEGACY: the same record without sealFormat,
  // sealed with the format-1 AAD (bucketUid ‖ key ‖ versionId).
  const bucket = (await gw!.gateway.meta.getBucket(B))!;
  const dek = await gw!.gateway.buckets.dek(bucket);
  for (const k of LEGACY) {
    const current = (await gw!.gateway.meta.getObject(bucket.uid, k))!;
    const meta = openObject(dek, addressOf(bucket, k), current);
    const { sealFormat: _format, ...rec } = current;
    const s1 = sealMeta(dek, { bucketUid: bucket.uid, key: k, versionId: rec.versionId }, meta);
    legacy.set(k, { ...rec, metaSalt: s1.metaSalt, sealed: s1.sealed });
  }
  await gw!.close({ keepData: true });
  gw = undefined;
  await tamperRecords();
  await start();
}, 120_000);

afterAll(async () => {
  await gw?.close().catch(() => undefined);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const get = (bucket: string, key: string, range?: string) =>
  signedRequest(ep, { method: 'GET', path: objectPath(bucket, key), headers: range ? { range } : {} });
const head = (bucket: string, key: string) => signedRequest(ep, { method: 'HEAD', path: objectPath(bucket, key) });

async function expectRefusedRecord(bucket: string, key: string, what: string): Promise<void> {
  expectIntegrityError(await get(bucket, key), `GET ${what}`);
  expectIntegrityError(await get(bucket, key, 'bytes=0-9'), `ranged GET ${what}`);
  expectIntegrityError(await head(bucket, key), `HEAD ${what}`);
}

describe('tampered object records are refused before any data', () => {
  it('untampered objects in the same dir still read after the restart (the tampering is what fails)', async () => {
    const ok = await get(B, 'ok');
    expect(ok.status).toBe(200);
    expect(ok.body.equals(single('ok'))).toBe(true);
    for (const k of ['mp-ok', 'mp-donor']) {
      const r = await get(B, k);
      expect(r.status, k).toBe(200);
      expect(r.body.equals(Buffer.concat([partData(k, 1), partData(k, 2)])), k).toBe(true);
    }
  });

  it('format-1 records (written before stream binding) still read, and a rewrite upgrades them to format 2', async () => {
    const r = await get(B, 'legacy');
    expect(r.status).toBe(200);
    expect(r.body.equals(single('legacy'))).toBe(true);
    expect(r.headers.etag).toBe(`"${md5Hex(single('legacy'))}"`);
    const mp = await get(B, 'legacy-mp');
    expect(mp.status).toBe(200);
    expect(mp.body.equals(Buffer.concat([partData('legacy-mp', 1), partData('legacy-mp', 2)]))).toBe(true);
    const uid = (await gw!.gateway.meta.getBucket(B))!.uid;
    expect((await gw!.gateway.meta.getObject(uid, 'legacy-tag'))!.sealFormat).toBeUndefined();
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: B, Key: 'legacy-tag', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }),
    );
    expect((await gw!.gateway.meta.getObject(uid, 'legacy-tag'))!.sealFormat).toBe(2);
    expect((await get(B, 'legacy-tag')).body.equals(single('legacy-tag'))).toBe(true);
  });

  it('format-1 records are still bound to the key they are looked up under (record swap)', async () => {
    await expectRefusedRecord(B, 'legacy-swap-a', 'format-1 record of legacy-swap-b under legacy-swap-a');
    await expectRefusedRecord(B, 'legacy-swap-b', 'format-1 record of legacy-swap-a under legacy-swap-b');
  });

  it("record swap: two keys holding each other's records", async () => {
    await expectRefusedRecord(B, 'swap-a', "swap-a holding swap-b's record");
    await expectRefusedRecord(B, 'swap-b', "swap-b holding swap-a's record");
  });

  it('stream-field swap: dataId, salt and headerDigest of another object', async () => {
    await expectRefusedRecord(B, 'sf-a', "sf-a with sf-b's stream");
    // The donor itself is untouched.
    expect((await get(B, 'sf-b')).body.equals(single('sf-b'))).toBe(true);
  });

  it('sealed-field swap: sealed metadata, salt and record id of another object', async () => {
    await expectRefusedRecord(B, 'sealed-a', "sealed-a with sealed-b's seal");
  });

  it('clear-field edits: size, Content-Type, and a seal-format downgrade', async () => {
    await expectRefusedRecord(B, 'size', 'size edited');
    await expectRefusedRecord(B, 'ctype', 'Content-Type edited');
    await expectRefusedRecord(B, 'downgrade', 'sealFormat removed');
  });

  it('multipart: part list reordered, a part from another object, a part dropped', async () => {
    await expectRefusedRecord(B, 'mp-order', 'parts reversed');
    await expectRefusedRecord(B, 'mp-partswap', 'part 2 from another object');
    await expectRefusedRecord(B, 'mp-drop', 'last part dropped');
    const r = await signedRequest(ep, { method: 'GET', path: objectPath(B, 'mp-order', 'partNumber=2') });
    expectIntegrityError(r, 'GET ?partNumber=2 of mp-order');
  });

  it("bucket record swap: a bucket name leading to another bucket's objects", async () => {
    expectIntegrityError(await get(BA, 'obj'), 'GET through a swapped bucket record');
    expectIntegrityError(await get(BB, 'obj'), 'GET through a swapped bucket record');
  });

  it('multipart upload: a part record planted from another upload of the same key does not complete', async () => {
    const done = s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: 'pending',
        UploadId: uploads.into,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: uploads.etag }] },
      }),
    );
    await expect(done).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect((await head(B, 'pending')).status).toBe(404);
  });

  it('a tampered object is not copied either: CopyObject fails and writes nothing', async () => {
    const copy = s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-of-sf-a', CopySource: `${B}/sf-a` }));
    await expect(copy).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect((await head(B, 'copy-of-sf-a')).status).toBe(404);
  });
});
