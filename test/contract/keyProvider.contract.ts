/**
 * The behaviour every KeyProvider must have (LocalKeyProvider now, a remote Key
 * Protect client later). Run it from a *.test.ts with a harness factory:
 *
 *   keyProviderContract('LocalKeyProvider', async () => ({ provider, tenant, ... }));
 *
 * Administrative steps (create a root key, rotate, disable, ...) are not part of
 * KeyProvider, so the harness does them (embedded: KmsService; remote: REST).
 * `advanceTime` moves the KMS clock: enable/restore within 30 s of the previous
 * action is refused (409 REQ_TOO_EARLY_ERR), as in Key Protect.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmsError } from '../../src/keys/errors.js';
import { KeyState, type KeyCaller, type KeyEvent, type KeyProvider } from '../../src/keys/KeyProvider.js';

export interface KeyProviderHarness {
  provider: KeyProvider;
  /** Owns the keys createRootKey() makes. */
  tenant: string;
  /** Has no authorization on them. */
  otherTenant: string;
  createRootKey(): Promise<string>;
  /** A CRN of the right shape for this KMS whose key does not exist. */
  unknownKeyCrn(): Promise<string>;
  rotate(crn: string): Promise<void>;
  disable(crn: string): Promise<void>;
  enable(crn: string): Promise<void>;
  deleteKey(crn: string, opts?: { force?: boolean }): Promise<void>;
  restore(crn: string): Promise<void>;
  advanceTime(ms: number): Promise<void>;
  close(): Promise<void>;
}

const AAD = ['coffer:bucket', '0123456789abcdef0123456789abcdef'];

async function kmsError(p: Promise<unknown>): Promise<KmsError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KmsError) return e;
    throw e;
  }
  throw new Error('expected a KmsError, the call succeeded');
}

export function keyProviderContract(name: string, makeHarness: () => Promise<KeyProviderHarness>): void {
  describe(`KeyProvider contract: ${name}`, () => {
    let h: KeyProviderHarness;
    let me: KeyCaller;
    let crn: string;

    beforeEach(async () => {
      h = await makeHarness();
      me = { tenant: h.tenant, requestId: 'req-1' };
      crn = await h.createRootKey();
    });
    afterEach(async () => {
      await h.close();
    });

    it('generates a 32-byte DEK that unwraps to the same bytes with the same version', async () => {
      const g = await h.provider.generateDataKey(me, crn, AAD);
      expect(g.plaintext).toHaveLength(32);
      expect(typeof g.wrapped).toBe('string');
      expect(g.keyVersion).not.toBe('');
      const u = await h.provider.unwrap(me, crn, g.wrapped, AAD);
      expect(u.plaintext.equals(g.plaintext)).toBe(true);
      expect(u.keyVersion).toBe(g.keyVersion);
      expect(u.rewrapped).toBeUndefined();
      expect(await h.provider.getKeyState(me, crn)).toBe(KeyState.Active);
    });

    it('generates a different DEK and ciphertext every time', async () => {
      const a = await h.provider.generateDataKey(me, crn, AAD);
      const b = await h.provider.generateDataKey(me, crn, AAD);
      expect(a.plaintext.equals(b.plaintext)).toBe(false);
      expect(a.wrapped).not.toBe(b.wrapped);
    });

    it('rejects an AAD mismatch with 422 UNPROCESSABLE_CIPHERTEXT_ERR, including re-split items', async () => {
      const g = await h.provider.generateDataKey(me, crn, ['ab', 'c']);
      for (const aad of [['a', 'bc'], ['ab', 'c', ''], ['abc'], [], ['ab', 'd']]) {
        const e = await kmsError(h.provider.unwrap(me, crn, g.wrapped, aad));
        expect(e.status).toBe(422);
        expect(e.reason).toBe('UNPROCESSABLE_CIPHERTEXT_ERR');
      }
    });

    it('rejects a tampered or foreign ciphertext with 422, and non-base64 with 400', async () => {
      const g = await h.provider.generateDataKey(me, crn, AAD);
      const doc = JSON.parse(Buffer.from(g.wrapped, 'base64').toString('utf8')) as { ciphertext: string };
      const ct = Buffer.from(doc.ciphertext, 'base64');
      ct[0] = (ct[0] ?? 0) ^ 1;
      const tampered = Buffer.from(JSON.stringify({ ...doc, ciphertext: ct.toString('base64') })).toString('base64');
      expect((await kmsError(h.provider.unwrap(me, crn, tampered, AAD))).status).toBe(422);
      const other = await h.createRootKey();
      const foreign = await h.provider.generateDataKey(me, other, AAD);
      expect((await kmsError(h.provider.unwrap(me, crn, foreign.wrapped, AAD))).reason).toBe(
        'UNPROCESSABLE_CIPHERTEXT_ERR',
      );
      const bad = await kmsError(h.provider.unwrap(me, crn, 'not base64!', AAD));
      expect(bad.status).toBe(400);
    });

    it('after rotate: old ciphertext still unwraps, with a rewrapped ciphertext under the new version', async () => {
      const g = await h.provider.generateDataKey(me, crn, AAD);
      await h.rotate(crn);
      const u = await h.provider.unwrap(me, crn, g.wrapped, AAD);
      expect(u.plaintext.equals(g.plaintext)).toBe(true);
      expect(u.keyVersion).toBe(g.keyVersion);
      expect(u.rewrapped).toBeDefined();
      expect(u.rewrapped?.keyVersion).not.toBe(g.keyVersion);
      const again = await h.provider.unwrap(me, crn, u.rewrapped?.wrapped ?? '', AAD);
      expect(again.plaintext.equals(g.plaintext)).toBe(true);
      expect(again.keyVersion).toBe(u.rewrapped?.keyVersion);
      expect(again.rewrapped).toBeUndefined();
      const fresh = await h.provider.generateDataKey(me, crn, AAD);
      expect(fresh.keyVersion).toBe(u.rewrapped?.keyVersion);
    });

    it('rewrap moves a ciphertext to the newest version without changing the DEK', async () => {
      const g = await h.provider.generateDataKey(me, crn, AAD);
      await h.rotate(crn);
      const r = await h.provider.rewrap(me, crn, g.wrapped, AAD);
      expect(r.keyVersion).not.toBe(g.keyVersion);
      const u = await h.provider.unwrap(me, crn, r.wrapped, AAD);
      expect(u.plaintext.equals(g.plaintext)).toBe(true);
      expect(u.rewrapped).toBeUndefined();
      expect((await kmsError(h.provider.rewrap(me, crn, g.wrapped, ['wrong']))).status).toBe(422);
    });

    it('disable: wrap and unwrap fail 409 KEY_ACTION_INVALID_STATE_ERR; enable restores both', async () => {
      const events: KeyEvent[] = [];
      h.provider.onKeyEvent?.((e) => events.push(e));
      const g = await h.provider.generateDataKey(me, crn, AAD);
      await h.disable(crn);
      if (h.provider.onKeyEvent) expect(events.some((e) => e.type === 'disable' && e.keyCrn === crn)).toBe(true);
      expect(await h.provider.getKeyState(me, crn)).toBe(KeyState.Suspended);
      for (const call of [
        () => h.provider.unwrap(me, crn, g.wrapped, AAD),
        () => h.provider.generateDataKey(me, crn, AAD),
        () => h.provider.rewrap(me, crn, g.wrapped, AAD),
      ]) {
        const e = await kmsError(call());
        expect(e.status).toBe(409);
        expect(e.reason).toBe('KEY_ACTION_INVALID_STATE_ERR');
      }
      await h.advanceTime(31_000);
      await h.enable(crn);
      expect(await h.provider.getKeyState(me, crn)).toBe(KeyState.Active);
      const u = await h.provider.unwrap(me, crn, g.wrapped, AAD);
      expect(u.plaintext.equals(g.plaintext)).toBe(true);
    });

    it('registrations block delete (409 PROTECTED_RESOURCE_ERR) unless forced; a deleted key unwraps 410; restore brings it back', async () => {
      const g = await h.provider.generateDataKey(me, crn, AAD);
      const bucket = 'crn:v1:coffer:local:cloud-object-storage:global:a/t:cos:bucket:contract-bucket';
      await h.provider.register(me, crn, { resourceCrn: bucket, description: 'contract', keyVersion: g.keyVersion });
      await h.provider.register(me, crn, { resourceCrn: bucket, description: 'again (idempotent)' });
      const blocked = await kmsError(h.deleteKey(crn));
      expect(blocked.status).toBe(409);
      expect(blocked.reason).toBe('PROTECTED_RESOURCE_ERR');
      await h.deleteKey(crn, { force: true });
      expect(await h.provider.getKeyState(me, crn)).toBe(KeyState.Destroyed);
      const gone = await kmsError(h.provider.unwrap(me, crn, g.wrapped, AAD));
      expect(gone.status).toBe(410);
      expect(gone.reason).toBe('KEY_DELETED_ERR');
      expect((await kmsError(h.provider.generateDataKey(me, crn, AAD))).status).toBe(410);
      await h.advanceTime(31_000);
      await h.restore(crn);
      expect(await h.provider.getKeyState(me, crn)).toBe(KeyState.Active);
      const u = await h.provider.unwrap(me, crn, g.wrapped, AAD);
      expect(u.plaintext.equals(g.plaintext)).toBe(true);
      await h.provider.unregister(me, crn, bucket);
      await h.provider.unregister(me, crn, bucket); // idempotent
      await h.deleteKey(crn);
    });

    it('refuses registrations on a key that is not Active (422)', async () => {
      await h.disable(crn);
      const e = await kmsError(
        h.provider.register(me, crn, {
          resourceCrn: 'crn:v1:coffer:local:cloud-object-storage:global:a/t:cos:bucket:b',
        }),
      );
      expect(e.status).toBe(422);
      expect(e.reason).toBe('KEY_INVALID_STATE_ERR');
    });

    it('another tenant gets exactly the not-found error of a key that does not exist', async () => {
      const other: KeyCaller = { tenant: h.otherTenant };
      const g = await h.provider.generateDataKey(me, crn, AAD);
      const unknown = await h.unknownKeyCrn();
      const missing = await kmsError(h.provider.getKeyState(me, unknown));
      const calls: Array<() => Promise<unknown>> = [
        () => h.provider.generateDataKey(other, crn, AAD),
        () => h.provider.unwrap(other, crn, g.wrapped, AAD),
        () => h.provider.rewrap(other, crn, g.wrapped, AAD),
        () => h.provider.getKeyState(other, crn),
        () =>
          h.provider.register(other, crn, {
            resourceCrn: 'crn:v1:coffer:local:cloud-object-storage:global:a/x:cos:bucket:b',
          }),
        () => h.provider.unregister(other, crn, 'crn:v1:coffer:local:cloud-object-storage:global:a/x:cos:bucket:b'),
      ];
      for (const call of calls) {
        const e = await kmsError(call());
        expect(e.status).toBe(missing.status);
        expect(e.reason).toBe(missing.reason);
        expect(e.message.replace(crn, '<crn>')).toBe(missing.message.replace(unknown, '<crn>'));
      }
      expect(missing.message).toContain(unknown);
    });

    it('rejects a malformed CRN (an instance CRN ending "::") as 400 naming the resource type', async () => {
      const instanceCrn = crn.split(':').slice(0, 8).join(':') + '::';
      const e = await kmsError(h.provider.generateDataKey(me, instanceCrn, AAD));
      expect(e.status).toBe(400);
      expect(e.message).toMatch(/resource type/i);
      expect(e.message).toMatch(/key/);
    });

    it('serves a provider-managed default root key to every tenant', async () => {
      const def = await h.provider.defaultRootKeyCrn(me);
      expect(await h.provider.defaultRootKeyCrn({ tenant: h.otherTenant })).toBe(def);
      for (const t of [h.tenant, h.otherTenant]) {
        const g = await h.provider.generateDataKey({ tenant: t }, def, AAD);
        const u = await h.provider.unwrap({ tenant: t }, def, g.wrapped, AAD);
        expect(u.plaintext.equals(g.plaintext)).toBe(true);
      }
    });
  });
}
