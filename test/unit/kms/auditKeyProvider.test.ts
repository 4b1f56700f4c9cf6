/** src/kms/auditKeyProvider.ts: each gateway call audited, and answered only once its entry is durable. */
import { describe, expect, it } from 'vitest';
import { KmsError } from '../../../src/keys/errors.js';
import type { KeyProvider } from '../../../src/keys/KeyProvider.js';
import type { AuditInput } from '../../../src/kms/auditEntry.js';
import { AuditingKeyProvider } from '../../../src/kms/auditKeyProvider.js';

const crn = 'crn:v1:coffer:local:kms:r:a/acct:inst-1:key:key-1';

function inner(dek: Buffer): KeyProvider {
  return {
    defaultRootKeyCrn: async () => crn,
    generateDataKey: async () => ({ plaintext: dek, wrapped: 'w', keyVersion: 'v2' }),
    unwrap: async () => {
      throw new KmsError('KEY_DELETED_ERR', 'deleted');
    },
    rewrap: async () => ({ wrapped: 'w2', keyVersion: 'v3' }),
    getKeyState: async () => 1,
    register: async () => undefined,
    unregister: async () => undefined,
  } as unknown as KeyProvider;
}

describe('AuditingKeyProvider', () => {
  it('records the tenant, key, version and outcome of each call and passes results through', async () => {
    const entries: AuditInput[] = [];
    const p = new AuditingKeyProvider(inner(Buffer.alloc(32)), { record: async (e) => void entries.push(e) });
    expect((await p.generateDataKey({ tenant: 'acct', requestId: 'r1' }, crn, [])).keyVersion).toBe('v2');
    await expect(p.unwrap({ tenant: 'acct' }, crn, 'w', [])).rejects.toThrow(KmsError);
    await p.rewrap({ tenant: 'acct' }, 'not-a-crn', 'w', []);
    expect(entries[0]).toEqual({
      identity: 'tenant:acct',
      tenant: 'acct',
      action: 'wrap',
      outcome: 'success',
      via: 'embedded',
      correlationId: 'r1',
      instance: 'inst-1',
      key: 'key-1',
      version: 'v2',
    });
    expect(entries[1]).toMatchObject({ action: 'unwrap', outcome: 'failure', status: 410, reason: 'KEY_DELETED_ERR' });
    expect(entries[2]).toMatchObject({ action: 'rewrap', outcome: 'success', version: 'v3' });
    expect(entries[2]!.key).toBeUndefined();
  });

  it('answers only after the entry is durable', async () => {
    let release!: () => void;
    const p = new AuditingKeyProvider(inner(Buffer.alloc(32)), {
      record: () => new Promise<void>((r) => (release = r)),
    });
    let answered = false;
    const call = p.generateDataKey({ tenant: 'acct' }, crn, []).then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    release();
    await call;
    expect(answered).toBe(true);
  });

  it('fails the call with 503 KMS_UNAVAILABLE when the entry cannot be written, and zeroes the DEK it holds back', async () => {
    const dek = Buffer.alloc(32, 7);
    const p = new AuditingKeyProvider(inner(dek), { record: async () => Promise.reject(new Error('ENOSPC')) });
    const e = await p.generateDataKey({ tenant: 'acct' }, crn, []).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KmsError);
    expect(e).toMatchObject({ status: 503, reason: 'KMS_UNAVAILABLE' });
    expect(dek.every((b) => b === 0)).toBe(true);
    await expect(p.unwrap({ tenant: 'acct' }, crn, 'w', [])).rejects.toMatchObject({ reason: 'KMS_UNAVAILABLE' });
  });
});
