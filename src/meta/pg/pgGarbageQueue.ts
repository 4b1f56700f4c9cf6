/**
 * GarbageQueue on PostgreSQL (tables from migration 3 in pgSchema.ts).
 *
 * Claiming uses `FOR UPDATE SKIP LOCKED`: each gateway takes due rows no other
 * gateway holds, deletes their blobs while the rows stay locked, and removes
 * the rows in the same transaction, so a gateway that dies mid-way leaves its
 * rows for the next one (deleting a blob twice is harmless). The lease is one
 * row per name, taken by an upsert that succeeds only when the row is free,
 * expired, or already ours. Both use the database's clock. PostgreSQL,
 * CockroachDB (23.2+) and YugabyteDB accept this SQL.
 */
import type pg from 'pg';
import type { GarbageQueue } from '../garbageQueue.js';
import { inTransaction } from './pgRetry.js';

const NOW_MS = `(extract(epoch from now()) * 1000)::bigint`;

export class PgGarbageQueue implements GarbageQueue {
  constructor(private readonly pool: pg.Pool) {}

  async enqueue(ids: readonly string[], delayMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(
      `INSERT INTO coffer_blob_garbage (id, due_at)
       SELECT u.id, ${NOW_MS} + $2::bigint FROM unnest($1::text[]) AS u(id)
       ON CONFLICT (id) DO NOTHING`,
      [[...new Set(ids)].sort(), Math.round(delayMs)],
    );
  }

  async reclaimDue(limit: number, retryMs: number, handle: (ids: string[]) => Promise<string[]>): Promise<number> {
    return inTransaction(this.pool, async (c) => {
      const r = await c.query<{ id: string }>(
        `SELECT id FROM coffer_blob_garbage WHERE due_at <= ${NOW_MS}
         ORDER BY due_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      const ids = r.rows.map((x) => x.id);
      if (ids.length === 0) return 0;
      const done = new Set(await handle(ids));
      const gone = ids.filter((id) => done.has(id));
      const later = ids.filter((id) => !done.has(id));
      if (gone.length) await c.query('DELETE FROM coffer_blob_garbage WHERE id = ANY($1::text[])', [gone]);
      if (later.length)
        await c.query(`UPDATE coffer_blob_garbage SET due_at = ${NOW_MS} + $2::bigint WHERE id = ANY($1::text[])`, [
          later,
          Math.round(retryMs),
        ]);
      return ids.length;
    });
  }

  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const r = await this.pool.query<{ holder: string }>(
      `INSERT INTO coffer_leases (name, holder, expires_at) VALUES ($1, $2, ${NOW_MS} + $3::bigint)
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE coffer_leases.holder = EXCLUDED.holder OR coffer_leases.expires_at <= ${NOW_MS}
       RETURNING holder`,
      [name, holder, Math.round(ttlMs)],
    );
    return r.rows.length === 1 && r.rows[0]!.holder === holder;
  }

  async pending(): Promise<number> {
    const r = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM coffer_blob_garbage');
    return Number(r.rows[0]!.n);
  }
}
