/**
 * PgJsonKv against a real PostgreSQL (test/helpers/postgres.ts): the JsonKv
 * contract with two database handles (two processes) on one database, and the
 * change notices another process's write sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgKvDatabase } from '../../../../src/meta/kv/pgJsonKv.js';
import { jsonKvContract } from '../../../contract/jsonKv.contract.js';
import { startPostgres, type TestPostgres } from '../../../helpers/postgres.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

jsonKvContract('PgJsonKv', async () => {
  const url = await server.createDatabase();
  const [a, b] = [await PgKvDatabase.open(url), await PgKvDatabase.open(url)];
  return {
    kv: a.store('kms'),
    other: b.store('kms'),
    cleanup: async () => {
      await a.close();
      await b.close();
    },
  };
});

describe('PgJsonKv', () => {
  it('keeps stores apart, and tells the other processes which keys a write changed', async () => {
    const url = await server.createDatabase();
    const [a, b] = [await PgKvDatabase.open(url), await PgKvDatabase.open(url)];
    try {
      const seen: string[] = [];
      const own: string[] = [];
      b.store('iam', { notify: true }).watch((cs) => seen.push(...cs.map((c) => `${c.space}/${c.key}`)));
      a.store('iam', { notify: true }).watch((cs) => own.push(...cs.map((c) => `${c.space}/${c.key}`)));
      await b.listener.ready();
      await a.store('iam', { notify: true }).write([{ type: 'put', space: 's3key', key: 'AK1', value: { x: 1 } }]);
      expect(await b.store('kms').get('s3key', 'AK1')).toBeUndefined();
      expect(await b.store('iam').get('s3key', 'AK1')).toEqual({ x: 1 });
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual(['s3key/AK1']);
      // A process does not notify itself.
      expect(own).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('the LISTEN connection comes back after the server drops it, and notices flow again', async () => {
    const url = await server.createDatabase();
    const [a, b] = [await PgKvDatabase.open(url), await PgKvDatabase.open(url)];
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const seen: string[] = [];
      b.store('iam', { notify: true }).watch((cs) => seen.push(...cs.map((c) => c.key)));
      const writer = a.store('iam', { notify: true });
      const waitFor = async (check: () => boolean) => {
        for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
      };
      await b.listener.ready();
      await writer.write([{ type: 'put', space: 'acct', key: 'before', value: 1 }]);
      await waitFor(() => seen.includes('before'));
      expect(seen).toContain('before');
      // Drop every LISTEN connection (as a failover or an idle-connection killer would).
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      await waitFor(() => !b.listener.connected);
      await waitFor(() => b.listener.connected);
      expect(b.listener.connected).toBe(true);
      await writer.write([{ type: 'put', space: 'acct', key: 'after', value: 2 }]);
      await waitFor(() => seen.includes('after'));
      expect(seen).toContain('after');
    } finally {
      await admin.end();
      await a.close();
      await b.close();
    }
  });
});
