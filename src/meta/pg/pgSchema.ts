/**
 * Versioned schema of the PostgreSQL MetaStore, applied at start-up
 * (PgMetaStore.open) and by `coffer migrate`.
 *
 * Each migration runs in its own transaction together with the row that
 * records it in coffer_schema_migrations. Statements are idempotent (IF NOT
 * EXISTS) so that two gateways starting at once cannot break each other: the
 * loser of a catalog race gets 23505/42P07/42710, retries, and then finds the work
 * done (no advisory lock, which CockroachDB lacks). On YugabyteDB, where DDL is
 * not transactional, idempotence is also what makes a half-applied migration
 * safe to run again. A database at a newer version than this code knows is
 * refused rather than used.
 *
 * Layout: object keys, bucket names and upload ids are BYTEA holding their
 * UTF-8 bytes, so ORDER BY is byte order (S3's listing order) whatever the
 * database's collation; records are JSON in TEXT (TEXT, not JSONB: JSONB cannot
 * hold the escape \u0000). Nothing is a counter row: every write touches only
 * the rows it names.
 *
 * Checked against the documented SQL of CockroachDB and YugabyteDB (YSQL):
 * BYTEA (Cockroach BYTES), composite primary keys, INSERT ... ON CONFLICT DO
 * UPDATE, row-value comparisons, multi-row VALUES and tuple IN are all accepted;
 * no sequences, triggers, plpgsql or advisory locks are used; SELECT ... FOR UPDATE
 * (both accept it) serializes the KMS state's read-modify-writes, and pg_notify,
 * which CockroachDB lacks, is probed and only speeds up what polling guarantees.
 */
import type pg from 'pg';
import { inTransaction } from './pgRetry.js';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'buckets, objects, uploads, parts',
    statements: [
      `CREATE TABLE IF NOT EXISTS coffer_buckets (
        name BYTEA PRIMARY KEY,
        rec TEXT NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS coffer_objects (
        bucket_uid TEXT NOT NULL,
        key BYTEA NOT NULL,
        rec TEXT NOT NULL,
        PRIMARY KEY (bucket_uid, key)
      )`,
      `CREATE TABLE IF NOT EXISTS coffer_uploads (
        bucket_uid TEXT NOT NULL,
        key BYTEA NOT NULL,
        upload_id BYTEA NOT NULL,
        rec TEXT NOT NULL,
        PRIMARY KEY (bucket_uid, key, upload_id)
      )`,
      `CREATE TABLE IF NOT EXISTS coffer_parts (
        upload_id TEXT NOT NULL,
        part_number INT NOT NULL,
        rec TEXT NOT NULL,
        PRIMARY KEY (upload_id, part_number)
      )`,
    ],
  },
  {
    // Current versions stay in coffer_objects (plain listings read only that
    // table, as before); noncurrent versions live here, newest first within a
    // key because history ids sort that way (bytes, whatever the collation).
    version: 2,
    name: 'noncurrent object versions',
    statements: [
      `CREATE TABLE IF NOT EXISTS coffer_object_versions (
        bucket_uid TEXT NOT NULL,
        key BYTEA NOT NULL,
        history_id BYTEA NOT NULL,
        rec TEXT NOT NULL,
        PRIMARY KEY (bucket_uid, key, history_id)
      )`,
    ],
  },
  {
    // A shared data tier's garbage: blobs queued for deletion with a due time,
    // and named leases (one gateway at a time sweeps for orphans). Times are
    // milliseconds of the database's clock (pgGarbageQueue.ts).
    version: 3,
    name: 'shared blob garbage queue and leases',
    statements: [
      `CREATE TABLE IF NOT EXISTS coffer_blob_garbage (
        id TEXT PRIMARY KEY,
        due_at BIGINT NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS coffer_blob_garbage_due ON coffer_blob_garbage (due_at)`,
      `CREATE TABLE IF NOT EXISTS coffer_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    // The KMS and IAM state (COFFER_KMS_STORE_URL, meta/kv/pgJsonKv.ts): one
    // key-value table for every store, the lock rows that serialize
    // read-modify-writes across processes, and the key event feed
    // (kms/pgKeyEvents.ts), whose one head row hands out sequence numbers in
    // commit order. Key material in coffer_kv is sealed under the master key.
    version: 4,
    name: 'KMS and IAM state, locks, key event feed',
    statements: [
      `CREATE TABLE IF NOT EXISTS coffer_kv (
        store TEXT NOT NULL,
        space TEXT NOT NULL,
        k BYTEA NOT NULL,
        v TEXT NOT NULL,
        PRIMARY KEY (store, space, k)
      )`,
      `CREATE TABLE IF NOT EXISTS coffer_kv_locks (
        name TEXT PRIMARY KEY
      )`,
      `CREATE TABLE IF NOT EXISTS coffer_key_events (
        seq BIGINT PRIMARY KEY,
        ev TEXT NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS coffer_key_event_head (
        id INT PRIMARY KEY,
        seq BIGINT NOT NULL
      )`,
      `INSERT INTO coffer_key_event_head (id, seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING`,
    ],
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Catalog races of concurrent CREATE ... IF NOT EXISTS (the check and the insert
 * into the catalog are not atomic): unique_violation, duplicate_table, and
 * duplicate_object ("type ... already exists", the table's row type).
 */
const CATALOG_RACE = new Set(['23505', '42P07', '42710']);

export interface MigrationResult {
  /** Version found before, 0 for an empty database. */
  from: number;
  to: number;
  applied: number[];
}

async function currentVersion(c: pg.Pool | pg.PoolClient): Promise<number> {
  const r = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM coffer_schema_migrations');
  return Number(r.rows[0]?.v ?? 0);
}

/** Bring the database up to LATEST_VERSION; a no-op when it is there already. */
export async function migrate(pool: pg.Pool, now: () => number = Date.now): Promise<MigrationResult> {
  await inTransaction(
    pool,
    (c) =>
      c.query(`CREATE TABLE IF NOT EXISTS coffer_schema_migrations (
        version INT PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at BIGINT NOT NULL
      )`),
    { alsoRetry: CATALOG_RACE },
  );
  const from = await currentVersion(pool);
  if (from > LATEST_VERSION) {
    throw new Error(
      `the metadata database is at schema version ${from}, newer than this Coffer knows (${LATEST_VERSION}): upgrade Coffer`,
    );
  }
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= from) continue;
    const didApply = await inTransaction(
      pool,
      async (c) => {
        // Another gateway may have applied it since we looked.
        const done = await c.query('SELECT 1 FROM coffer_schema_migrations WHERE version = $1', [m.version]);
        if (done.rowCount) return false;
        for (const sql of m.statements) await c.query(sql);
        const ins = await c.query(
          'INSERT INTO coffer_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING',
          [m.version, m.name, now()],
        );
        return (ins.rowCount ?? 0) > 0;
      },
      { alsoRetry: CATALOG_RACE },
    );
    if (didApply) applied.push(m.version);
  }
  return { from, to: LATEST_VERSION, applied };
}
