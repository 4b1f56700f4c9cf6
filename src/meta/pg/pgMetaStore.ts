/**
 * MetaStore on PostgreSQL (COFFER_META_URL=postgres://...), for gateways that
 * share one metadata database. Layout and migrations: pgSchema.ts; batches:
 * pgBatch.ts; listings: pgListing.ts. Names are validated with the same rules
 * as the LevelDB store (keyCodec.ts), so a name one store refuses the other
 * refuses too, and reads of names that can never be stored answer "not found".
 */
import pg from 'pg';
import type {
  ListObjectsQuery,
  ListUploadsQuery,
  ListVersionsQuery,
  MetaBatch,
  MetaStore,
  VersionEntry,
} from '../MetaStore.js';
import type { BucketRecord, ObjectRecord, PartRecord, UploadRecord } from '../records.js';
import {
  assertBucketUid,
  isHistoryId,
  isPartNumber,
  isStorableName,
  isUploadId,
  MAX_PART_NUMBER,
} from '../keyCodec.js';
import { PgMetaBatch } from './pgBatch.js';
import { checkLimit, listObjectRows, listUploadRows, listVersionRows, scanRecords } from './pgListing.js';
import { migrate, type MigrationResult } from './pgSchema.js';
import { PgGarbageQueue } from './pgGarbageQueue.js';
import type { WithGarbageQueue } from '../garbageQueue.js';

export interface PgMetaStoreOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Run pending migrations at open (default true; `coffer migrate` does it explicitly). */
  migrate?: boolean;
  /** Told when an idle pooled connection fails (the pool replaces it). */
  onConnectionError?: (e: Error) => void;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** A pool on `url`; errors of idle connections are reported to `onError`, not thrown into the process. */
export function createPool(url: string, size = 10, onError: (e: Error) => void = () => undefined): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: size,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
  });
  // Without a listener an idle connection dropped by the server would crash the process.
  pool.on('error', onError);
  return pool;
}

/** Apply pending migrations to the database at `url` and close the connection. */
export async function migrateDatabase(url: string): Promise<MigrationResult> {
  const pool = createPool(url, 2);
  try {
    return await migrate(pool);
  } finally {
    await pool.end();
  }
}

export class PgMetaStore implements MetaStore, WithGarbageQueue {
  /** The shared data tier's garbage queue and leases, in the same database. */
  readonly garbage: PgGarbageQueue;

  private constructor(private readonly pool: pg.Pool) {
    this.garbage = new PgGarbageQueue(pool);
  }

  /** Connect, check the connection, and bring the schema up to date. */
  static async open(url: string, opts: PgMetaStoreOptions = {}): Promise<PgMetaStore> {
    const pool = createPool(url, opts.poolSize, opts.onConnectionError);
    try {
      if (opts.migrate ?? true) await migrate(pool);
      else await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return new PgMetaStore(pool);
  }

  private async one<T>(sql: string, args: unknown[]): Promise<T | undefined> {
    const r = await this.pool.query<{ rec: string }>(sql, args);
    return r.rows.length ? (JSON.parse(r.rows[0]!.rec) as T) : undefined;
  }

  async getBucket(name: string): Promise<BucketRecord | undefined> {
    if (!isStorableName(name)) return undefined;
    return this.one<BucketRecord>('SELECT rec FROM coffer_buckets WHERE name = $1', [utf8(name)]);
  }

  /** All buckets in name (byte) order. Bucket counts are small, so an array is fine. */
  async listBuckets(): Promise<BucketRecord[]> {
    const r = await this.pool.query<{ rec: string }>('SELECT rec FROM coffer_buckets ORDER BY name');
    return r.rows.map((row) => JSON.parse(row.rec) as BucketRecord);
  }

  async bucketHasContent(bucketUid: string): Promise<boolean> {
    assertBucketUid(bucketUid);
    const r = await this.pool.query<{ has: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM coffer_objects WHERE bucket_uid = $1) OR EXISTS (SELECT 1 FROM coffer_uploads WHERE bucket_uid = $1) OR EXISTS (SELECT 1 FROM coffer_object_versions WHERE bucket_uid = $1) AS has',
      [bucketUid],
    );
    return r.rows[0]?.has === true;
  }

  async getObject(bucketUid: string, key: string): Promise<ObjectRecord | undefined> {
    assertBucketUid(bucketUid);
    if (!isStorableName(key)) return undefined;
    return this.one<ObjectRecord>('SELECT rec FROM coffer_objects WHERE bucket_uid = $1 AND key = $2', [
      bucketUid,
      utf8(key),
    ]);
  }

  /** Objects in UTF-8 key order; honours the delimiter hint (see pgListing.ts). */
  listObjects(q: ListObjectsQuery): AsyncIterable<ObjectRecord> {
    return listObjectRows(this.pool, q);
  }

  async getVersion(bucketUid: string, key: string, historyId: string): Promise<ObjectRecord | undefined> {
    assertBucketUid(bucketUid);
    if (!isStorableName(key) || !isHistoryId(historyId)) return undefined;
    return this.one<ObjectRecord>(
      'SELECT rec FROM coffer_object_versions WHERE bucket_uid = $1 AND key = $2 AND history_id = $3',
      [bucketUid, utf8(key), utf8(historyId)],
    );
  }

  /** Noncurrent versions of one key, newest first (history_id order). */
  listVersions(q: ListVersionsQuery): AsyncIterable<VersionEntry> {
    return listVersionRows(this.pool, q);
  }

  async getUpload(bucketUid: string, key: string, uploadId: string): Promise<UploadRecord | undefined> {
    assertBucketUid(bucketUid);
    if (!isStorableName(key) || !isUploadId(uploadId)) return undefined;
    return this.one<UploadRecord>(
      'SELECT rec FROM coffer_uploads WHERE bucket_uid = $1 AND key = $2 AND upload_id = $3',
      [bucketUid, utf8(key), utf8(uploadId)],
    );
  }

  listUploads(q: ListUploadsQuery): AsyncIterable<UploadRecord> {
    return listUploadRows(this.pool, q);
  }

  async listParts(uploadId: string, after = 0, limit?: number): Promise<PartRecord[]> {
    if (!Number.isInteger(after) || after < 0) throw new RangeError(`invalid part number marker: ${after}`);
    const max = limit === undefined ? MAX_PART_NUMBER : Math.min(checkLimit(limit), MAX_PART_NUMBER);
    if (!isUploadId(uploadId) || max === 0 || after >= MAX_PART_NUMBER) return [];
    const r = await this.pool.query<{ rec: string }>(
      'SELECT rec FROM coffer_parts WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3',
      [uploadId, after, max],
    );
    return r.rows.map((row) => JSON.parse(row.rec) as PartRecord);
  }

  async getPart(uploadId: string, partNumber: number): Promise<PartRecord | undefined> {
    if (!isUploadId(uploadId) || !isPartNumber(partNumber)) return undefined;
    return this.one<PartRecord>('SELECT rec FROM coffer_parts WHERE upload_id = $1 AND part_number = $2', [
      uploadId,
      partNumber,
    ]);
  }

  /**
   * Every dataId named by an object version (current or not) or by a pending part record, as in the
   * LevelDB store (ids may repeat; the scans are not one snapshot, so the sweep
   * only deletes blobs older than its own start).
   */
  async *referencedDataIds(): AsyncIterable<string> {
    for (const table of ['coffer_objects', 'coffer_object_versions'] as const) {
      for await (const o of scanRecords<ObjectRecord>(this.pool, table)) {
        if (o.stream !== undefined) yield o.stream.dataId;
        for (const p of o.parts ?? []) yield p.dataId;
      }
    }
    for await (const p of scanRecords<PartRecord>(this.pool, 'coffer_parts')) yield p.dataId;
  }

  batch(): MetaBatch {
    return new PgMetaBatch(this.pool);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
