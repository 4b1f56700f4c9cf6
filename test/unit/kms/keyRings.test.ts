import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyState } from '../../../src/keys/KeyProvider.js';
import { InstanceStateStore } from '../../../src/kms/instanceState.js';
import { KeyRings, MAX_KEY_RINGS } from '../../../src/kms/keyRings.js';
import type { InstanceRecord } from '../../../src/kms/records.js';
import { openTestKms, type TestKms } from './kmsTestKit.js';

let k: TestKms;
let state: InstanceStateStore;
let rings: KeyRings;
let inst: InstanceRecord;

beforeEach(async () => {
  k = await openTestKms();
  state = await InstanceStateStore.open(join(k.dir, 'kms-instance'));
  rings = new KeyRings(state, k.service, k.clock.now);
  inst = await k.service.getInstance(k.instanceId);
});

afterEach(async () => {
  await state.close();
  await k.close();
});

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { status: number; reason: string }) => `${e.status} ${e.reason}`,
  );

describe('KeyRings', () => {
  it('lists default first, creates once, and refuses a second ring of the same id', async () => {
    expect(rings.list(inst).map((r) => r.id)).toEqual(['default']);
    const rec = await rings.create(inst, 'ring-a', 'user-1');
    expect(rec).toMatchObject({ instanceId: inst.id, id: 'ring-a', createdBy: 'user-1', creationDate: k.clock.now() });
    expect(rings.list(inst).map((r) => r.id)).toEqual(['default', 'ring-a']);
    expect(await code(rings.create(inst, 'ring-a', 'user-1'))).toBe('409 KEY_RING_EXISTS_ERR');
    expect(await code(rings.create(inst, 'default', 'user-1'))).toBe('409 KEY_RING_EXISTS_ERR');
  });

  it(`holds at most ${MAX_KEY_RINGS} rings, default included`, async () => {
    for (let i = 1; i < MAX_KEY_RINGS; i++) await rings.create(inst, `ring-${i}`, 'u');
    expect(await code(rings.create(inst, 'one-more', 'u'))).toBe('409 FEATURE_RESTRICTED_ERR');
  });

  it('moves keys only to rings that exist, and scopes a key to its ring', async () => {
    await rings.create(inst, 'ring-a', 'u');
    const key = await k.service.createKey(inst.id, { name: 'k1' });
    expect(() => rings.assertExists(inst.id, 'nope')).toThrow(
      expect.objectContaining({ status: 404, reason: 'KEY_RING_NOT_FOUND_ERR' }),
    );
    expect(await code(rings.moveKey(inst.id, key.id, 'nope'))).toBe('404 KEY_RING_NOT_FOUND_ERR');
    await rings.moveKey(inst.id, key.id, 'ring-a');
    expect((await k.service.getKeyMetadata(inst.id, key.id)).keyRingID).toBe('ring-a');
    expect(await code(rings.assertKeyInRing(inst.id, key.id, 'ring-a'))).toBe('ok');
    expect(await code(rings.assertKeyInRing(inst.id, key.id, 'default'))).toBe('404 KEY_NOT_FOUND_ERR');
  });

  it('deletes only empty rings; force moves Destroyed keys to default first; default stays', async () => {
    expect(await code(rings.delete(inst, 'default', true))).toBe('409 FEATURE_RESTRICTED_ERR');
    expect(await code(rings.delete(inst, 'nope', false))).toBe('404 KEY_RING_NOT_FOUND_ERR');
    await rings.create(inst, 'ring-a', 'u');
    const key = await k.service.createKey(inst.id, { name: 'k1', keyRingID: 'ring-a' });
    expect(await code(rings.delete(inst, 'ring-a', true))).toBe('409 KEY_RING_NOT_EMPTY_ERR');
    await k.service.deleteKey(inst.id, key.id);
    expect((await k.service.getKeyMetadata(inst.id, key.id)).state).toBe(KeyState.Destroyed);
    expect(await code(rings.delete(inst, 'ring-a', false))).toBe('409 KEY_RING_NOT_EMPTY_ERR');
    await rings.delete(inst, 'ring-a', true);
    expect(rings.list(inst).map((r) => r.id)).toEqual(['default']);
    expect((await k.service.store.getKey(inst.id, key.id))?.keyRingID).toBe('default');
  });
});
