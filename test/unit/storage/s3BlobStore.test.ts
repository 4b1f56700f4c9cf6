/**
 * S3BlobStore: the BlobStore contract against a real S3 backend (s3rver on
 * loopback), plus its error mapping and what a shared bucket must not confuse.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobBackendError } from '../../../src/storage/blobBackendError.js';
import { S3BlobStore, classify } from '../../../src/storage/s3BlobStore.js';
import { blobStoreContract, collect, newId } from '../../contract/blobStore.contract.js';
import { startS3Backend, type TestS3Backend } from '../../helpers/s3rver.js';

let backend: TestS3Backend;
let n = 0;
const buckets = Array.from({ length: 40 }, (_, i) => `contract-${i}`);
beforeAll(async () => {
  // One bucket per contract test: each starts empty without deleting anything.
  backend = await startS3Backend(['coffer-data', ...buckets]);
});
afterAll(async () => {
  await backend?.stop();
});

blobStoreContract('S3BlobStore', async () => {
  const bucket = buckets[n++];
  if (!bucket) throw new Error('more contract tests than buckets');
  return { store: await S3BlobStore.open(backend.options(bucket)), cleanup: async () => undefined };
});

describe('S3BlobStore', () => {
  it('a large blob goes up in parts and reads back whole and by range', async () => {
    const store = await S3BlobStore.open(backend.options());
    try {
      const id = newId();
      const data = randomBytes(20 * 1024 * 1024 + 5);
      expect(await store.put(id, Readable.from([data.subarray(0, 7), data.subarray(7)]))).toEqual({
        size: data.length,
      });
      expect((await collect(store.get(id))).equals(data)).toBe(true);
      const start = 8 * 1024 * 1024 - 3;
      expect((await collect(store.get(id, { start, end: start + 99 }))).equals(data.subarray(start, start + 100))).toBe(
        true,
      );
      expect((await store.read(id, 0, 64)).equals(data.subarray(0, 64))).toBe(true);
      await store.delete(id);
    } finally {
      await store.close();
    }
  });

  it('list() ignores keys in the bucket that are not blobs of this store', async () => {
    const store = await S3BlobStore.open(backend.options());
    const raw = new S3Client({
      endpoint: backend.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    try {
      const id = newId();
      await store.put(id, Readable.from([Buffer.from('x')]));
      for (const Key of ['other/file', `blobs/${id}.tmp`, `${newId()}`, 'blobs/NOTHEX']) {
        await raw.send(new PutObjectCommand({ Bucket: 'coffer-data', Key, Body: 'y' }));
      }
      const ids: string[] = [];
      for await (const x of store.list()) ids.push(x);
      expect(ids).toEqual([id]);
    } finally {
      raw.destroy();
      await store.close();
    }
  });

  it('open() fails clearly on a missing bucket or an unreachable endpoint', async () => {
    await expect(S3BlobStore.open(backend.options('no-such-bucket'))).rejects.toThrow(
      /data bucket "no-such-bucket" .* not usable: HTTP 404/,
    );
    await expect(
      S3BlobStore.open({ ...backend.options(), endpoint: 'http://127.0.0.1:1', maxAttempts: 1 }),
    ).rejects.toThrow(/not usable/);
  });

  it('an unreachable backend becomes ServiceUnavailable, throttling SlowDown, a missing blob ENOENT', async () => {
    // Point a working store at a closed port: the SDK gives up and the error says why, with a code the S3 layer maps.
    const dead = await S3BlobStore.open(backend.options()).then((s) => {
      (s as unknown as { client: S3Client }).client.destroy();
      (s as unknown as { client: S3Client }).client = new S3Client({
        endpoint: 'http://127.0.0.1:1',
        region: 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 2,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      return s;
    });
    try {
      const err = await dead.stat(newId()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BlobBackendError);
      expect(err).toMatchObject({ code: 'ServiceUnavailable' });
      expect((err as Error).message).not.toMatch(/S3RVER/);
      await expect(collect(dead.get(newId()))).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    } finally {
      await dead.close();
    }
    const meta = (status: number) => ({ $metadata: { httpStatusCode: status } });
    expect(classify('put', 'x', { name: 'SlowDown', message: 'reduce', ...meta(503) })).toMatchObject({
      name: 'BlobBackendError',
      code: 'SlowDown',
    });
    expect(classify('put', 'x', { name: 'TooManyRequests', ...meta(429) })).toMatchObject({ code: 'SlowDown' });
    expect(classify('get', 'x', { name: 'InternalError', ...meta(500) })).toMatchObject({ code: 'ServiceUnavailable' });
    expect(classify('get', 'x', { name: 'NoSuchKey', ...meta(404) })).toMatchObject({ code: 'ENOENT' });
    const denied = Object.assign(new Error('denied'), { name: 'AccessDenied', ...meta(403) });
    expect(classify('get', 'x', denied)).toBe(denied);
    expect(classify('get', 'x', { name: 'NoSuchBucket', ...meta(404) })).not.toMatchObject({ code: 'ENOENT' });
  });
});
