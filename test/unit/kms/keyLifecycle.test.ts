import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyState } from '../../../src/keys/KeyProvider.js';
import type { KmsEvent } from '../../../src/kms/kmsService.js';
import { openTestKms, type TestKms } from './kmsTestKit.js';

const S = 1000;
const H = 3600 * S;
const D = 24 * H;
const BUCKET = 'crn:v1:coffer:local:cloud-object-storage:global:a/acct-a:cos:bucket:b1';

describe('key lifecycle', () => {
  let k: TestKms;
  let events: KmsEvent[];
  beforeEach(async () => {
    k = await openTestKms();
    events = [];
    k.service.onEvent((e) => events.push(e));
  });
  afterEach(async () => k.close());

  const create = async (extra: Record<string, unknown> = {}) =>
    (await k.service.createKey(k.instanceId, { name: 'life', ...extra })).id;
  const state = async (id: string) => (await k.service.getKeyMetadata(k.instanceId, id)).state;

  it('rotate: new version, once per hour (409 KEY_ROTATION_NOT_PERMITTED), lastRotateDate set', async () => {
    const id = await create();
    const r = await k.service.rotate(k.instanceId, id);
    expect(r.keyVersion.id).not.toBe(id);
    expect(r.lastRotateDate).toBe(r.lastUpdateDate);
    k.clock.advance(H - 1);
    await expect(k.service.rotate(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'KEY_ROTATION_NOT_PERMITTED',
    });
    k.clock.advance(1);
    await k.service.rotate(k.instanceId, id);
    expect(events.filter((e) => e.type === 'rotate')).toHaveLength(2);
  });

  it('rotate of an imported key needs new material (400 KEY_PAYLOAD_REQ_ERR); a generated key refuses it', async () => {
    const imp = await create({ payload: randomBytes(32) });
    await expect(k.service.rotate(k.instanceId, imp)).rejects.toMatchObject({
      status: 400,
      reason: 'KEY_PAYLOAD_REQ_ERR',
      target: { name: 'payload' },
    });
    await expect(k.service.rotate(k.instanceId, imp, { payload: randomBytes(20) })).rejects.toMatchObject({
      status: 400,
      reason: 'INVALID_FIELD_ERR',
    });
    const w = await k.service.wrap(k.instanceId, imp, {});
    const r = await k.service.rotate(k.instanceId, imp, { payload: randomBytes(16) });
    expect(r.algorithmBitSize).toBe(128);
    const u = await k.service.unwrap(k.instanceId, imp, { ciphertext: w.ciphertext });
    expect(u.plaintext.equals(w.plaintext!)).toBe(true);
    expect(u.rewrappedKeyVersion?.id).toBe(r.keyVersion.id);
    const gen = await create();
    await expect(k.service.rotate(k.instanceId, gen, { payload: randomBytes(32) })).rejects.toMatchObject({
      status: 400,
    });
  });

  it('disable/enable: states, double disable 409, enable within 30 s 409 REQ_TOO_EARLY_ERR', async () => {
    const id = await create();
    await k.service.disable(k.instanceId, id);
    expect(await state(id)).toBe(KeyState.Suspended);
    await expect(k.service.disable(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
    });
    await expect(k.service.rotate(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
    });
    k.clock.advance(29 * S);
    await expect(k.service.enable(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'REQ_TOO_EARLY_ERR',
    });
    k.clock.advance(1 * S);
    await k.service.enable(k.instanceId, id);
    expect(await state(id)).toBe(KeyState.Active);
    await expect(k.service.enable(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
    });
    expect(events.map((e) => e.type)).toEqual(['disable', 'enable']);
  });

  it('expiry: Deactivated can unwrap/rewrap/rotate but not wrap (400 KEY_EXPIRED_ERR); a disabled key stays Suspended and cannot be enabled', async () => {
    const id = await create({ expirationDate: k.clock.t + D });
    const w = await k.service.wrap(k.instanceId, id, { aad: ['a'] });
    k.clock.advance(D);
    expect(await state(id)).toBe(KeyState.Deactivated);
    await expect(k.service.wrap(k.instanceId, id, {})).rejects.toMatchObject({
      status: 400,
      reason: 'KEY_EXPIRED_ERR',
    });
    expect(
      (await k.service.unwrap(k.instanceId, id, { ciphertext: w.ciphertext, aad: ['a'] })).plaintext.equals(
        w.plaintext!,
      ),
    ).toBe(true);
    await k.service.rotate(k.instanceId, id);
    expect(
      (await k.service.rewrap(k.instanceId, id, { ciphertext: w.ciphertext, aad: ['a'] })).rewrappedKeyVersion.id,
    ).not.toBe(id);
    await expect(k.service.disable(k.instanceId, id)).rejects.toMatchObject({ status: 409 });

    const id2 = await create({ expirationDate: k.clock.t + H });
    await k.service.disable(k.instanceId, id2);
    k.clock.advance(2 * H);
    expect(await state(id2)).toBe(KeyState.Suspended);
    await expect(k.service.unwrap(k.instanceId, id2, { ciphertext: w.ciphertext })).rejects.toMatchObject({
      status: 409,
    });
    await expect(k.service.enable(k.instanceId, id2)).rejects.toMatchObject({
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
    });
  });

  it('delete: 410 on a second delete; deletion fields; registrations still readable', async () => {
    const id = await create();
    await k.service.createRegistration(k.instanceId, id, BUCKET);
    const del = await k.service.deleteKey(k.instanceId, id, { force: true, by: 'mgr' });
    expect(del).toMatchObject({
      state: KeyState.Destroyed,
      deleted: true,
      deletedBy: 'mgr',
      restoreAllowed: true,
      purgeAllowed: false,
    });
    expect(Date.parse(del.purgeAllowedFrom!) - Date.parse(del.deletionDate!)).toBe(4 * H);
    expect(Date.parse(del.restoreExpirationDate!) - Date.parse(del.deletionDate!)).toBe(30 * D);
    expect(Date.parse(del.purgeScheduledOn!) - Date.parse(del.deletionDate!)).toBe(90 * D);
    await expect(k.service.deleteKey(k.instanceId, id, { force: true })).rejects.toMatchObject({
      status: 410,
      reason: 'KEY_DELETED_ERR',
    });
    await expect(k.service.disable(k.instanceId, id)).rejects.toMatchObject({ status: 410 });
    expect((await k.service.listRegistrations(k.instanceId, id)).total).toBe(1);
  });

  it('registrations block delete: 409 PROTECTED_RESOURCE_ERR, and PREV_KEY_DEL_ERR even with force', async () => {
    const id = await create();
    await k.service.createRegistration(k.instanceId, id, BUCKET, { preventKeyDeletion: false });
    await expect(k.service.deleteKey(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'PROTECTED_RESOURCE_ERR',
    });
    await k.service.createRegistration(k.instanceId, id, `${BUCKET}-worm`, { preventKeyDeletion: true });
    await expect(k.service.deleteKey(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'PROTECTED_RESOURCE_ERR',
    });
    await expect(k.service.deleteKey(k.instanceId, id, { force: true })).rejects.toMatchObject({
      status: 409,
      reason: 'PREV_KEY_DEL_ERR',
    });
    await k.service.deleteRegistration(k.instanceId, id, `${BUCKET}-worm`);
    await k.service.deleteKey(k.instanceId, id, { force: true });
    expect(await state(id)).toBe(KeyState.Destroyed);
  });

  it('restore: within 30 days only (400 KEY_RESTORE_EXPIRED), not within 30 s (409 REQ_TOO_EARLY_ERR), only Destroyed keys', async () => {
    const id = await create();
    await expect(k.service.restore(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
    });
    await k.service.deleteKey(k.instanceId, id);
    await expect(k.service.restore(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'REQ_TOO_EARLY_ERR',
    });
    k.clock.advance(30 * S);
    const r = await k.service.restore(k.instanceId, id);
    expect(r).toMatchObject({ state: KeyState.Active, deleted: false });
    expect(r.deletionDate).toBeUndefined();
    await k.service.deleteKey(k.instanceId, id);
    k.clock.advance(30 * D);
    await expect(k.service.restore(k.instanceId, id)).rejects.toMatchObject({
      status: 400,
      reason: 'KEY_RESTORE_EXPIRED',
    });
    expect(events.map((e) => e.type)).toEqual(['delete', 'restore', 'delete']);
  });

  it('restoring an expired key leaves it Deactivated', async () => {
    const id = await create({ expirationDate: k.clock.t + H });
    await k.service.deleteKey(k.instanceId, id);
    k.clock.advance(2 * H);
    await k.service.restore(k.instanceId, id);
    expect(await state(id)).toBe(KeyState.Deactivated);
  });

  it('purge: only 4 h after delete, then every call is 404', async () => {
    const id = await create({ aliases: ['purge-me'] });
    const w = await k.service.wrap(k.instanceId, id, {});
    await expect(k.service.purge(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'KEY_ACTION_INVALID_STATE_ERR',
    });
    await k.service.deleteKey(k.instanceId, id);
    k.clock.advance(4 * H - 1);
    await expect(k.service.purge(k.instanceId, id)).rejects.toMatchObject({ status: 409, reason: 'REQ_TOO_EARLY_ERR' });
    expect((await k.service.getKeyMetadata(k.instanceId, id)).purgeAllowed).toBe(false);
    k.clock.advance(1);
    expect((await k.service.getKeyMetadata(k.instanceId, id)).purgeAllowed).toBe(true);
    const gone = await k.service.purge(k.instanceId, id);
    expect(gone.id).toBe(id);
    const calls: Array<() => Promise<unknown>> = [
      () => k.service.getKeyMetadata(k.instanceId, id),
      () => k.service.getKey(k.instanceId, 'purge-me'),
      () => k.service.unwrap(k.instanceId, id, { ciphertext: w.ciphertext }),
      () => k.service.restore(k.instanceId, id),
      () => k.service.purge(k.instanceId, id),
      () => k.service.deleteKey(k.instanceId, id),
      () => k.service.listRegistrations(k.instanceId, id),
      () => k.service.listVersions(k.instanceId, id, { allKeyStates: true }),
    ];
    for (const call of calls) await expect(call()).rejects.toMatchObject({ status: 404, reason: 'KEY_NOT_FOUND_ERR' });
    expect((await k.service.listKeys(k.instanceId, { state: [0, 1, 2, 3, 4, 5] })).total).toBe(0);
    expect(events.at(-1)?.type).toBe('purge');
  });

  it('deleted keys are purged automatically after 90 days (on touch and by sweep)', async () => {
    const a = await create();
    const b = await create();
    await k.service.deleteKey(k.instanceId, a);
    await k.service.deleteKey(k.instanceId, b);
    k.clock.advance(90 * D - 1);
    expect(await state(a)).toBe(KeyState.Destroyed);
    k.clock.advance(1);
    expect((await k.service.listKeys(k.instanceId, { state: [5] })).total).toBe(0);
    await expect(k.service.getKeyMetadata(k.instanceId, a)).rejects.toMatchObject({ status: 404 });
    expect(await k.service.sweep()).toEqual({ purged: 1, rotated: 0 });
    expect(await k.store.getKey(k.instanceId, b)).toBeUndefined();
  });

  it('sweep rotates generated root keys whose rotation policy is due', async () => {
    const id = await create();
    const imp = await create({ payload: randomBytes(32) });
    await k.service.setRotationPolicy(k.instanceId, id, { intervalMonth: 1 });
    await k.service.setRotationPolicy(k.instanceId, imp, { intervalMonth: 1 });
    expect((await k.service.sweep()).rotated).toBe(0);
    k.clock.advance(32 * D);
    expect((await k.service.sweep()).rotated).toBe(1);
    expect((await k.service.listVersions(k.instanceId, id)).total).toBe(2);
    expect((await k.service.listVersions(k.instanceId, imp)).total).toBe(1);
    expect((await k.service.sweep()).rotated).toBe(0);
    const expiring = await create({ expirationDate: k.clock.t + 2 * D });
    await k.service.setRotationPolicy(k.instanceId, expiring, { intervalMonth: 1 });
    k.clock.advance(40 * D);
    expect((await k.service.sweep()).rotated).toBe(1); // `id` again, not the expired key
    expect((await k.service.listVersions(k.instanceId, expiring)).total).toBe(1);
  });

  it('dual-auth delete: needs a second, different person within 7 days', async () => {
    const id = await create();
    await expect(k.service.setKeyForDeletion(k.instanceId, id, 'alice')).rejects.toMatchObject({
      status: 409,
      reason: 'NOT_DUAL_AUTH_ERR',
    });
    await expect(k.service.unsetKeyForDeletion(k.instanceId, id)).rejects.toMatchObject({
      status: 409,
      reason: 'NOT_DUAL_AUTH_ERR',
    });
    await k.service.setDualAuthDeletePolicy(k.instanceId, id, { enabled: true });
    await expect(k.service.deleteKey(k.instanceId, id, { by: 'bob' })).rejects.toMatchObject({
      status: 409,
      reason: 'AUTHORIZATIONS_NOT_MET',
    });
    await k.service.setKeyForDeletion(k.instanceId, id, 'alice');
    expect((await k.service.getKeyMetadata(k.instanceId, id)).dualAuthDelete).toMatchObject({
      enabled: true,
      keySetForDeletion: true,
    });
    await expect(k.service.deleteKey(k.instanceId, id, { by: 'alice' })).rejects.toMatchObject({
      reason: 'AUTHORIZATIONS_NOT_MET',
    });
    await k.service.unsetKeyForDeletion(k.instanceId, id);
    await expect(k.service.deleteKey(k.instanceId, id, { by: 'bob' })).rejects.toMatchObject({
      reason: 'AUTHORIZATIONS_NOT_MET',
    });
    await k.service.setKeyForDeletion(k.instanceId, id, 'alice');
    k.clock.advance(7 * D);
    await expect(k.service.deleteKey(k.instanceId, id, { by: 'bob' })).rejects.toMatchObject({
      reason: 'AUTHORIZATIONS_NOT_MET',
    });
    await k.service.setKeyForDeletion(k.instanceId, id, 'alice');
    await k.service.deleteKey(k.instanceId, id, { by: 'bob' });
    expect(await state(id)).toBe(KeyState.Destroyed);
  });

  it('sync re-sends the last lifecycle event, at most hourly', async () => {
    const id = await create();
    await k.service.disable(k.instanceId, id);
    await expect(k.service.sync(k.instanceId, id)).rejects.toMatchObject({ status: 409, reason: 'REQ_TOO_EARLY_ERR' });
    k.clock.advance(H);
    events.length = 0;
    await k.service.sync(k.instanceId, id);
    expect(events.map((e) => e.type)).toEqual(['disable']);
    await expect(k.service.sync(k.instanceId, id)).rejects.toMatchObject({ status: 409 });
  });

  it('serialises concurrent rotations: exactly one wins', async () => {
    const id = await create();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => k.service.rotate(k.instanceId, id)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await k.service.listVersions(k.instanceId, id)).total).toBe(2);
  });

  it('a failing event listener does not fail the action', async () => {
    k.service.onEvent(() => {
      throw new Error('listener bug');
    });
    const id = await create();
    await k.service.disable(k.instanceId, id);
    expect(await state(id)).toBe(KeyState.Suspended);
  });
});
