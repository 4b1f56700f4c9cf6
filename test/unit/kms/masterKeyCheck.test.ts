import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyStore, MasterKeyKindError, MasterKeyMismatchError } from '../../../src/kms/keyStore.js';
import { FileMasterKey, type MasterKeySealer } from '../../../src/kms/masterKeySealer.js';

/** A stand-in for a token key: AES-GCM under a key the test holds, but of kind pkcs11. */
function fakeToken(key = randomBytes(32)): MasterKeySealer {
  const inner = new FileMasterKey(key);
  return {
    kind: 'pkcs11',
    seal: (p, a) => inner.seal(p, a),
    unseal: (s, a) => inner.unseal(s, a),
    close: () => inner.close(),
  };
}

const version = { id: 'v1', creationDate: 1 } as Parameters<ReturnType<KeyStore['batch']>['putVersion']>[2];
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('key store master key kind', () => {
  it('reseals every version to the other kind atomically and refuses the old kind afterwards', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'coffer-kck-'));
    dirs.push(dir);
    const fileKey = randomBytes(32);
    const material = randomBytes(32);
    const a = await KeyStore.open(dir, fileKey);
    await a.batch().putVersion('i', 'k', version, material).write();
    const tokenKey = randomBytes(32);
    expect(await a.resealAll(fakeToken(tokenKey))).toBe(1);
    await a.close();

    await expect(KeyStore.open(dir, fileKey)).rejects.toThrow(MasterKeyKindError);
    await expect(KeyStore.open(dir, fakeToken())).rejects.toThrow(MasterKeyMismatchError);
    const b = await KeyStore.open(dir, fakeToken(tokenKey));
    expect(await b.openMaterial('i', 'k', 'v1')).toEqual(material);
    expect(await b.resealAll(new FileMasterKey(fileKey))).toBe(1);
    await b.close();

    await expect(KeyStore.open(dir, fakeToken(tokenKey))).rejects.toThrow(/configured with the PKCS#11/);
    const c = await KeyStore.open(dir, fileKey);
    expect(await c.openMaterial('i', 'k', 'v1')).toEqual(material);
    await c.close();
  });
});
