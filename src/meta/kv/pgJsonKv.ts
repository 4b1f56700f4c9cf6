/**
 * The JsonKv seam (jsonKv.ts) on PostgreSQL (COFFER_KMS_STORE_URL): every
 * process started on the same database and master key serves the same KMS
 * and IAM state. One database handle (PgKvDatabase) holds
 *
 *   - the pool for reads and writes (each batch one transaction, retried whole
 *     on 40001/40P01 by pgRetry.ts),
 *   - a second, separate pool for locks: `locks.run(name)` holds a row lock
 *     (SELECT ... FOR UPDATE on coffer_kv_locks) in a transaction of its own
 *     while `fn` reads and writes on the main pool, so any read-modify-write
 *     under one name is serialized across processes. (Separate so that lock
 *     holders can never exhaust the connections their own work needs.)
 *   - one LISTEN connection (pgListener.ts) for change notices.
 *
 * Rows: coffer_kv (store, space, k BYTEA, v TEXT): keys as UTF-8 bytes, so
 * ranges are in the byte order LevelDB uses; values JSON in TEXT (pgSchema.ts
 * version 4). Material stays sealed by the stores above: nothing here sees a
 * plaintext key.
 *
 * A store opened with `notify` also announces each batch's keys on channel
 * coffer_kv (pg_notify in the transaction, so only committed writes are told),
 * for the processes that mirror it in memory (iamStore.ts, instanceState.ts).
 * pg_notify is probed once at open: a database without it (CockroachDB) gets
 * none, and the mirrors rely on their periodic reload alone.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { KeyedMutex } from '../../util/keyedMutex.js';
import type { RawEntries } from '../../util/levelSnapshot.js';
import { createPool } from '../pg/pgMetaStore.js';
import { inTransaction } from '../pg/pgRetry.js';
import { migrate } from '../pg/pgSchema.js';
import type { JsonKv, KvLocks, KvOp, KvRange, KvWatcher } from './jsonKv.js';
import { PgListener } from './pgListener.js';

export const KV_CHANNEL = 'coffer_kv';
/** NOTIFY payloads are limited to 8000 bytes; a bigger batch is announced as "reload everything". */
const MAX_PAYLOAD = 7000;

const utf8 = (s: string) => Buffer.from(s, 'utf8');

export interface PgKvOptions {
  poolSize?: number;
  lockPoolSize?: number;
  onError?: (e: Error) => void;
}

export class PgKvDatabase {
  /** Tells this process's own notices from the others'. */
  readonly origin = randomBytes(8).toString('hex');
  readonly listener: PgListener;
  private readonly mutex = new KeyedMutex();
  readonly locks: KvLocks;
  private constructor(
    readonly pool: pg.Pool,
    private readonly lockPool: pg.Pool,
    url: string,
    onError: (e: Error) => void,
    /** pg_notify exists (PostgreSQL; not CockroachDB). */
    readonly canNotify: boolean,
  ) {
    this.listener = new PgListener(url, onError);
    this.locks = { run: (name, fn) => this.mutex.run(name, () => this.holdRowLock(name, fn)) };
  }

  /** Connect, bring the schema up to date (the same migrations as the metadata store), start listening. */
  static async open(url: string, opts: PgKvOptions = {}): Promise<PgKvDatabase> {
    const onError = opts.onError ?? (() => undefined);
    const pool = createPool(url, opts.poolSize ?? 10, onError);
    const lockPool = createPool(url, opts.lockPoolSize ?? 16, onError);
    try {
      await migrate(pool);
      const canNotify = await pool.query(`SELECT pg_notify('coffer_probe', '')`).then(
        () => true,
        () => false,
      );
      const db = new PgKvDatabase(pool, lockPool, url, onError, canNotify);
      db.listener.start();
      return db;
    } catch (e) {
      await Promise.all([pool.end(), lockPool.end()]);
      throw e;
    }
  }

  /** The handle of one store (kms, iam, kms-instance); its rows are apart from the others'. */
  store(name: string, opts: { notify?: boolean } = {}): PgJsonKv {
    return new PgJsonKv(this, name, opts.notify === true && this.canNotify);
  }

  private async holdRowLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    await this.pool.query('INSERT INTO coffer_kv_locks (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
    // The lock is the transaction; fn's result is decided by fn, and COMMIT only lets go of the lock.
    let out: { ok: true; v: T } | { ok: false; e: unknown } | undefined;
    try {
      await inTransaction(this.lockPool, async (c) => {
        // A retry after fn ran (COMMIT failed) has nothing left to do: fn must run once.
        if (out) return;
        await c.query('SELECT name FROM coffer_kv_locks WHERE name = $1 FOR UPDATE', [name]);
        try {
          out = { ok: true, v: await fn() };
        } catch (e) {
          out = { ok: false, e };
        }
      });
    } catch (e) {
      // Failing to take the lock fails the call; failing to let go of it (the connection
      // dropped: the server rolls back and releases) does not undo what fn did.
      if (!out) throw e;
    }
    if (!out) throw new Error('lock released before its holder ran');
    if (!out.ok) throw out.e;
    return out.v;
  }

  async close(): Promise<void> {
    await this.listener.close();
    await Promise.all([this.pool.end(), this.lockPool.end()]);
  }
}

export class PgJsonKv implements JsonKv {
  readonly kind = 'pg';
  readonly locks: KvLocks;
  private readonly watchers = new Set<KvWatcher>();
  private unlisten?: () => void;

  constructor(
    readonly db: PgKvDatabase,
    readonly store: string,
    private readonly notify: boolean,
  ) {
    this.locks = db.locks;
  }

  async get<T>(space: string, key: string): Promise<T | undefined> {
    const r = await this.db.pool.query<{ v: string }>(
      'SELECT v FROM coffer_kv WHERE store = $1 AND space = $2 AND k = $3',
      [this.store, space, utf8(key)],
    );
    return r.rows[0] ? (JSON.parse(r.rows[0].v) as T) : undefined;
  }

  private async range(space: string, range: KvRange, cols: string): Promise<Array<{ k: Buffer; v?: string }>> {
    const where = ['store = $1', 'space = $2'];
    const args: unknown[] = [this.store, space];
    const bound = (op: string, v: string | undefined) => {
      if (v === undefined) return;
      args.push(utf8(v));
      where.push(`k ${op} $${args.length}`);
    };
    bound('>', range.gt);
    bound('>=', range.gte);
    bound('<', range.lt);
    let sql = `SELECT ${cols} FROM coffer_kv WHERE ${where.join(' AND ')} ORDER BY k ${range.reverse ? 'DESC' : 'ASC'}`;
    if (range.limit !== undefined && range.limit >= 0) {
      args.push(range.limit);
      sql += ` LIMIT $${args.length}`;
    }
    return (await this.db.pool.query<{ k: Buffer; v?: string }>(sql, args)).rows;
  }

  async list<T>(space: string, range: KvRange = {}): Promise<Array<[string, T]>> {
    const rows = await this.range(space, range, 'k, v');
    return rows.map((r) => [r.k.toString('utf8'), JSON.parse(r.v!) as T]);
  }

  async keys(space: string, range: KvRange = {}): Promise<string[]> {
    return (await this.range(space, range, 'k')).map((r) => r.k.toString('utf8'));
  }

  async write(ops: readonly KvOp[]): Promise<void> {
    if (ops.length === 0) return;
    await this.transaction(async (tx) => tx.apply(ops));
  }

  /**
   * One transaction (retried whole on 40001/40P01: `fn` must not have effects
   * outside it): `apply` writes kv ops in it, `client` runs other statements.
   */
  async transaction<T>(
    fn: (tx: { client: pg.PoolClient; apply(ops: readonly KvOp[]): Promise<void> }) => Promise<T>,
  ): Promise<T> {
    return inTransaction(this.db.pool, async (client) => {
      const changed: Array<[string, string]> = [];
      const out = await fn({
        client,
        apply: async (ops) => {
          for (const op of ops) {
            if (op.type === 'put')
              await client.query(
                `INSERT INTO coffer_kv (store, space, k, v) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (store, space, k) DO UPDATE SET v = excluded.v`,
                [this.store, op.space, utf8(op.key), JSON.stringify(op.value)],
              );
            else
              await client.query('DELETE FROM coffer_kv WHERE store = $1 AND space = $2 AND k = $3', [
                this.store,
                op.space,
                utf8(op.key),
              ]);
            changed.push([op.space, op.key]);
          }
        },
      });
      if (this.notify && changed.length) {
        let payload = JSON.stringify({ o: this.db.origin, s: this.store, c: changed });
        if (payload.length > MAX_PAYLOAD) payload = JSON.stringify({ o: this.db.origin, s: this.store, all: true });
        await client.query('SELECT pg_notify($1, $2)', [KV_CHANNEL, payload]);
      }
      return out;
    });
  }

  watch(w: KvWatcher): () => void {
    this.watchers.add(w);
    this.unlisten ??= this.db.listener.on(KV_CHANNEL, (payload) => {
      let n: { o?: string; s?: string; c?: Array<[string, string]>; all?: boolean };
      try {
        n = JSON.parse(payload) as typeof n;
      } catch {
        return;
      }
      if (n.o === this.db.origin || n.s !== this.store) return;
      const changes = n.all ? [{ space: '*', key: '*' }] : (n.c ?? []).map(([space, key]) => ({ space, key }));
      for (const x of this.watchers) x(changes);
    });
    return () => this.watchers.delete(w);
  }

  snapshot(): RawEntries {
    throw new Error('the KMS state is in the shared database: back it up with the database tools (pg_dump)');
  }

  async close(): Promise<void> {
    // The database handle is shared by the stores and closed by its owner.
    this.watchers.clear();
    this.unlisten?.();
  }
}
