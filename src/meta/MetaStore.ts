import type { BucketRecord, ObjectRecord, PartRecord, UploadRecord } from './records.js';

export interface ListObjectsQuery {
  bucketUid: string;
  prefix?: string;
  /** Return keys strictly greater than this (UTF-8 byte order). */
  after?: string;
  /** Max entries (objects) to return. */
  limit: number;
  /**
   * Optional hint for delimiter listings: after returning a key that has
   * `delimiter` after `prefix`, a store may leave out the other keys of that
   * common prefix (the caller rolls them up into it anyway) and seek past them.
   * A store that ignores the hint is still correct, only slower on wide trees.
   */
  delimiter?: string;
  /**
   * Also yield current versions that are delete markers (ListObjectVersions,
   * emptiness checks). Without it they are left out here, in the store, so the
   * delimiter hint never skips a common prefix on the strength of a marker.
   */
  deleteMarkers?: boolean;
}

/** The noncurrent versions of one key (the history), newest first. */
export interface ListVersionsQuery {
  bucketUid: string;
  key: string;
  /** historyIds strictly after this one (they sort newest first). */
  after?: string;
  limit: number;
}

/** A noncurrent version and the historyId it is stored under. */
export interface VersionEntry {
  historyId: string;
  record: ObjectRecord;
}

export interface ListUploadsQuery {
  bucketUid: string;
  prefix?: string;
  /** (key, uploadId) strictly after this position. */
  afterKey?: string;
  afterUploadId?: string;
  limit: number;
}

/**
 * A write batch. Everything in one batch commits atomically (LevelDB batch with
 * sync) or not at all: this is what makes a new object visible.
 */
export interface MetaBatch {
  putBucket(b: BucketRecord): this;
  deleteBucket(name: string): this;
  putObject(o: ObjectRecord): this;
  deleteObject(bucketUid: string, key: string): this;
  /** Store `o` as a noncurrent version of its key under `historyId` (URL-unreserved ASCII). */
  putVersion(historyId: string, o: ObjectRecord): this;
  deleteVersion(bucketUid: string, key: string, historyId: string): this;
  putUpload(u: UploadRecord): this;
  deleteUpload(bucketUid: string, key: string, uploadId: string): this;
  putPart(p: PartRecord & { bucketUid: string }): this;
  deletePart(uploadId: string, partNumber: number): this;
  /**
   * Commit only if the current object of (bucketUid, key) is still `current`
   * (undefined: none), else throw MetaConflictError and write nothing. Stores
   * that one process owns (LevelDB, memory) need no check: the caller's
   * per-key lock already holds; a database shared by gateways checks it inside
   * the commit's transaction.
   */
  expectObject?(bucketUid: string, key: string, current: ObjectRecord | undefined): this;
  /** Commit with fsync. */
  commit(): Promise<void>;
}

/**
 * MetaStore: buckets, object versions, multipart uploads and parts.
 * Keys sort in UTF-8 byte order, which is S3's listing order.
 */
export interface MetaStore {
  getBucket(name: string): Promise<BucketRecord | undefined>;
  listBuckets(): Promise<BucketRecord[]>;
  /** True when the bucket (by uid) holds at least one object (delete markers and noncurrent versions too) or upload. */
  bucketHasContent(bucketUid: string): Promise<boolean>;

  /** The current version of `key` (which may be a delete marker). */
  getObject(bucketUid: string, key: string): Promise<ObjectRecord | undefined>;
  /** Current versions in key order after `after`, starting with `prefix`, at most `limit`. */
  listObjects(q: ListObjectsQuery): AsyncIterable<ObjectRecord>;

  /** A noncurrent version of `key` by its historyId. */
  getVersion(bucketUid: string, key: string, historyId: string): Promise<ObjectRecord | undefined>;
  /** Noncurrent versions of one key in historyId order (newest first). */
  listVersions(q: ListVersionsQuery): AsyncIterable<VersionEntry>;

  getUpload(bucketUid: string, key: string, uploadId: string): Promise<UploadRecord | undefined>;
  listUploads(q: ListUploadsQuery): AsyncIterable<UploadRecord>;
  /** Parts of an upload in part-number order, partNumber > after. */
  listParts(uploadId: string, after?: number, limit?: number): Promise<PartRecord[]>;
  getPart(uploadId: string, partNumber: number): Promise<PartRecord | undefined>;

  /** Every dataId referenced by any object version, current or not, or part (for the blob garbage sweep). */
  referencedDataIds(): AsyncIterable<string>;

  batch(): MetaBatch;
  close(): Promise<void>;
}
