import { createDecipheriv, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeCiphertext, encodeCiphertext } from '../../../src/kms/kmsActions.js';
import { lpAll } from '../../../src/kms/lp.js';
import { openTestKms, type TestKms } from './kmsTestKit.js';

interface Doc {
  ciphertext: string;
  iv: string;
  version: string;
  handle: string;
}
const parse = (c: string): Doc => JSON.parse(Buffer.from(c, 'base64').toString('utf8')) as Doc;
const encode = (d: unknown): string => Buffer.from(JSON.stringify(d)).toString('base64');

describe('wrap / unwrap / rewrap', () => {
  let k: TestKms;
  let keyId: string;
  beforeEach(async () => {
    k = await openTestKms();
    keyId = (await k.service.createKey(k.instanceId, { name: 'actions' })).id;
  });
  afterEach(async () => k.close());

  it('produces the Key Protect ciphertext document: AES-256-GCM under the version material, lp-framed AAD', async () => {
    const material = randomBytes(32);
    const imp = await k.service.createKey(k.instanceId, { name: 'known', payload: material });
    const dek = randomBytes(32);
    const w = await k.service.wrap(k.instanceId, imp.id, { plaintext: dek, aad: ['ab', 'c'] });
    expect(w.plaintext).toBeUndefined();
    expect(w.keyVersion).toEqual({ id: imp.id });
    const doc = parse(w.ciphertext);
    expect(Object.keys(doc).sort()).toEqual(['ciphertext', 'handle', 'iv', 'version']);
    expect(doc.version).toBe('4.0.0');
    expect(doc.handle).toBe(imp.id);
    const iv = Buffer.from(doc.iv, 'base64');
    expect(iv).toHaveLength(12);
    const ct = Buffer.from(doc.ciphertext, 'base64');
    expect(ct).toHaveLength(32 + 16);
    const d = createDecipheriv('aes-256-gcm', material, iv);
    d.setAAD(lpAll(['ab', 'c']));
    d.setAuthTag(ct.subarray(32));
    expect(Buffer.concat([d.update(ct.subarray(0, 32)), d.final()]).equals(dek)).toBe(true);
  });

  it('generates a 32-byte DEK when no plaintext is given, and accepts a caller DEK', async () => {
    const gen = await k.service.wrap(k.instanceId, keyId);
    expect(gen.plaintext).toHaveLength(32);
    const mine = randomBytes(17);
    const w = await k.service.wrap(k.instanceId, keyId, { plaintext: mine });
    expect((await k.service.unwrap(k.instanceId, keyId, { ciphertext: w.ciphertext })).plaintext.equals(mine)).toBe(
      true,
    );
    expect(mine).toHaveLength(17); // the caller's buffer is untouched
    await expect(k.service.wrap(k.instanceId, keyId, { plaintext: Buffer.alloc(0) })).rejects.toMatchObject({
      status: 400,
      target: { name: 'plaintext' },
    });
    await expect(k.service.wrap(k.instanceId, keyId, { plaintext: Buffer.alloc(7501) })).rejects.toMatchObject({
      status: 400,
    });
  });

  it('treats an absent AAD as [] and distinguishes [] from [""]', async () => {
    const w = await k.service.wrap(k.instanceId, keyId);
    await k.service.unwrap(k.instanceId, keyId, { ciphertext: w.ciphertext, aad: [] });
    await expect(k.service.unwrap(k.instanceId, keyId, { ciphertext: w.ciphertext, aad: [''] })).rejects.toMatchObject({
      status: 422,
    });
  });

  it('limits AAD items to 255 characters', async () => {
    await k.service.wrap(k.instanceId, keyId, { aad: ['é'.repeat(255)] });
    await expect(k.service.wrap(k.instanceId, keyId, { aad: ['x'.repeat(256)] })).rejects.toMatchObject({
      status: 400,
      reason: 'INVALID_FIELD_ERR',
      target: { name: 'aad' },
    });
  });

  it('rejects malformed ciphertexts: 400 when not base64, 422 otherwise', async () => {
    const w = await k.service.wrap(k.instanceId, keyId, { aad: ['a'] });
    const doc = parse(w.ciphertext);
    const cases: Array<[string, number]> = [
      ['', 400],
      ['%%%', 400],
      [Buffer.from('not json').toString('base64'), 422],
      [encode({ ...doc, version: '3.0.0' }), 422],
      [encode({ ...doc, handle: 'other-version' }), 422],
      [encode({ ...doc, iv: randomBytes(16).toString('base64') }), 422],
      [encode({ ...doc, iv: randomBytes(12).toString('base64') }), 422],
      [encode({ ...doc, ciphertext: Buffer.alloc(8).toString('base64') }), 422],
      [encode([doc]), 422],
    ];
    for (const [ciphertext, status] of cases) {
      await expect(k.service.unwrap(k.instanceId, keyId, { ciphertext, aad: ['a'] })).rejects.toMatchObject({
        status,
        reason: status === 400 ? 'INVALID_FIELD_ERR' : 'UNPROCESSABLE_CIPHERTEXT_ERR',
      });
    }
  });

  it('unwrap reports the wrapping version and rewraps to the newest after rotation', async () => {
    const w1 = await k.service.wrap(k.instanceId, keyId, { aad: ['x'] });
    const r1 = await k.service.rotate(k.instanceId, keyId);
    k.clock.advance(3600_000);
    const r2 = await k.service.rotate(k.instanceId, keyId);
    const u = await k.service.unwrap(k.instanceId, keyId, { ciphertext: w1.ciphertext, aad: ['x'] });
    expect(u.keyVersion.id).toBe(keyId);
    expect(u.rewrappedKeyVersion?.id).toBe(r2.keyVersion.id);
    expect(parse(u.ciphertext!).handle).toBe(r2.keyVersion.id);
    const rw = await k.service.rewrap(k.instanceId, keyId, { ciphertext: w1.ciphertext, aad: ['x'] });
    expect(rw).toMatchObject({ keyVersion: { id: keyId }, rewrappedKeyVersion: { id: r2.keyVersion.id } });
    expect(r1.keyVersion.id).not.toBe(r2.keyVersion.id);
    const w2 = await k.service.wrap(k.instanceId, keyId);
    expect(w2.keyVersion.id).toBe(r2.keyVersion.id);
  });

  it('encode/decode are inverse', () => {
    const ct = randomBytes(48);
    const iv = randomBytes(12);
    const env = decodeCiphertext(encodeCiphertext(ct, iv, 'h-1'));
    expect(env.ct.equals(ct)).toBe(true);
    expect(env.iv.equals(iv)).toBe(true);
    expect(env.handle).toBe('h-1');
  });
});
