/**
 * The S3 side's services composed as s3Server.ts composes them, on the in-memory
 * stores and an embedded LocalKeyProvider (its key store is the only thing on
 * disk, in a temp dir): fast service tests without a server or LevelDB.
 */
import { Readable } from 'node:stream';
import { formatBucketCrn, parseKeyCrn } from '../../../src/keys/crn.js';
import { DekCache } from '../../../src/keys/dekCache.js';
import { MemoryMetaStore } from '../../../src/meta/memoryMetaStore.js';
import type { BucketRecord } from '../../../src/meta/records.js';
import { BucketService } from '../../../src/services/bucketService.js';
import { ListService } from '../../../src/services/listService.js';
import { MultipartService } from '../../../src/services/multipartService.js';
import { ObjectService, type PutInput, type WriteResult } from '../../../src/services/objectService.js';
import { MemoryBlobStore } from '../../../src/storage/memoryBlobStore.js';
import { createLogger } from '../../../src/util/logger.js';
import { openTestKms, type TestKms } from '../kms/kmsTestKit.js';

export const OWNER = 'acct-a';
export const REGION = 'us-south';

export interface MemoryServices {
  meta: MemoryMetaStore;
  blobs: MemoryBlobStore;
  kms: TestKms;
  buckets: BucketService;
  objects: ObjectService;
  multipart: MultipartService;
  lists: ListService;
  /** Create a bucket owned by OWNER under the provider's default root key. */
  bucket(name?: string): Promise<BucketRecord>;
  /** PUT `body` (a string or bytes) with no expectations and no user metadata. */
  put(bucket: BucketRecord, key: string, body: string | Buffer, extra?: Partial<PutInput>): Promise<WriteResult>;
  close(): Promise<void>;
}

export async function openMemoryServices(opts: { segmentLog2?: number } = {}): Promise<MemoryServices> {
  const kms = await openTestKms();
  const meta = new MemoryMetaStore();
  const blobs = new MemoryBlobStore();
  const log = createLogger('silent');
  const segmentLog2 = opts.segmentLog2 ?? 16;
  const buckets = new BucketService({
    meta,
    keys: kms.provider,
    dekCache: new DekCache(),
    region: REGION,
    bucketCrn: (owner, name) => formatBucketCrn({ account: owner, instance: 'coffer-s3', bucket: name }),
    validateKeyCrn: (crn) => void parseKeyCrn(crn),
    log,
  });
  const objects = new ObjectService({ meta, blobs, buckets, segmentLog2, log });
  const multipart = new MultipartService({ meta, blobs, buckets, objects, segmentLog2 });
  const lists = new ListService({ meta, buckets });
  let n = 0;
  return {
    meta,
    blobs,
    kms,
    buckets,
    objects,
    multipart,
    lists,
    bucket: async (name = `bucket-${++n}`) => (await buckets.create({ owner: OWNER, name })).bucket,
    put: (bucket, key, body, extra = {}) =>
      objects.put({
        bucket,
        key,
        body: Readable.from([Buffer.from(body)]),
        headers: {},
        userMeta: {},
        expect: {},
        ...extra,
      }),
    close: async () => {
      await meta.close();
      await blobs.close();
      await kms.close();
    },
  };
}

/** Collect a stream into one Buffer. */
export async function collect(stream: Readable | undefined): Promise<Buffer> {
  if (!stream) throw new Error('no body');
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Body that yields `data` in `chunk`-sized pieces. */
export function chunked(data: Buffer, chunk = 100_000): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
    })(),
  );
}
