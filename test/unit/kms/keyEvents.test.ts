/**
 * The key event feed in the key store (keyEventStore.ts): sequence numbers in
 * commit order under concurrent appends, listeners called in that order after
 * each write, replay after a sequence, trimming, persistence across a reopen;
 * the adopter bookkeeping (one delivery per registration, acknowledged once);
 * and the lifecycle changes that append (in their own batch).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatBucketCrn } from '../../../src/keys/crn.js';
import { LevelKeyEvents } from '../../../src/kms/keyEventStore.js';
import type { FeedEvent } from '../../../src/kms/keyEvents.js';
import { KeyStore } from '../../../src/kms/keyStore.js';
import { openTestKms, tempDir, type TestKms } from './kmsTestKit.js';

const HOUR = 3600_000;
let kms: TestKms | undefined;
afterEach(async () => {
  await kms?.close();
  kms = undefined;
});

function bucketCrn(account: string, name: string): string {
  return formatBucketCrn({ account, instance: 'coffer-s3', bucket: name });
}

describe('the feed', () => {
  it('concurrent appends get strictly increasing sequence numbers; listeners see them in that order, each already readable', async () => {
    kms = await openTestKms();
    const feed = kms.store.events;
    const seen: number[] = [];
    const readable: boolean[] = [];
    feed.subscribe((ev) => {
      seen.push(ev.seq);
      void feed.listAfter(ev.seq - 1, 1).then((l) => readable.push(l[0]?.seq === ev.seq));
    });
    const start = feed.lastSeq;
    const appended = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        feed.append({ type: 'authorization_granted', at: i, instanceId: kms!.instanceId, account: `a${i}` }),
      ),
    );
    const seqs = appended.map((e) => e.seq);
    expect(new Set(seqs).size).toBe(20);
    expect(seen).toEqual([...seqs].sort((a, b) => a - b));
    expect(seen[0]).toBe(start + 1);
    expect(feed.lastSeq).toBe(start + 20);
    const after = await feed.listAfter(start + 15);
    expect(after.map((e) => e.seq)).toEqual([start + 16, start + 17, start + 18, start + 19, start + 20]);
    await new Promise((r) => setImmediate(r));
    expect(readable.every(Boolean)).toBe(true);
  });

  it('keeps only the newest `retain` events; firstSeq moves; the sequence survives a reopen', async () => {
    const tmp = await tempDir();
    try {
      const dir = join(tmp.dir, 'keys');
      let store = await KeyStore.open(dir, Buffer.alloc(32, 1));
      // A small feed over the same database, to see trimming without 10 000 appends.
      const small = new LevelKeyEvents(store.records, 3);
      await small.load();
      for (let i = 0; i < 5; i++) await small.append({ type: 'disable', at: i, instanceId: 'i', keyId: 'k' });
      expect(small.lastSeq).toBe(5);
      expect(small.firstSeq).toBe(3);
      expect((await small.listAfter(0)).map((e) => e.seq)).toEqual([3, 4, 5]);
      await store.close();
      store = await KeyStore.open(dir, Buffer.alloc(32, 1));
      expect(store.events.lastSeq).toBe(5);
      expect(store.events.firstSeq).toBe(3);
      const next = await store.events.append({ type: 'enable', at: 9, instanceId: 'i', keyId: 'k' });
      expect(next.seq).toBe(6);
      await store.close();
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('lifecycle changes and adopter bookkeeping', () => {
  async function registeredKey(crns: string[]) {
    const key = await kms!.service.createKey(kms!.instanceId, { name: 'evented' });
    for (const c of crns) await kms!.service.createRegistration(kms!.instanceId, key.id, c);
    return key;
  }

  it('a disable appends one event and one outstanding delivery per registration, in its batch', async () => {
    kms = await openTestKms();
    const regs = [bucketCrn(kms.account, 'b1'), bucketCrn(kms.account, 'b2')];
    const key = await registeredKey(regs);
    const events: Array<{ ev: FeedEvent; n: number }> = [];
    kms.store.events.subscribe((ev, ds) => events.push({ ev, n: ds.length }));
    await kms.service.disable(kms.instanceId, key.id);
    expect(events.map((e) => [e.ev.type, e.ev.keyId, e.n])).toEqual([['disable', key.id, 2]]);
    expect(events[0]!.ev.keyCrn).toBe(key.crn);
    const out = await kms.service.outstandingEvents(kms.instanceId, key.id);
    expect(out.map((d) => d.resourceCrn).sort()).toEqual([...regs].sort());
    expect(new Set(out.map((d) => d.eventId)).size).toBe(2);
    expect(out.every((d) => d.type === 'disable' && d.seq === events[0]!.ev.seq)).toBe(true);
  });

  it('a key without registrations still feeds gateways, but nothing is outstanding', async () => {
    kms = await openTestKms();
    const key = await registeredKey([]);
    const before = kms.store.events.lastSeq;
    await kms.service.rotate(kms.instanceId, key.id);
    expect(kms.store.events.lastSeq).toBe(before + 1);
    expect(await kms.service.outstandingEvents(kms.instanceId, key.id)).toEqual([]);
  });

  it('event_ack clears one delivery (once; unknown or another instance: 404); deleteRegistration drops the registration', async () => {
    kms = await openTestKms();
    const [r1, r2] = [bucketCrn(kms.account, 'a1'), bucketCrn(kms.account, 'a2')];
    const key = await registeredKey([r1, r2]);
    await kms.service.disable(kms.instanceId, key.id);
    const [d1, d2] = await kms.service.outstandingEvents(kms.instanceId, key.id);
    const other = await kms.service.createInstance({ account: 'acct-b', region: 'us-south' });
    await expect(kms.service.acknowledgeEvent(other.id, d1!.eventId)).rejects.toMatchObject({
      reason: 'NOT_FOUND_ERR',
    });
    await kms.service.acknowledgeEvent(kms.instanceId, d1!.eventId);
    expect((await kms.service.outstandingEvents(kms.instanceId, key.id)).map((d) => d.eventId)).toEqual([d2!.eventId]);
    await expect(kms.service.acknowledgeEvent(kms.instanceId, d1!.eventId)).rejects.toMatchObject({
      status: 404,
    });
    await kms.service.acknowledgeEvent(kms.instanceId, d2!.eventId, { deleteRegistration: true });
    const left = (await kms.service.listRegistrations(kms.instanceId, key.id)).registrations.map((r) => r.resourceCrn);
    expect(left).toEqual([d1!.resourceCrn]);
    expect(await kms.service.outstandingEvents(kms.instanceId, key.id)).toEqual([]);
  });

  it('sync re-appends the last event (resent) without new deliveries; delete and purge append too', async () => {
    kms = await openTestKms();
    const key = await registeredKey([bucketCrn(kms.account, 's1')]);
    await kms.service.disable(kms.instanceId, key.id);
    kms.clock.advance(2 * HOUR);
    const seen: Array<[string, boolean, number]> = [];
    kms.store.events.subscribe((ev, ds) => seen.push([ev.type, ev.resent === true, ds.length]));
    await kms.service.sync(kms.instanceId, key.id);
    await kms.service.deleteKey(kms.instanceId, key.id, { force: true });
    kms.clock.advance(5 * HOUR);
    await kms.service.purge(kms.instanceId, key.id);
    expect(seen).toEqual([
      ['disable', true, 0],
      ['delete', false, 1],
      ['purge', false, 1],
    ]);
    // The purge told the registration it dropped; what is outstanding stays until acknowledged.
    expect(await kms.service.listRegistrations(kms.instanceId, undefined)).toMatchObject({ total: 0 });
    expect((await kms.store.events.listOutstanding(kms.instanceId, key.id)).map((d) => d.type)).toEqual([
      'disable',
      'delete',
      'purge',
    ]);
  });
});
