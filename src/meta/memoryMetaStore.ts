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
  allPartsRange,
  allVersionsRange,
  assertBucketUid,
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
import { withoutMarkers } from './withoutMarkers.js';

/**
 * The store's contents: encoded keys as lowercase hex (string order of hex is
 * byte order of the keys, so the sorted array is LevelDB's order) and values as
 * JSON text (what LevelMetaStore stores, so a reader gets a fresh copy and
 * `undefined` fields vanish the same way). A commit replaces the whole state,
 * so an iterator keeps reading the state it started on, like a LevelDB snapshot.
 */
interface State {
  readonly keys: readonly string[];
  readonly values: ReadonlyMap<string, string>;
}

type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

const hexKey = (b: Buffer): string => b.toString('hex');

/** First index in the sorted `keys` whose key is >= `k` (or > `k` when `strict`). */
function lowerBound(keys: readonly string[], k: string, strict: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < k || (strict && keys[mid] === k)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class MemoryMetaBatch implements MetaBatch {
  private readonly ops: Op[] = [];
  private done = false;

  constructor(private readonly apply: (ops: readonly Op[]) => Promise<void>) {}

  private push(op: Op): this {
    if (this.done) throw new Error('MetaBatch already committed');
    this.ops.push(op);
    return this;
  }
  private put(key: Buffer, value: unknown): this {
    return this.push({ type: 'put', key: hexKey(key), value: JSON.stringify(value) });
  }
  private del(key: Buffer): this {
    return this.push({ type: 'del', key: hexKey(key) });
  }

  putBucket(b: BucketRecord): this {
    return this.put(bucketKey(b.name), b);
  }
  deleteBucket(name: string): this {
    return this.del(bucketKey(name));
  }
  putObject(o: ObjectRecord): this {
    return this.put(objectKey(o.bucketUid, o.key), o);
  }
  deleteObject(bucketUid: string, key: string): this {
    return this.del(objectKey(bucketUid, key));
  }
  putVersion(historyId: string, o: ObjectRecord): this {
    return this.put(versionKey(o.bucketUid, o.key, historyId), o);
  }
  deleteVersion(bucketUid: string, key: string, historyId: string): this {
    return this.del(versionKey(bucketUid, key, historyId));
  }
  putUpload(u: UploadRecord): this {
    return this.put(uploadKey(u.bucketUid, u.key, u.uploadId), u);
  }
  deleteUpload(bucketUid: string, key: string, uploadId: string): this {
    return this.del(uploadKey(bucketUid, key, uploadId));
  }
  putPart(p: PartRecord & { bucketUid: string }): this {
    return this.put(partKey(p.uploadId, p.partNumber), p);
  }
  deletePart(uploadId: string, partNumber: number): this {
    return this.del(partKey(uploadId, partNumber));
  }

  async commit(): Promise<void> {
    if (this.done) throw new Error('MetaBatch already committed');
    this.done = true;
    await this.apply(this.ops);
  }
}

/**
 * MetaStore in memory, for fast unit tests of the services. It uses the key
 * layout of keyCodec.ts, so validation, UTF-8 byte order, prefix and marker
 * semantics are LevelMetaStore's by construction, and the contract suite
 * (test/contract/metaStore.contract.ts) runs against both. A batch is applied
 * in one step, so it is atomic; there is nothing to fsync.
 */
export class MemoryMetaStore implements MetaStore {
  private state: State = { keys: [], values: new Map() };
  private closed = false;

  private current(): State {
    if (this.closed) throw new Error('MemoryMetaStore is closed');
    return this.state;
  }

  private async commit(ops: readonly Op[]): Promise<void> {
    const { keys, values } = this.current();
    if (ops.length === 0) return;
    const next = new Map(values);
    for (const op of ops) {
      if (op.type === 'put') next.set(op.key, op.value);
      else next.delete(op.key);
    }
    // Re-sorting only when keys were added or removed keeps overwrites cheap.
    const sameKeys = next.size === values.size && ops.every((op) => values.has(op.key) === next.has(op.key));
    this.state = { keys: sameKeys ? keys : [...next.keys()].sort(), values: next };
  }

  private async getJson<T>(key: Buffer): Promise<T | undefined> {
    const v = this.current().values.get(hexKey(key));
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  /** Values in `range`, at most `limit`, from the state current when iteration starts. */
  private async *values<T>(range: KeyRange, limit = Infinity): AsyncGenerator<T> {
    for await (const [, v] of this.entries<T>(range, limit)) yield v;
  }

  /** Raw keys and values in `range`, at most `limit`. */
  private async *entries<T>(range: KeyRange, limit = Infinity): AsyncGenerator<[Buffer, T]> {
    if (limit <= 0) return;
    const { keys, values } = this.current();
    const lt = hexKey(range.lt);
    let i = 'gt' in range ? lowerBound(keys, hexKey(range.gt), true) : lowerBound(keys, hexKey(range.gte), false);
    for (let n = 0; i < keys.length && keys[i] < lt && n < limit; i++, n++) {
      yield [Buffer.from(keys[i], 'hex'), JSON.parse(values.get(keys[i])!) as T];
    }
  }

  private hasAny(range: KeyRange): Promise<boolean> {
    return this.values(range, 1)
      .next()
      .then((r) => r.done !== true);
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    if (!isStorableName(name)) return undefined;
    return this.getJson<BucketRecord>(bucketKey(name));
  }

  async listBuckets(): Promise<BucketRecord[]> {
    const out: BucketRecord[] = [];
    for await (const b of this.values<BucketRecord>(bucketRange())) out.push(b);
    return out;
  }

  async bucketHasContent(bucketUid: string): Promise<boolean> {
    return (
      (await this.hasAny(objectRange(bucketUid))) ||
      (await this.hasAny(uploadRange(bucketUid))) ||
      (await this.hasAny(bucketVersionsRange(bucketUid)))
    );
  }

  async getObject(bucketUid: string, key: string): Promise<ObjectRecord | undefined> {
    assertBucketUid(bucketUid);
    if (!isStorableName(key)) return undefined;
    return this.getJson<ObjectRecord>(objectKey(bucketUid, key));
  }

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
    const range = keyVersionsRange(q.bucketUid, q.key, q.after);
    for await (const [k, record] of this.entries<ObjectRecord>(range, checkLimit(q.limit)))
      yield { historyId: historyIdOf(k), record };
  }

  async getUpload(bucketUid: string, key: string, uploadId: string): Promise<UploadRecord | undefined> {
    assertBucketUid(bucketUid);
    if (!isStorableName(key) || !isUploadId(uploadId)) return undefined;
    return this.getJson<UploadRecord>(uploadKey(bucketUid, key, uploadId));
  }

  listUploads(q: ListUploadsQuery): AsyncIterable<UploadRecord> {
    const range = uploadRange(q.bucketUid, q.prefix, q.afterKey, q.afterUploadId);
    return this.values<UploadRecord>(range, checkLimit(q.limit));
  }

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
    return new MemoryMetaBatch((ops) => this.commit(ops));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer: ${limit}`);
  return limit;
}
