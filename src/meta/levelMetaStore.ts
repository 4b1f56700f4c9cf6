import { mkdir } from 'node:fs/promises';
import { Level } from 'level';
import type {
  ListObjectsQuery,
  ListUploadsQuery,
  ListVersionsQuery,
  MetaBatch,
  MetaStore,
  VersionEntry,
} from './MetaStore.js';
import type { BucketRecord, ObjectRecord, PartRecord, UploadRecord } from './records.js';
import {
  allObjectsRange,
  allVersionsRange,
  assertBucketUid,
  allPartsRange,
  bucketKey,
  bucketRange,
  bucketVersionsRange,
  historyIdOf,
  isHistoryId,
  isPartNumber,
  isStorableName,
  isUploadId,
  objectKey,
  objectRange,
  partKey,
  partRange,
  uploadKey,
  uploadRange,
  keyVersionsRange,
  versionKey,
} from './keyCodec.js';
import type { KeyRange } from './keyCodec.js';
import { ensurePrivateDir } from '../util/privateDir.js';
import { GroupCommit } from '../util/groupCommit.js';
import { RecordCache } from './recordCache.js';
import { withoutMarkers } from './withoutMarkers.js';
import { levelSnapshot, type RawEntries } from '../util/levelSnapshot.js';
import { levelWriteFault } from './levelWriteFault.js';

type Db = Level<Buffer, unknown>;
type Op = { type: 'put'; key: Buffer; value: unknown } | { type: 'del'; key: Buffer };
/** An op with its value already JSON text: what the 'json' encoding would store, byte for byte. */
type EncodedOp = { type: 'put'; key: Buffer; value: string; valueEncoding: 'utf8' } | { type: 'del'; key: Buffer };

/** Largest `limit` classic-level passes through intact (it is read as an int32). */
const MAX_NATIVE_LIMIT = 0x7fff_ffff;

/**
 * Collects operations in memory and writes them as one LevelDB batch. LevelDB
 * applies a batch atomically (one log record), and `sync: true` fsyncs the log
 * before `commit` resolves, so an acknowledged commit survives power loss and an
 * unacknowledged one is either wholly present or wholly absent after recovery.
 * Keys are encoded (and validated) when an operation is added, so a bad key
 * throws at the call site and never reaches a half-built commit.
 */
class LevelMetaBatch implements MetaBatch {
  private readonly ops: Op[] = [];
  private done = false;
  /** Buckets and current objects this batch puts or deletes: their cached records are dropped around the write. */
  private readonly buckets: string[] = [];
  private readonly objects: string[] = [];

  constructor(
    private readonly commits: GroupCommit<EncodedOp[]>,
    private readonly caches: Caches,
  ) {}

  private push(op: Op): this {
    if (this.done) throw new Error('MetaBatch already committed');
    this.ops.push(op);
    return this;
  }

  putBucket(b: BucketRecord): this {
    this.push({ type: 'put', key: bucketKey(b.name), value: b });
    this.buckets.push(b.name);
    return this;
  }
  deleteBucket(name: string): this {
    this.push({ type: 'del', key: bucketKey(name) });
    this.buckets.push(name);
    return this;
  }
  putObject(o: ObjectRecord): this {
    this.push({ type: 'put', key: objectKey(o.bucketUid, o.key), value: o });
    this.objects.push(objectId(o.bucketUid, o.key));
    return this;
  }
  deleteObject(bucketUid: string, key: string): this {
    this.push({ type: 'del', key: objectKey(bucketUid, key) });
    this.objects.push(objectId(bucketUid, key));
    return this;
  }
  putVersion(historyId: string, o: ObjectRecord): this {
    return this.push({ type: 'put', key: versionKey(o.bucketUid, o.key, historyId), value: o });
  }
  deleteVersion(bucketUid: string, key: string, historyId: string): this {
    return this.push({ type: 'del', key: versionKey(bucketUid, key, historyId) });
  }
  putUpload(u: UploadRecord): this {
    return this.push({ type: 'put', key: uploadKey(u.bucketUid, u.key, u.uploadId), value: u });
  }
  deleteUpload(bucketUid: string, key: string, uploadId: string): this {
    return this.push({ type: 'del', key: uploadKey(bucketUid, key, uploadId) });
  }
  putPart(p: PartRecord & { bucketUid: string }): this {
    // The record is stored as given, bucketUid included, so a part can be traced
    // to its bucket by an fsck without its upload record.
    return this.push({ type: 'put', key: partKey(p.uploadId, p.partNumber), value: p });
  }
  deletePart(uploadId: string, partNumber: number): this {
    return this.push({ type: 'del', key: partKey(uploadId, partNumber) });
  }

  /**
   * Write every operation atomically and durably. A batch commits at most once.
   * Concurrent batches share one synced LevelDB write (see LevelMetaStore): each
   * is still applied whole or not at all, in commit order, and this resolves only
   * after the write holding it is synced. Values are encoded here, so a value
   * that cannot be encoded fails this commit alone, not the group it would join.
   */
  async commit(): Promise<void> {
    if (this.done) throw new Error('MetaBatch already committed');
    this.done = true;
    if (this.ops.length === 0) return;
    const encoded = this.ops.map((op): EncodedOp =>
      op.type === 'put' ? { type: 'put', key: op.key, value: encodeJson(op.value), valueEncoding: 'utf8' } : op,
    );
    // Dropped before the write (no reader keeps a record from before it) and
    // again after (a read that raced the write may have cached the old value).
    const drop = () => {
      if (this.buckets.length > 0) this.caches.buckets.invalidate(this.buckets);
      if (this.objects.length > 0) this.caches.objects.invalidate(this.objects);
    };
    drop();
    try {
      await this.commits.submit(encoded);
    } finally {
      drop();
    }
  }
}

interface Caches {
  buckets: RecordCache<BucketRecord>;
  objects: RecordCache<ObjectRecord>;
}

/** Cache id of a current object record (NUL cannot occur in a uid). */
function objectId(bucketUid: string, key: string): string {
  return `${bucketUid}\0${key}`;
}

/** Bucket counts are small; object records are a few hundred bytes of JSON each. */
const BUCKET_CACHE_MAX = 10_000;
const OBJECT_CACHE_MAX = 16_384;

/**
 * MetaStore on LevelDB (`level` / classic-level). Values are JSON; keys follow
 * the layout in keyCodec.ts (UTF-8 bytes, bytewise order = S3 listing order).
 *
 * Reads are not wrapped in explicit snapshots: each iterator reads from the
 * implicit snapshot LevelDB takes when it is created, which is enough for a
 * single listing page to be self-consistent.
 */
export class LevelMetaStore implements MetaStore {
  /**
   * Group commit: while one synced batch is being written, batches committed by
   * other requests queue up and go into the next write together, so N concurrent
   * small PUTs cost about two log fsyncs instead of N (and N thread-pool slots).
   */
  private readonly commits: GroupCommit<EncodedOp[]>;
  private readonly caches: Caches = {
    buckets: new RecordCache<BucketRecord>(BUCKET_CACHE_MAX),
    objects: new RecordCache<ObjectRecord>(OBJECT_CACHE_MAX),
  };

  private constructor(private readonly db: Db) {
    // EncodedOp is an Op with a per-operation valueEncoding, which level's batch
    // accepts; its typings only spell out the plain form.
    // A full or failing disk fails the commit as a DiskFaultError (507/503), not a bare LevelDB error.
    this.commits = new GroupCommit((groups) =>
      this.db.batch(groups.flat() as Op[], { sync: true }).catch((err: unknown) => {
        throw levelWriteFault(err);
      }),
    );
  }

  /** Open (creating if needed, mode 0700) the database in `dir`. LevelDB's LOCK file makes this exclusive per process. */
  static async open(dir: string): Promise<LevelMetaStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await ensurePrivateDir(dir);
    const db: Db = new Level<Buffer, unknown>(dir, { keyEncoding: 'buffer', valueEncoding: 'json' });
    await db.open();
    return new LevelMetaStore(db);
  }

  /** Every entry as of now, raw (LevelDB's iterator snapshot, taken synchronously): what `coffer backup` copies. */
  snapshot(): RawEntries {
    return levelSnapshot(this.db);
  }

  private async getJson<T>(key: Buffer): Promise<T | undefined> {
    // Values are only ever written by this class from typed records.
    return (await this.db.get(key)) as T | undefined;
  }

  /** A point read through `cache` (see recordCache.ts); absent records are not cached. */
  private async cachedGet<T>(cache: RecordCache<T>, id: string, key: Buffer): Promise<T | undefined> {
    const hit = cache.get(id);
    if (hit !== undefined) return hit;
    const generation = cache.current;
    const v = await this.getJson<T>(key);
    if (v !== undefined) cache.set(id, v, generation);
    return v;
  }

  /** Values in `range`, at most `limit`, streamed: the iterator fetches in small batches and is closed on early exit. */
  private async *values<T>(range: KeyRange, limit = Infinity): AsyncGenerator<T> {
    if (limit <= 0) return;
    // classic-level truncates `limit` to a 32-bit int (2**32 + 1 becomes 1), so
    // only small limits are handed down; the count below is what enforces it.
    const it = this.db.values({ ...range, ...(limit <= MAX_NATIVE_LIMIT ? { limit } : {}) });
    let n = 0;
    try {
      for await (const v of it) {
        yield v as T;
        if (++n >= limit) return;
      }
    } finally {
      await it.close();
    }
  }

  private async anyKey(range: KeyRange): Promise<boolean> {
    const it = this.db.keys({ ...range, limit: 1 });
    try {
      return (await it.next()) !== undefined;
    } finally {
      await it.close();
    }
  }

  /**
   * Point reads answer undefined (and listParts []) for names that could never
   * have been written, e.g. an uploadId from a client that is not one of ours,
   * so the service reports NoSuchUpload/NoSuchKey rather than an internal error.
   * A malformed bucketUid still throws: uids come from our own records.
   */
  async getBucket(name: string): Promise<BucketRecord | undefined> {
    if (!isStorableName(name)) return undefined;
    return this.cachedGet(this.caches.buckets, name, bucketKey(name));
  }

  /** All buckets in name order (S3 ListBuckets order). Bucket counts are small, so an array is fine. */
  async listBuckets(): Promise<BucketRecord[]> {
    const out: BucketRecord[] = [];
    for await (const b of this.values<BucketRecord>(bucketRange())) out.push(b);
    return out;
  }

  async bucketHasContent(bucketUid: string): Promise<boolean> {
    return (
      (await this.anyKey(objectRange(bucketUid))) ||
      (await this.anyKey(uploadRange(bucketUid))) ||
      (await this.anyKey(bucketVersionsRange(bucketUid)))
    );
  }

  async getObject(bucketUid: string, key: string): Promise<ObjectRecord | undefined> {
    assertBucketUid(bucketUid);
    if (!isStorableName(key)) return undefined;
    return this.cachedGet(this.caches.objects, objectId(bucketUid, key), objectKey(bucketUid, key));
  }

  /** Objects in UTF-8 key order, `prefix` and `after` applied as LevelDB range bounds. */
  listObjects(q: ListObjectsQuery): AsyncIterable<ObjectRecord> {
    const range = objectRange(q.bucketUid, q.prefix, q.after);
    if (q.deleteMarkers) return this.values<ObjectRecord>(range, checkLimit(q.limit));
    return withoutMarkers(this.values<ObjectRecord>(range), checkLimit(q.limit));
  }

  async getVersion(bucketUid: string, key: string, historyId: string): Promise<ObjectRecord | undefined> {
    assertBucketUid(bucketUid);
    if (!isStorableName(key) || !isHistoryId(historyId)) return undefined;
    return this.getJson<ObjectRecord>(versionKey(bucketUid, key, historyId));
  }

  async *listVersions(q: ListVersionsQuery): AsyncIterable<VersionEntry> {
    const limit = checkLimit(q.limit);
    if (limit === 0) return;
    const it = this.db.iterator({
      ...keyVersionsRange(q.bucketUid, q.key, q.after),
      ...(limit <= MAX_NATIVE_LIMIT ? { limit } : {}),
    });
    let n = 0;
    try {
      for await (const [k, v] of it) {
        yield { historyId: historyIdOf(k), record: v as ObjectRecord };
        if (++n >= limit) return;
      }
    } finally {
      await it.close();
    }
  }

  async getUpload(bucketUid: string, key: string, uploadId: string): Promise<UploadRecord | undefined> {
    assertBucketUid(bucketUid);
    if (!isStorableName(key) || !isUploadId(uploadId)) return undefined;
    return this.getJson<UploadRecord>(uploadKey(bucketUid, key, uploadId));
  }

  /** Uploads in (key, uploadId) order; see keyCodec.uploadRange for the marker semantics. */
  listUploads(q: ListUploadsQuery): AsyncIterable<UploadRecord> {
    const range = uploadRange(q.bucketUid, q.prefix, q.afterKey, q.afterUploadId);
    return this.values<UploadRecord>(range, checkLimit(q.limit));
  }

  /** Parts in part-number order. Returned records carry the `bucketUid` given to putPart. */
  async listParts(uploadId: string, after?: number, limit?: number): Promise<PartRecord[]> {
    const out: PartRecord[] = [];
    if (!isUploadId(uploadId)) return out;
    const max = limit === undefined ? undefined : checkLimit(limit);
    for await (const p of this.values<PartRecord>(partRange(uploadId, after), max)) out.push(p);
    return out;
  }

  async getPart(uploadId: string, partNumber: number): Promise<PartRecord | undefined> {
    if (!isUploadId(uploadId) || !isPartNumber(partNumber)) return undefined;
    return this.getJson<PartRecord>(partKey(uploadId, partNumber));
  }

  /**
   * Every dataId named by an object version, current or noncurrent (single
   * stream or completed parts), or by a part record of an upload in progress. An
   * id may be yielded more than once (a completed object's parts and their part
   * records until those are deleted). The scans are not one snapshot: the sweep must only delete blobs that are
   * older than its start, so a blob written while it runs is never collected.
   */
  async *referencedDataIds(): AsyncIterable<string> {
    for (const range of [allObjectsRange(), allVersionsRange()]) {
      for await (const o of this.values<ObjectRecord>(range)) {
        if (o.stream !== undefined) yield o.stream.dataId;
        for (const p of o.parts ?? []) yield p.dataId;
      }
    }
    for await (const p of this.values<PartRecord>(allPartsRange())) yield p.dataId;
  }

  batch(): MetaBatch {
    return new LevelMetaBatch(this.commits, this.caches);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

function encodeJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (typeof text !== 'string') throw new TypeError('metadata value is not JSON-encodable');
  return text;
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer: ${limit}`);
  return limit;
}
