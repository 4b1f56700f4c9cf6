/**
 * MetaBatch on PostgreSQL: the operations collected in memory and written in
 * one transaction at commit, so a batch is wholly visible or not at all, and
 * COMMIT returns only once the WAL is flushed (synchronous_commit, the
 * default), which is the store's fsync.
 *
 * Operations on the same row collapse to the last one (as in a LevelDB batch),
 * so what is left touches distinct rows and may run in any order: upserts and
 * deletes are grouped per table into multi-row statements (a completed upload
 * deletes up to 10,000 part rows; one statement per row would be 10,000 round
 * trips). Rows are sorted by primary key within each statement, so two batches
 * that share rows lock them in the same order and do not deadlock each other.
 */
import type pg from 'pg';
import type { MetaBatch } from '../MetaStore.js';
import type { BucketRecord, ObjectRecord, PartRecord, UploadRecord } from '../records.js';
import { bucketKey, objectKey, partKey, uploadKey, versionKey } from '../keyCodec.js';
import { inTransaction, sqlState } from './pgRetry.js';
import { MetaConflictError } from '../metaStoreErrors.js';

type Table = 'coffer_buckets' | 'coffer_objects' | 'coffer_object_versions' | 'coffer_uploads' | 'coffer_parts';

/** Primary-key columns of each table, in key order. */
const PK: Record<Table, readonly string[]> = {
  coffer_buckets: ['name'],
  coffer_objects: ['bucket_uid', 'key'],
  coffer_object_versions: ['bucket_uid', 'key', 'history_id'],
  coffer_uploads: ['bucket_uid', 'key', 'upload_id'],
  coffer_parts: ['upload_id', 'part_number'],
};

type PkValue = string | number | Buffer;

interface Op {
  table: Table;
  pk: PkValue[];
  /** JSON of the record for a put, undefined for a delete. */
  rec?: string;
}

/** Rows per statement: well under PostgreSQL's 65,535 bind parameters, and small enough to keep each statement quick. */
const CHUNK = 500;

const utf8 = (s: string) => Buffer.from(s, 'utf8');

function comparePk(a: PkValue[], b: PkValue[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const c =
      typeof x === 'number'
        ? x - (y as number)
        : Buffer.compare(Buffer.isBuffer(x) ? x : utf8(x), Buffer.isBuffer(y) ? y : utf8(y as string));
    if (c !== 0) return c;
  }
  return 0;
}

function opId(op: Op): string {
  return `${op.table}\u0000${op.pk.map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : String(v))).join('\u0000')}`;
}

export class PgMetaBatch implements MetaBatch {
  private readonly ops = new Map<string, Op>();
  private readonly expected: Array<{ pk: PkValue[]; rec: string | undefined }> = [];
  private done = false;

  constructor(private readonly pool: pg.Pool) {}

  private push(op: Op): this {
    if (this.done) throw new Error('MetaBatch already committed');
    const id = opId(op);
    // Re-inserting moves it last; order does not matter after collapsing, but this keeps it readable when debugging.
    this.ops.delete(id);
    this.ops.set(id, op);
    return this;
  }

  // Each method validates through the LevelDB key codec first, so both stores refuse exactly the same names.
  putBucket(b: BucketRecord): this {
    bucketKey(b.name);
    return this.push({ table: 'coffer_buckets', pk: [utf8(b.name)], rec: JSON.stringify(b) });
  }
  deleteBucket(name: string): this {
    bucketKey(name);
    return this.push({ table: 'coffer_buckets', pk: [utf8(name)] });
  }
  putObject(o: ObjectRecord): this {
    objectKey(o.bucketUid, o.key);
    return this.push({ table: 'coffer_objects', pk: [o.bucketUid, utf8(o.key)], rec: JSON.stringify(o) });
  }
  deleteObject(bucketUid: string, key: string): this {
    objectKey(bucketUid, key);
    return this.push({ table: 'coffer_objects', pk: [bucketUid, utf8(key)] });
  }
  putVersion(historyId: string, o: ObjectRecord): this {
    versionKey(o.bucketUid, o.key, historyId);
    return this.push({
      table: 'coffer_object_versions',
      pk: [o.bucketUid, utf8(o.key), utf8(historyId)],
      rec: JSON.stringify(o),
    });
  }
  deleteVersion(bucketUid: string, key: string, historyId: string): this {
    versionKey(bucketUid, key, historyId);
    return this.push({ table: 'coffer_object_versions', pk: [bucketUid, utf8(key), utf8(historyId)] });
  }
  putUpload(u: UploadRecord): this {
    uploadKey(u.bucketUid, u.key, u.uploadId);
    return this.push({
      table: 'coffer_uploads',
      pk: [u.bucketUid, utf8(u.key), utf8(u.uploadId)],
      rec: JSON.stringify(u),
    });
  }
  deleteUpload(bucketUid: string, key: string, uploadId: string): this {
    uploadKey(bucketUid, key, uploadId);
    return this.push({ table: 'coffer_uploads', pk: [bucketUid, utf8(key), utf8(uploadId)] });
  }
  putPart(p: PartRecord & { bucketUid: string }): this {
    partKey(p.uploadId, p.partNumber);
    return this.push({ table: 'coffer_parts', pk: [p.uploadId, p.partNumber], rec: JSON.stringify(p) });
  }
  deletePart(uploadId: string, partNumber: number): this {
    partKey(uploadId, partNumber);
    return this.push({ table: 'coffer_parts', pk: [uploadId, partNumber] });
  }

  expectObject(bucketUid: string, key: string, current: ObjectRecord | undefined): this {
    objectKey(bucketUid, key);
    this.expected.push({
      pk: [bucketUid, utf8(key)],
      rec: current === undefined ? undefined : JSON.stringify(current),
    });
    return this;
  }

  async commit(): Promise<void> {
    if (this.done) throw new Error('MetaBatch already committed');
    this.done = true;
    if (this.ops.size === 0) return;
    const expected = this.expected;
    // A key expected absent that this batch writes is INSERTed plainly, not
    // upserted: PostgreSQL's unique index then decides between two writers that
    // both saw it absent (the second waits for the first and fails with 23505),
    // at READ COMMITTED. (SERIALIZABLE did too, but its predicate locks on
    // shared index pages also failed writers of *different* keys with 40001,
    // often enough under 16 concurrent PUTs to exhaust the retries.)
    const insertOnly: Op[] = [];
    for (const e of expected) {
      if (e.rec !== undefined) continue;
      const id = opId({ table: 'coffer_objects', pk: e.pk });
      const op = this.ops.get(id);
      if (op?.rec !== undefined) {
        insertOnly.push(op);
        this.ops.delete(id);
      }
    }
    const statements = plan([...this.ops.values()]);
    await inTransaction(this.pool, async (c) => {
      for (const e of expected) {
        if (e.rec === undefined && insertOnly.some((o) => comparePk(o.pk, e.pk) === 0)) continue;
        // A present row is locked until COMMIT, so no one changes it between this check and our write.
        const r = await c.query<{ rec: string }>(
          'SELECT rec FROM coffer_objects WHERE bucket_uid = $1 AND key = $2 FOR UPDATE',
          e.pk,
        );
        if (r.rows[0]?.rec !== e.rec) throw new MetaConflictError('the object changed since it was read');
      }
      for (const o of insertOnly.sort((a, b) => comparePk(a.pk, b.pk))) {
        try {
          await c.query('INSERT INTO coffer_objects (bucket_uid, key, rec) VALUES ($1, $2, $3)', [...o.pk, o.rec!]);
        } catch (err) {
          if (sqlState(err) === '23505') throw new MetaConflictError('the object was created since it was read');
          throw err;
        }
      }
      for (const s of statements) await c.query(s.text, s.values);
    });
  }
}

interface Statement {
  text: string;
  values: PkValue[];
}

/** Multi-row DELETE and INSERT ... ON CONFLICT statements for the collapsed operations. */
export function plan(ops: Op[]): Statement[] {
  const out: Statement[] = [];
  for (const table of Object.keys(PK) as Table[]) {
    const cols = PK[table];
    const mine = ops.filter((o) => o.table === table).sort((a, b) => comparePk(a.pk, b.pk));
    const dels = mine.filter((o) => o.rec === undefined);
    const puts = mine.filter((o) => o.rec !== undefined);
    for (let i = 0; i < dels.length; i += CHUNK) {
      const chunk = dels.slice(i, i + CHUNK);
      const values: PkValue[] = [];
      const tuples = chunk.map((o) => `(${o.pk.map((v) => `$${values.push(v)}`).join(', ')})`);
      out.push({ text: `DELETE FROM ${table} WHERE (${cols.join(', ')}) IN (${tuples.join(', ')})`, values });
    }
    for (let i = 0; i < puts.length; i += CHUNK) {
      const chunk = puts.slice(i, i + CHUNK);
      const values: PkValue[] = [];
      const rows = chunk.map((o) => `(${[...o.pk, o.rec!].map((v) => `$${values.push(v)}`).join(', ')})`);
      out.push({
        text: `INSERT INTO ${table} (${cols.join(', ')}, rec) VALUES ${rows.join(', ')} ON CONFLICT (${cols.join(', ')}) DO UPDATE SET rec = excluded.rec`,
        values,
      });
    }
  }
  return out;
}
