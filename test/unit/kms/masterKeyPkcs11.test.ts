import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as pkcs11js from 'pkcs11js';
import { MasterKeyError } from '../../../src/kms/masterKey.js';
import { Pkcs11MasterKey } from '../../../src/kms/masterKeyPkcs11.js';
import { createSoftToken, SKIP_REASON, softhsmModule, type SoftToken } from '../../helpers/softhsm.js';

const module = softhsmModule();
if (!module) console.warn(SKIP_REASON);

describe.skipIf(!module)('Pkcs11MasterKey (SoftHSM2)', () => {
  let token: SoftToken;
  const opts = () => ({ module: token.module, tokenLabel: token.tokenLabel, pin: token.pin });

  beforeAll(async () => {
    token = await createSoftToken(module!);
  });
  afterAll(async () => {
    await token?.cleanup();
  });

  it('generates the key on first open, finds it on the next, and round-trips', async () => {
    const a = await Pkcs11MasterKey.open(opts());
    expect(a.created).toBe(true);
    const aad = Buffer.from('inst!key!ver');
    const material = randomBytes(32);
    const sealed = await a.seal(material, aad);
    expect(sealed.length).toBe(12 + 32 + 16);
    expect(sealed.includes(material)).toBe(false);
    await a.close();
    const b = await Pkcs11MasterKey.open(opts());
    expect(b.created).toBe(false);
    expect(await b.unseal(sealed, aad)).toEqual(material);
    // Two seals of the same bytes differ (fresh IV each time).
    expect((await b.seal(material, aad)).equals(sealed)).toBe(false);
    await b.close();
  });

  it('refuses another aad and a tampered blob', async () => {
    const k = await Pkcs11MasterKey.open(opts());
    try {
      const sealed = await k.seal(Buffer.from('secret material'), Buffer.from('a'));
      expect(await k.unseal(sealed, Buffer.from('b'))).toBeUndefined();
      const bad = Buffer.from(sealed);
      bad[bad.length - 1] ^= 1;
      expect(await k.unseal(bad, Buffer.from('a'))).toBeUndefined();
      expect(await k.unseal(sealed.subarray(0, 20), Buffer.from('a'))).toBeUndefined();
      // The session is still usable after a refused blob.
      expect((await k.unseal(sealed, Buffer.from('a')))?.toString()).toBe('secret material');
    } finally {
      await k.close();
    }
  });

  it('keeps the key sensitive and not extractable: its value cannot be read out', async () => {
    const k = await Pkcs11MasterKey.open(opts());
    expect(k.protection()).toEqual({ sensitive: true, extractable: false });
    await k.close();
    // Ask the token for CKA_VALUE directly, as any other client of the token could.
    const lib = new pkcs11js.PKCS11();
    lib.load(token.module);
    lib.C_Initialize();
    try {
      const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === token.tokenLabel)!;
      const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
      lib.C_Login(session, pkcs11js.CKU_USER, token.pin);
      lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }]);
      const [handle] = lib.C_FindObjects(session, 1);
      lib.C_FindObjectsFinal(session);
      expect(handle).toBeDefined();
      expect(() => lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE }])).toThrow(
        /CKR_ATTRIBUTE_SENSITIVE/,
      );
      lib.C_CloseSession(session);
    } finally {
      lib.C_Finalize();
      lib.close();
    }
  });

  it('refuses to create a key when sealed data exists, and a wrong PIN, without echoing it', async () => {
    await expect(Pkcs11MasterKey.open({ ...opts(), keyLabel: 'other', create: false })).rejects.toThrow(
      /holds no key labelled "other"/,
    );
    const err = await Pkcs11MasterKey.open({ ...opts(), pin: '9999-wrong' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(MasterKeyError);
    expect((err as Error).message).toMatch(/CKR_PIN_INCORRECT/);
    expect((err as Error).message).not.toContain('9999-wrong');
  });

  it('reads the PIN from a file (trailing newline dropped), and names a missing token', async () => {
    const pinFile = join(token.dir, 'pin');
    await writeFile(pinFile, `${token.pin}\n`, { mode: 0o600 });
    const k = await Pkcs11MasterKey.open({ module: token.module, tokenLabel: token.tokenLabel, pinFile });
    await k.close();
    await expect(Pkcs11MasterKey.open({ ...opts(), tokenLabel: 'nope' })).rejects.toThrow(/token labelled "nope"/);
    await expect(Pkcs11MasterKey.open({ module: token.module })).rejects.toThrow(/no PIN/);
  });
});
