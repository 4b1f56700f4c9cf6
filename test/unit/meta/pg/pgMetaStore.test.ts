/**
 * PgMetaStore against a real PostgreSQL (test/helpers/postgres.ts): the MetaStore
 * contract, plus what only this store has (migrations, the delimiter skip,
 * multi-row batches, retries).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgMetaStore, migrateDatabase } from '../../../../src/meta/pg/pgMetaStore.js';
import { LATEST_VERSION } from '../../../../src/meta/pg/pgSchema.js';
import type { PgMetaBatch } from '../../../../src/meta/pg/pgBatch.js';
import { MetaConflictError } from '../../../../src/meta/metaStoreErrors.js';
import type { ObjectRecord } from '../../../../src/meta/records.js';
import { makeObject, makePart, makeUpload, metaStoreContract, newUid } from '../../../contract/metaStore.contract.js';
import { metaStoreVersionsContract } from '../../../contract/metaStoreVersions.contract.js';
import { garbageQueueContract } from '../../../contract/garbageQueue.contract.js';
import { startPostgres, type TestPostgres } from '../../../helpers/postgres.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

metaStoreContract('PgMetaStore', async () => {
  const store = await PgMetaStore.open(await server.createDatabase());
  return { store, cleanup: async () => undefined };
});

garbageQueueContract('PgGarbageQueue', async () => {
  const store = await PgMetaStore.open(await server.createDatabase());
  return { queue: store.garbage, cleanup: () => store.close() };
});

metaStoreVersionsContract('PgMetaStore', async () => {
  const store = await PgMetaStore.open(await server.createDatabase());
  return { store, cleanup: async () => undefined };
});

async function keys(it: AsyncIterable<ObjectRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const o of it) out.push(o.key);
  return out;
}

/** The store's own batch type, whose expectObject is not optional. */
const pgBatch = (store: PgMetaStore) => store.batch() as PgMetaBatch;

/** Counts the statements a store sends, by wrapping its pool's query. */
function countQueries(store: PgMetaStore): { n: number } {
  const pool = (store as unknown as { pool: pg.Pool }).pool;
  const counter = { n: 0 };
  const orig = pool.query.bind(pool) as (...a: unknown[]) => unknown;
  (pool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    counter.n++;
    return orig(...a);
  };
  return counter;
}

describe('PgMetaStore', () => {
  it('migrations: run once, recorded, idempotent, and a newer schema is refused', async () => {
    const url = await server.createDatabase();
    expect(await migrateDatabase(url)).toEqual({ from: 0, to: LATEST_VERSION, applied: [1, 2, 3, 4] });
    expect(await migrateDatabase(url)).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION, applied: [] });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query('SELECT version FROM coffer_schema_migrations ORDER BY version');
      expect(r.rows.map((x: { version: number }) => x.version)).toEqual([1, 2, 3, 4]);
      await c.query("INSERT INTO coffer_schema_migrations VALUES (999, 'from the future', 0)");
    } finally {
      await c.end();
    }
    await expect(PgMetaStore.open(url)).rejects.toThrow(/schema version 999, newer/);
  });

  it('migrations: gateways starting at once on an empty database all come up', async () => {
    // A few rounds: the catalog race (CREATE TABLE IF NOT EXISTS is check-then-insert) does not lose every time.
    for (let round = 0; round < 4; round++) {
      const url = await server.createDatabase();
      const results = await Promise.all([1, 2, 3, 4, 5, 6].map(() => migrateDatabase(url)));
      expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2, 3, 4]);
      const store = await PgMetaStore.open(url);
      await store.batch().putObject(makeObject(newUid(), 'k')).commit();
      await store.close();
    }
  });

  it('data survives close and reopen', async () => {
    const url = await server.createDatabase();
    const uid = newUid();
    let store = await PgMetaStore.open(url);
    const o = makeObject(uid, 'a/b');
    await store
      .batch()
      .putObject(o)
      .putUpload(makeUpload(uid, 'x', 'up1'))
      .commit();
    await store.close();
    store = await PgMetaStore.open(url);
    expect(await store.getObject(uid, 'a/b')).toEqual(o);
    expect(await store.bucketHasContent(uid)).toBe(true);
    await store.close();
  });

  it('delimiter hint: a wide common prefix is skipped with one seek, not read row by row', async () => {
    const store = await PgMetaStore.open(await server.createDatabase());
    const uid = newUid();
    try {
      const b = store.batch();
      for (let i = 0; i < 5000; i++) b.putObject(makeObject(uid, `big/${String(i).padStart(5, '0')}`));
      for (const k of ['a', 'big', 'big0', 'small/1', 'small/2', 'z']) b.putObject(makeObject(uid, k));
      await b.commit();
      const counter = countQueries(store);
      const got = await keys(store.listObjects({ bucketUid: uid, delimiter: '/', limit: 1000 }));
      // One key per common prefix, every other key as is, in order.
      expect(got).toEqual(['a', 'big', 'big/00000', 'big0', 'small/1', 'z']);
      // 5000 rows under big/ at pages of <= 1000 would be >= 5 queries; the seek makes it 2 (one page, one seek).
      expect(counter.n).toBeLessThanOrEqual(3);
      // Without the hint every key is returned.
      expect((await keys(store.listObjects({ bucketUid: uid, limit: 10_000 }))).length).toBe(5006);
      // With a prefix, the delimiter counts from the end of the prefix; multi-character delimiters work.
      expect(await keys(store.listObjects({ bucketUid: uid, prefix: 'big/', delimiter: '/', limit: 3 }))).toEqual([
        'big/00000',
        'big/00001',
        'big/00002',
      ]);
      expect(await keys(store.listObjects({ bucketUid: uid, delimiter: 'g/0', limit: 100 }))).toEqual([
        'a',
        'big',
        'big/00000',
        'big0',
        'small/1',
        'small/2',
        'z',
      ]);
      expect(await keys(store.listObjects({ bucketUid: uid, after: 'big/00000', delimiter: '/', limit: 2 }))).toEqual([
        'big/00001',
        'big0',
      ]);
    } finally {
      await store.close();
    }
  });

  it('a batch of thousands of rows is one transaction of a few statements', async () => {
    const store = await PgMetaStore.open(await server.createDatabase());
    const uid = newUid();
    try {
      const put = store.batch();
      for (let n = 1; n <= 10_000; n++) put.putPart(makePart(uid, 'upX', n));
      await put.commit();
      expect((await store.listParts('upX')).length).toBe(10_000);
      const del = store.batch().putObject(makeObject(uid, 'done'));
      for (let n = 1; n <= 10_000; n++) del.deletePart('upX', n);
      await del.commit();
      expect(await store.listParts('upX')).toEqual([]);
      expect(await store.getObject(uid, 'done')).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it('a batch that fails midway leaves nothing behind', async () => {
    const url = await server.createDatabase();
    const store = await PgMetaStore.open(url);
    const uid = newUid();
    try {
      // A constraint the uploads statement breaks: it runs after the objects statement of the same batch.
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query("ALTER TABLE coffer_uploads ADD CONSTRAINT test_no_k2 CHECK (key <> 'k2'::bytea)");
      await c.end();
      const b = store
        .batch()
        .putObject(makeObject(uid, 'k1'))
        .putUpload(makeUpload(uid, 'k2', 'up1'));
      await expect(b.commit()).rejects.toThrow(/test_no_k2/);
      expect(await store.getObject(uid, 'k1')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('expectObject: of two writers that both saw the key absent (or at one record), exactly one commits', async () => {
    const store = await PgMetaStore.open(await server.createDatabase());
    const uid = newUid();
    try {
      const race = async (prev: ObjectRecord | undefined) => {
        const outcomes = await Promise.allSettled(
          [1, 2].map((w) =>
            pgBatch(store)
              .expectObject(uid, 'k', prev)
              .putObject(makeObject(uid, 'k', { size: w }))
              .commit(),
          ),
        );
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const lost = outcomes.find((o) => o.status === 'rejected');
        expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(MetaConflictError);
        return (await store.getObject(uid, 'k'))!;
      };
      const first = await race(undefined);
      expect([1, 2]).toContain(first.size);
      await race(first);
      // A stale expectation never overwrites.
      await expect(
        pgBatch(store).expectObject(uid, 'k', first).putObject(makeObject(uid, 'k')).commit(),
      ).rejects.toThrow(MetaConflictError);
      await expect(
        pgBatch(store).expectObject(uid, 'k', undefined).putObject(makeObject(uid, 'k')).commit(),
      ).rejects.toThrow(MetaConflictError);
    } finally {
      await store.close();
    }
  });

  it('expectObject on distinct keys: 16 concurrent writers commit at the first attempt (no false serialization failures)', async () => {
    const store = await PgMetaStore.open(await server.createDatabase());
    const uid = newUid();
    const pool = (store as unknown as { pool: pg.Pool }).pool;
    try {
      await store.batch().putObject(makeObject(uid, 'seed')).commit();
      const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
      let attempts = 0;
      (pool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = () => {
        attempts++;
        return connect();
      };
      for (let round = 0; round < 3; round++) {
        attempts = 0;
        await Promise.all(
          Array.from({ length: 16 }, (_, w) =>
            pgBatch(store)
              .expectObject(uid, `r${round}-k${w}`, undefined)
              .putObject(makeObject(uid, `r${round}-k${w}`))
              .commit(),
          ),
        );
        // One transaction per batch: a retry would mean writers of different keys conflicted.
        expect(attempts).toBe(16);
      }
    } finally {
      await store.close();
    }
  });

  it('concurrent batches on the same rows all commit (deadlocks and serialization failures are retried)', async () => {
    const store = await PgMetaStore.open(await server.createDatabase());
    const uid = newUid();
    try {
      const keysA = Array.from({ length: 50 }, (_, i) => `k${i}`);
      await Promise.all(
        Array.from({ length: 12 }, (_, w) => {
          const b = store.batch();
          // Half the writers add rows in reverse order: the store sorts them, so lock order agrees.
          for (const k of w % 2 ? [...keysA].reverse() : keysA) b.putObject(makeObject(uid, k, { size: w }));
          return b.commit();
        }),
      );
      const sizes = new Set<number>();
      for await (const o of store.listObjects({ bucketUid: uid, limit: 100 })) sizes.add(o.size);
      // Each batch is atomic: every row carries the same writer's size.
      expect(sizes.size).toBe(1);
    } finally {
      await store.close();
    }
  });
});
