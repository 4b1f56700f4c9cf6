/**
 * KeyProvider.wrapDataKey (LocalKeyProvider): wrap a DEK the gateway already
 * holds under another root key, as PutBucketEncryption needs to move a bucket
 * to a new root key without re-encrypting its objects.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { KmsError } from '../../../src/keys/errors.js';
import { openTestKms, type TestKms } from './kmsTestKit.js';

const AAD = ['coffer:bucket', 'uid-1'];

describe('LocalKeyProvider.wrapDataKey', () => {
  let k: TestKms | undefined;
  afterEach(async () => {
    await k?.close();
    k = undefined;
  });

  it('wraps the given DEK under the named key: unwrap gives the same bytes and version', async () => {
    k = await openTestKms();
    const me = { tenant: k.account };
    const crn = (await k.service.createKey(k.instanceId, { name: 'target' })).crn;
    const dek = randomBytes(32);
    const w = await k.provider.wrapDataKey!(me, crn, dek, AAD);
    expect(typeof w.wrapped).toBe('string');
    expect(w.keyVersion).toBeTruthy();
    const u = await k.provider.unwrap(me, crn, w.wrapped, AAD);
    expect(u.plaintext.equals(dek)).toBe(true);
    expect(u.keyVersion).toBe(w.keyVersion);
    // The AAD is bound.
    await expect(k.provider.unwrap(me, crn, w.wrapped, ['coffer:bucket', 'other'])).rejects.toBeInstanceOf(KmsError);
  });

  it('moves a DEK from one root key to another (unwrap under A, wrap under B)', async () => {
    k = await openTestKms();
    const me = { tenant: k.account };
    const a = (await k.service.createKey(k.instanceId, { name: 'key-a' })).crn;
    const b = (await k.service.createKey(k.instanceId, { name: 'key-b' })).crn;
    const g = await k.provider.generateDataKey(me, a, AAD);
    const moved = await k.provider.wrapDataKey!(me, b, (await k.provider.unwrap(me, a, g.wrapped, AAD)).plaintext, AAD);
    expect((await k.provider.unwrap(me, b, moved.wrapped, AAD)).plaintext.equals(g.plaintext)).toBe(true);
    // The old ciphertext is not a ciphertext of B.
    await expect(k.provider.unwrap(me, b, g.wrapped, AAD)).rejects.toBeInstanceOf(KmsError);
  });

  it('refuses a key the tenant may not use, as "not found", and a disabled key', async () => {
    k = await openTestKms();
    const crn = (await k.service.createKey(k.instanceId, { name: 'mine' })).crn;
    const e = await k.provider.wrapDataKey!({ tenant: 'someone-else' }, crn, randomBytes(32), AAD).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(KmsError);
    expect((e as KmsError).status).toBe(404);
    await k.service.disable(k.instanceId, crn.split(':')[9] ?? '');
    const d = await k.provider.wrapDataKey!({ tenant: k.account }, crn, randomBytes(32), AAD).catch((x: unknown) => x);
    expect(d).toBeInstanceOf(KmsError);
    expect((d as KmsError).status).not.toBe(200);
  });
});
