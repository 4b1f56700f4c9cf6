import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyState } from '../../../src/keys/KeyProvider.js';
import { openTestKms, type TestKms } from './kmsTestKit.js';

describe('KmsService: instances and keys', () => {
  let k: TestKms;
  beforeEach(async () => {
    k = await openTestKms();
  });
  afterEach(async () => k.close());

  it('creates a root key with Key Protect metadata; the first version id is the key id', async () => {
    const key = await k.service.createKey(
      k.instanceId,
      { name: 'root-1', description: 'd', aliases: ['r1'] },
      'user-1',
    );
    expect(key).toMatchObject({
      type: 'application/vnd.ibm.kms.key+json',
      name: 'root-1',
      description: 'd',
      aliases: ['r1'],
      keyRingID: 'default',
      state: KeyState.Active,
      extractable: false,
      imported: false,
      createdBy: 'user-1',
      deleted: false,
      algorithmType: 'AES',
      algorithmBitSize: 256,
      algorithmMetadata: { bitLength: '256', mode: 'CBC_PAD' },
      dualAuthDelete: { enabled: false },
    });
    expect(key.keyVersion.id).toBe(key.id);
    expect(key.crn).toBe(`crn:v1:coffer:local:kms:us-south:a/${k.account}:${k.instanceId}:key:${key.id}`);
    expect(key.creationDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(key.payload).toBeUndefined();
  });

  it('imports root material of 16, 24 or 32 bytes only', async () => {
    for (const n of [16, 24, 32]) {
      const key = await k.service.createKey(k.instanceId, { name: `imp-${n}`, payload: randomBytes(n) });
      expect(key).toMatchObject({ imported: true, algorithmBitSize: n * 8 });
      const w = await k.service.wrap(k.instanceId, key.id, {});
      const u = await k.service.unwrap(k.instanceId, key.id, { ciphertext: w.ciphertext });
      expect(u.plaintext.equals(w.plaintext!)).toBe(true);
    }
    for (const n of [0, 15, 31, 33, 64]) {
      await expect(k.service.createKey(k.instanceId, { name: 'bad', payload: randomBytes(n) })).rejects.toMatchObject({
        status: 400,
        reason: 'INVALID_FIELD_ERR',
        target: { type: 'field', name: 'payload' },
      });
    }
  });

  it('standard keys: payload only from getKey, up to 7,500 bytes; not usable to wrap (400 KEY_ROOT_REQ_ERR)', async () => {
    const material = randomBytes(7500);
    const std = await k.service.createKey(k.instanceId, { name: 'std', extractable: true, payload: material });
    expect((await k.service.getKey(k.instanceId, std.id)).payload).toBe(material.toString('base64'));
    expect((await k.service.getKeyMetadata(k.instanceId, std.id)).payload).toBeUndefined();
    expect((await k.service.listKeys(k.instanceId)).keys.every((x) => x.payload === undefined)).toBe(true);
    await expect(
      k.service.createKey(k.instanceId, { name: 'big', extractable: true, payload: randomBytes(7501) }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(k.service.wrap(k.instanceId, std.id, {})).rejects.toMatchObject({
      status: 400,
      reason: 'KEY_ROOT_REQ_ERR',
    });
    await expect(k.service.rotate(k.instanceId, std.id)).rejects.toMatchObject({
      status: 400,
      reason: 'KEY_ROOT_REQ_ERR',
    });
    await expect(k.service.disable(k.instanceId, std.id)).rejects.toMatchObject({
      status: 400,
      reason: 'KEY_ROOT_REQ_ERR',
    });
    const gen = await k.service.getKey(
      k.instanceId,
      (await k.service.createKey(k.instanceId, { name: 'std2', extractable: true })).id,
    );
    expect(Buffer.from(gen.payload ?? '', 'base64')).toHaveLength(32);
  });

  it('validates names, descriptions, aliases, key rings and expiration', async () => {
    const bad: Array<Record<string, unknown>> = [
      { name: 'x' },
      { name: 'n'.repeat(91) },
      { name: 'ok-name', description: 'd'.repeat(241) },
      { name: 'ok-name', aliases: ['a'] },
      { name: 'ok-name', aliases: ['has space'] },
      { name: 'ok-name', aliases: ['wrap'] },
      { name: 'ok-name', aliases: ['0b5d8a5e-6f3b-4c1a-9f7e-0123456789ab'] },
      { name: 'ok-name', aliases: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'] },
      { name: 'ok-name', aliases: ['dup', 'dup'] },
      { name: 'ok-name', keyRingID: 'bad ring' },
      { name: 'ok-name', expirationDate: '2000-01-01T00:00:00Z' },
      { name: 'ok-name', expirationDate: 'tomorrow' },
    ];
    for (const input of bad) {
      await expect(k.service.createKey(k.instanceId, input as { name: string })).rejects.toMatchObject({
        status: 400,
        reason: 'INVALID_FIELD_ERR',
      });
    }
  });

  it('aliases are unique per instance and resolve like ids', async () => {
    const a = await k.service.createKey(k.instanceId, { name: 'aaa', aliases: ['shared'] });
    await expect(k.service.createKey(k.instanceId, { name: 'bbb', aliases: ['shared'] })).rejects.toMatchObject({
      status: 400,
    });
    expect((await k.service.getKeyMetadata(k.instanceId, 'shared')).id).toBe(a.id);
    const alias = await k.service.createAlias(k.instanceId, a.id, 'second');
    expect(alias).toMatchObject({ keyId: a.id, alias: 'second' });
    expect((await k.service.getKeyMetadata(k.instanceId, 'second')).aliases).toEqual(['shared', 'second']);
    await k.service.deleteAlias(k.instanceId, 'shared', 'shared');
    await expect(k.service.getKeyMetadata(k.instanceId, 'shared')).rejects.toMatchObject({ status: 404 });
    const b = await k.service.createKey(k.instanceId, { name: 'bbb', aliases: ['shared'] });
    expect((await k.service.getKeyMetadata(k.instanceId, 'shared')).id).toBe(b.id);
    await expect(k.service.deleteAlias(k.instanceId, b.id, 'nope')).rejects.toMatchObject({ status: 404 });
  });

  it('keys of another instance are not found', async () => {
    const other = await k.service.createInstance({ account: 'acct-b', region: 'us-south' });
    const key = await k.service.createKey(k.instanceId, { name: 'mine' });
    await expect(k.service.getKeyMetadata(other.id, key.id)).rejects.toMatchObject({
      status: 404,
      reason: 'KEY_NOT_FOUND_ERR',
    });
    await expect(k.service.wrap(other.id, key.id)).rejects.toMatchObject({ status: 404 });
    await expect(k.service.getKeyMetadata('no-such-instance', key.id)).rejects.toMatchObject({ status: 404 });
    await expect(k.service.createInstance({ account: 'x', region: 'us-south', id: other.id })).rejects.toMatchObject({
      status: 400,
    });
    await expect(k.service.createInstance({ account: 'a:b', region: 'us-south' })).rejects.toMatchObject({
      status: 400,
    });
    expect((await k.service.listInstances('acct-b')).map((i) => i.id)).toEqual([other.id]);
  });

  it('lists keys with paging, state, extractable and search filters', async () => {
    for (let i = 0; i < 5; i++) {
      k.clock.advance(1000);
      await k.service.createKey(k.instanceId, { name: `root-${i}`, aliases: [`alias-${i}`] });
    }
    k.clock.advance(1000);
    const std = await k.service.createKey(k.instanceId, { name: 'standard-one', extractable: true });
    const all = await k.service.listKeys(k.instanceId);
    expect(all.total).toBe(6);
    expect(all.keys.map((x) => x.name)).toEqual(['root-0', 'root-1', 'root-2', 'root-3', 'root-4', 'standard-one']);
    const page = await k.service.listKeys(k.instanceId, { limit: 2, offset: 2 });
    expect(page.keys.map((x) => x.name)).toEqual(['root-2', 'root-3']);
    expect(page.total).toBe(6);
    expect((await k.service.listKeys(k.instanceId, { extractable: true })).keys.map((x) => x.id)).toEqual([std.id]);
    expect((await k.service.listKeys(k.instanceId, { extractable: false })).total).toBe(5);
    expect((await k.service.listKeys(k.instanceId, { search: 'ROOT-3' })).keys.map((x) => x.name)).toEqual(['root-3']);
    expect((await k.service.listKeys(k.instanceId, { search: 'alias:alias-1' })).keys.map((x) => x.name)).toEqual([
      'root-1',
    ]);
    expect((await k.service.listKeys(k.instanceId, { search: 'not:root' })).keys.map((x) => x.name)).toEqual([
      'standard-one',
    ]);
    expect((await k.service.listKeys(k.instanceId, { sort: '-creationDate', limit: 1 })).keys[0]?.name).toBe(
      'standard-one',
    );

    const root0 = all.keys[0]!;
    await k.service.deleteKey(k.instanceId, root0.id);
    expect((await k.service.listKeys(k.instanceId)).total).toBe(5);
    expect((await k.service.listKeys(k.instanceId, { state: [5] })).keys.map((x) => x.id)).toEqual([root0.id]);
    expect((await k.service.listKeys(k.instanceId, { state: [1, 5] })).total).toBe(6);

    await expect(k.service.listKeys(k.instanceId, { limit: 5001 })).rejects.toMatchObject({
      status: 400,
      target: { type: 'query_param', name: 'limit' },
    });
    await expect(k.service.listKeys(k.instanceId, { limit: 0 })).rejects.toMatchObject({ status: 400 });
    await expect(k.service.listKeys(k.instanceId, { state: [6] })).rejects.toMatchObject({ status: 400 });
    await expect(k.service.listKeys(k.instanceId, { sort: 'name' })).rejects.toMatchObject({ status: 400 });
  });

  it('lists versions newest first', async () => {
    const key = await k.service.createKey(k.instanceId, { name: 'versioned' });
    await k.service.rotate(k.instanceId, key.id);
    k.clock.advance(3600_000);
    const r2 = await k.service.rotate(k.instanceId, key.id);
    const v = await k.service.listVersions(k.instanceId, key.id);
    expect(v.total).toBe(3);
    expect(v.versions[0]?.id).toBe(r2.keyVersion.id);
    expect(v.versions[2]?.id).toBe(key.id);
    expect((await k.service.listVersions(k.instanceId, key.id, { limit: 1, offset: 1 })).versions).toHaveLength(1);
    await k.service.deleteKey(k.instanceId, key.id);
    await expect(k.service.listVersions(k.instanceId, key.id)).rejects.toMatchObject({ status: 410 });
    expect((await k.service.listVersions(k.instanceId, key.id, { allKeyStates: true })).total).toBe(3);
  });

  it('keeps rotation and dual-auth policies', async () => {
    const key = await k.service.createKey(k.instanceId, { name: 'policy' });
    expect(await k.service.getPolicies(k.instanceId, key.id)).toEqual([]);
    const p = await k.service.setRotationPolicy(k.instanceId, key.id, { intervalMonth: 3 }, 'admin');
    expect(p).toEqual([
      expect.objectContaining({
        type: 'application/vnd.ibm.kms.policy+json',
        rotation: { enabled: true, interval_month: 3 },
        createdBy: 'admin',
      }),
    ]);
    await expect(k.service.setRotationPolicy(k.instanceId, key.id, { intervalMonth: 13 })).rejects.toMatchObject({
      status: 400,
    });
    await expect(k.service.setRotationPolicy(k.instanceId, key.id, { intervalMonth: 0 })).rejects.toMatchObject({
      status: 400,
    });
    await k.service.setDualAuthDeletePolicy(k.instanceId, key.id, { enabled: true });
    const meta = await k.service.getKeyMetadata(k.instanceId, key.id);
    expect(meta.rotation).toEqual({ enabled: true, interval_month: 3 });
    expect(meta.dualAuthDelete).toEqual({ enabled: true, keySetForDeletion: false });
  });
});
