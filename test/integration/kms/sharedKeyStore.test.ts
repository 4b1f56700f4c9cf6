/**
 * Two KMS "processes" (each its own database handle, pools and LISTEN
 * connection, as separate processes have) on one throwaway PostgreSQL: key
 * state transitions that race on one key (rotate, registration vs delete,
 * dual-auth delete vs cancel, disable/enable) lose no update, the shared feed has no
 * holes and reaches both, and no table holds a plaintext key or the master key.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { KeyStore } from '../../../src/kms/keyStore.js';
import { KmsService } from '../../../src/kms/kmsService.js';
import { PgKeyEvents } from '../../../src/kms/pgKeyEvents.js';
import type { FeedEvent } from '../../../src/kms/keyEvents.js';
import { PgKvDatabase, type PgJsonKv } from '../../../src/meta/kv/pgJsonKv.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

const HOUR = 3600_000;

interface Proc {
  db: PgKvDatabase;
  store: KeyStore;
  service: KmsService;
  close(): Promise<void>;
}

class Clock {
  t = Date.UTC(2025, 0, 1);
  now = () => this.t;
}

async function openProc(url: string, master: Buffer, clock: Clock, pollMs = 50): Promise<Proc> {
  const db = await PgKvDatabase.open(url);
  const store = await KeyStore.openOn(db.store('kms'), master, {
    feed: (kv) => new PgKeyEvents(kv as PgJsonKv, { pollMs }),
  });
  const service = new KmsService({ store, now: clock.now });
  return {
    db,
    store,
    service,
    async close() {
      await service.close();
      await db.close();
    },
  };
}

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

describe('one KMS store shared by two processes', () => {
  let url: string;
  let master: Buffer;
  let a: Proc;
  let b: Proc;
  const clock = new Clock();
  let instanceId: string;

  beforeAll(async () => {
    url = await server.createDatabase();
    master = randomBytes(32);
    [a, b] = await Promise.all([openProc(url, master, clock), openProc(url, master, clock)]);
    instanceId = (await a.service.createInstance({ account: 'acct', region: 'us-south' })).id;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('refuses another master key on the shared store', async () => {
    await expect(openProc(url, randomBytes(32), clock)).rejects.toThrow(/master key/i);
  });

  it('two rotations racing on one key: exactly one wins (one per hour), and the key has its two versions', async () => {
    for (let round = 0; round < 5; round++) {
      const key = await a.service.createKey(instanceId, { name: `rot-${round}` });
      clock.t += 2 * HOUR;
      const out = await Promise.allSettled([
        a.service.rotate(instanceId, key.id),
        b.service.rotate(instanceId, key.id),
      ]);
      expect(out.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(out.find((r) => r.status === 'rejected')).toMatchObject({ reason: { status: 409 } });
      const v = await b.service.listVersions(instanceId, key.id, { allKeyStates: true });
      expect(v.total).toBe(2);
    }
  });

  it('a registration racing a delete: never both (a deleted key with a live registration)', async () => {
    for (let round = 0; round < 5; round++) {
      const key = await a.service.createKey(instanceId, { name: `reg-${round}` });
      const crn = `crn:v1:bluemix:public:cloud-object-storage:global:a/acct:inst:bucket:b${round}`;
      const out = await Promise.allSettled([
        a.service.createRegistration(instanceId, key.id, crn),
        b.service.deleteKey(instanceId, key.id),
      ]);
      expect(out.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const regs = await a.store.listRegistrations(instanceId, key.id);
      const rec = await a.store.getKey(instanceId, key.id);
      expect(regs.length === 1).toBe(rec!.deletion === undefined);
    }
  });

  it('dual-auth: a second Manager’s delete racing a cancel of the authorization: never both', async () => {
    for (let round = 0; round < 5; round++) {
      const key = await a.service.createKey(instanceId, { name: `dual-${round}` });
      await a.service.setDualAuthDeletePolicy(instanceId, key.id, { enabled: true });
      await b.service.setKeyForDeletion(instanceId, key.id, 'alice');
      const [del, unset] = await Promise.allSettled([
        a.service.deleteKey(instanceId, key.id, { by: 'bob' }),
        b.service.unsetKeyForDeletion(instanceId, key.id),
      ]);
      const rec = await a.store.getKey(instanceId, key.id);
      // A cancel that read the key before the delete must not write it back to life.
      expect([del.status, unset.status].filter((x) => x === 'fulfilled')).toHaveLength(1);
      expect(rec!.deletion !== undefined).toBe(del.status === 'fulfilled');
    }
  });

  it('disables and enables from both sides: the final state is the last committed change, every event in the feed', async () => {
    const key = await a.service.createKey(instanceId, { name: 'flip' });
    const seenByB: FeedEvent[] = [];
    const off = b.store.events.subscribe((ev) => seenByB.push(ev));
    const start = a.store.events.lastSeq;
    for (let i = 0; i < 6; i++) {
      clock.t += HOUR;
      const p = i % 2 === 0 ? a : b;
      if (i % 2 === 0) await p.service.disable(instanceId, key.id);
      else await p.service.enable(instanceId, key.id);
    }
    // Both at once, twice: one disable wins, the other finds it disabled (409) or disables after an enable.
    clock.t += HOUR;
    await Promise.allSettled([a.service.disable(instanceId, key.id), b.service.disable(instanceId, key.id)]);
    const feed = await a.store.events.listAfter(start);
    const mine = feed.filter((e) => e.keyId === key.id);
    expect(mine.map((e) => e.type)).toEqual(['disable', 'enable', 'disable', 'enable', 'disable', 'enable', 'disable']);
    // Sequence numbers without holes, in commit order.
    expect(feed.map((e) => e.seq)).toEqual(feed.map((_, i) => start + 1 + i));
    const meta = await b.service.getKeyMetadata(instanceId, key.id);
    expect(meta.state).toBe(2);
    for (let i = 0; i < 100 && seenByB.filter((e) => e.keyId === key.id).length < 7; i++)
      await new Promise((r) => setTimeout(r, 20));
    off();
    expect(seenByB.filter((e) => e.keyId === key.id).map((e) => e.seq)).toEqual(mine.map((e) => e.seq));
  });

  it('NOTIFY carries an event to the other process without waiting for a poll', async () => {
    // A third process that polls once a minute: only the notification can bring the event in time.
    const c = await openProc(url, master, clock, 60_000);
    try {
      await c.db.listener.ready();
      const got: FeedEvent[] = [];
      c.store.events.subscribe((ev) => got.push(ev));
      const ev = await a.store.events.append({ type: 'authorization_revoked', at: 1, instanceId, account: 'y' });
      for (let i = 0; i < 200 && !got.some((e) => e.seq === ev.seq); i++) await new Promise((r) => setTimeout(r, 25));
      expect(got.map((e) => e.seq)).toContain(ev.seq);
    } finally {
      await c.close();
    }
  });

  it('an event’s deliveries (what webhooks send) go to the subscribers of the process that made the change only', async () => {
    const key = await a.service.createKey(instanceId, { name: 'with-reg' });
    await a.service.createRegistration(
      instanceId,
      key.id,
      'crn:v1:bluemix:public:databases-for-postgresql:us-south:a/acct:db1:deployment:x',
    );
    const seen: Record<'a' | 'b', Array<{ seq: number; deliveries: number }>> = { a: [], b: [] };
    const offs = (['a', 'b'] as const).map((n) =>
      (n === 'a' ? a : b).store.events.subscribe((ev, ds) => {
        if (ev.keyId === key.id) seen[n].push({ seq: ev.seq, deliveries: ds.length });
      }),
    );
    clock.t += HOUR;
    await b.service.disable(instanceId, key.id);
    for (let i = 0; i < 200 && (seen.a.length === 0 || seen.b.length === 0); i++)
      await new Promise((r) => setTimeout(r, 25));
    for (const off of offs) off();
    expect(seen.b).toEqual([{ seq: expect.any(Number), deliveries: 1 }]);
    expect(seen.a).toEqual([{ seq: seen.b[0]!.seq, deliveries: 0 }]);
    // The delivery itself is shared: both see it outstanding.
    expect(await a.service.outstandingEvents(instanceId, key.id)).toHaveLength(1);
  });

  it('feed appends racing from both processes get contiguous sequence numbers', async () => {
    const start = a.store.events.lastSeq;
    const evs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).store.events.append({ type: 'authorization_granted', at: i, instanceId, account: 'x' }),
      ),
    );
    const seqs = evs.map((e) => e.seq).sort((x, y) => x - y);
    expect(seqs[0]).toBeGreaterThan(start);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
  });

  it('no table holds an imported key in clear, nor the master key', async () => {
    const payload = randomBytes(32);
    const key = await a.service.createKey(instanceId, { name: 'imported', payload });
    const wrapped = await b.service.wrap(instanceId, key.id, {});
    expect(wrapped.ciphertext).toBeTruthy();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const tables = await c.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'`,
      );
      expect(tables.rows.map((r) => r.t)).toContain('coffer_kv');
      let rows = 0;
      const needles = [payload, master].flatMap((s) => [
        s,
        Buffer.from(s.toString('hex')),
        Buffer.from(s.toString('base64')),
      ]);
      for (const { t } of tables.rows) {
        const r = await c.query(`SELECT * FROM "${t}"`);
        for (const row of r.rows as Record<string, unknown>[]) {
          rows++;
          const bytes = Buffer.concat(
            Object.values(row).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v ?? '')))),
          );
          for (const n of needles) expect(bytes.includes(n)).toBe(false);
        }
      }
      expect(rows).toBeGreaterThan(10);
      // The scan can see a key: the sealed version is there (base64), it opens to the payload.
      const m = await b.store.openMaterial(instanceId, key.id, key.id);
      expect(m.equals(payload)).toBe(true);
    } finally {
      await c.end();
    }
  });
});
