/**
 * Transactions with retry for the PostgreSQL MetaStore.
 *
 * A serialization failure (40001) or a deadlock (40P01) means the database
 * rolled the whole transaction back and it is safe to run again; CockroachDB
 * and YugabyteDB report their transaction restarts as 40001 too, often at
 * COMMIT. Each retry waits a random time up to an exponentially growing cap
 * ("full jitter"), so colliding writers spread out instead of colliding again.
 * Any other error, including a lost connection during COMMIT (the outcome is
 * unknown), is not retried here.
 */
import type pg from 'pg';

export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['40001', '40P01']);

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** Backoff cap of the first retry, doubled per retry up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Extra SQLSTATEs to retry (migrations also retry catalog races). */
  alsoRetry?: ReadonlySet<string>;
}

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Run `fn` in one transaction on a pooled connection, retrying it whole on a retryable failure. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (c: pg.PoolClient) => Promise<T>,
  opts: RetryOptions = {},
): Promise<T> {
  const attempts = opts.attempts ?? 10;
  const base = opts.baseDelayMs ?? 5;
  const max = opts.maxDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      // ROLLBACK after a failed COMMIT is a no-op warning; after a network error it fails and the connection is dropped.
      await client.query('ROLLBACK').catch(() => (broken = true));
      const code = sqlState(err);
      const retry = code !== undefined && (RETRYABLE_CODES.has(code) || (opts.alsoRetry?.has(code) ?? false));
      if (!retry || attempt >= attempts) throw err;
    } finally {
      client.release(broken);
    }
    await sleep(Math.random() * Math.min(max, base * 2 ** (attempt - 1)));
  }
}
