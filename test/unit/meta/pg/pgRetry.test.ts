import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { inTransaction } from '../../../../src/meta/pg/pgRetry.js';

/** A pool whose connections record the statements they were sent. */
function fakePool(log: string[], failRollback = false): { pool: pg.Pool; released: boolean[] } {
  const released: boolean[] = [];
  const client = {
    query: async (sql: string) => {
      log.push(sql);
      if (sql === 'ROLLBACK' && failRollback) throw new Error('connection lost');
      return { rows: [], rowCount: 0 };
    },
    release: (broken?: boolean) => void released.push(broken === true),
  };
  return { pool: { connect: async () => client } as unknown as pg.Pool, released };
}

const sqlError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('inTransaction', () => {
  it('retries the whole transaction on serialization failure and deadlock, then succeeds', async () => {
    const log: string[] = [];
    const { pool, released } = fakePool(log);
    const fails = ['40001', '40P01'];
    let calls = 0;
    const out = await inTransaction(
      pool,
      async () => {
        calls++;
        const code = fails.shift();
        if (code) throw sqlError(code);
        return 'ok';
      },
      { baseDelayMs: 1 },
    );
    expect(out).toBe('ok');
    expect(calls).toBe(3);
    expect(log).toEqual(['BEGIN', 'ROLLBACK', 'BEGIN', 'ROLLBACK', 'BEGIN', 'COMMIT']);
    expect(released).toEqual([false, false, false]);
  });

  it('does not retry other errors, and gives up after the attempt limit', async () => {
    const log: string[] = [];
    const { pool } = fakePool(log);
    await expect(inTransaction(pool, async () => Promise.reject(sqlError('23505')))).rejects.toThrow(/23505/);
    expect(log).toEqual(['BEGIN', 'ROLLBACK']);
    let calls = 0;
    await expect(
      inTransaction(
        pool,
        async () => {
          calls++;
          throw sqlError('40001');
        },
        { attempts: 3, baseDelayMs: 1 },
      ),
    ).rejects.toThrow(/40001/);
    expect(calls).toBe(3);
    // Codes a caller adds are retried too (migrations: catalog races).
    let n = 0;
    await inTransaction(
      pool,
      async () => {
        if (n++ === 0) throw sqlError('42P07');
      },
      { alsoRetry: new Set(['42P07']), baseDelayMs: 1 },
    );
    expect(n).toBe(2);
  });

  it('a connection whose ROLLBACK fails is dropped from the pool, not reused', async () => {
    const { pool, released } = fakePool([], true);
    await expect(inTransaction(pool, async () => Promise.reject(new Error('ECONNRESET')))).rejects.toThrow(
      /ECONNRESET/,
    );
    expect(released).toEqual([true]);
  });
});
