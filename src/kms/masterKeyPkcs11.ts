/**
 * The master key inside a PKCS#11 token (an HSM, or SoftHSM2 in tests): an
 * AES-256 secret key object, CKA_SENSITIVE and not extractable, that seals and
 * unseals root-key versions with CKM_AES_GCM computed by the token. Its value
 * never enters this process; what the process holds is a logged-in session.
 *
 * The key is found by its label (COFFER_PKCS11_KEY_LABEL) in the token named by
 * COFFER_PKCS11_TOKEN_LABEL or COFFER_PKCS11_SLOT (else the first slot with a
 * token). When no key has that label and `create` is allowed (a key store with
 * nothing sealed yet), the token generates one.
 *
 * Calls are synchronous (the binding's sync API): C_EncryptInit and C_Encrypt on
 * the one session must not interleave with another seal, and a sync pair cannot.
 * The PIN is used for C_Login only and never logged or kept in an error.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as pkcs11js from 'pkcs11js';
import { IV_SIZE } from '../crypto/aead.js';
import { MasterKeyError } from './masterKey.js';
import type { MasterKeySealer } from './masterKeySealer.js';

const TAG_BYTES = 16;
export const DEFAULT_PKCS11_KEY_LABEL = 'coffer-master-key';

export interface Pkcs11Options {
  /** Path of the PKCS#11 module (.so) (COFFER_PKCS11_MODULE). */
  module: string;
  /** Token label (COFFER_PKCS11_TOKEN_LABEL); preferred over `slot`, whose ids some tokens renumber. */
  tokenLabel?: string;
  /** Slot id (COFFER_PKCS11_SLOT). */
  slot?: number;
  /** Label of the AES key object (COFFER_PKCS11_KEY_LABEL); default coffer-master-key. */
  keyLabel?: string;
  /** User PIN (COFFER_PKCS11_PIN), or the file holding it (COFFER_PKCS11_PIN_FILE). */
  pin?: string;
  pinFile?: string;
  /** Generate the key when none has the label (false when sealed data already exists). */
  create?: boolean;
}

/** One loaded module per path, shared: C_Initialize / C_Finalize are per process, not per handle. */
const loaded = new Map<string, { lib: pkcs11js.PKCS11; refs: number }>();

function acquire(module: string): pkcs11js.PKCS11 {
  const have = loaded.get(module);
  if (have) {
    have.refs++;
    return have.lib;
  }
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(module);
  } catch (e) {
    throw new MasterKeyError(
      `Cannot load the PKCS#11 module ${module} (COFFER_PKCS11_MODULE): ${(e as Error).message}`,
    );
  }
  try {
    lib.C_Initialize();
  } catch (e) {
    if (!isCkr(e, 'CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw e;
  }
  loaded.set(module, { lib, refs: 1 });
  return lib;
}

function release(module: string): void {
  const have = loaded.get(module);
  if (!have || --have.refs > 0) return;
  loaded.delete(module);
  try {
    have.lib.C_Finalize();
  } finally {
    have.lib.close();
  }
}

function isCkr(e: unknown, name: string): boolean {
  return e instanceof Error && e.message.includes(name);
}

async function pinOf(o: Pkcs11Options): Promise<string> {
  if (o.pin !== undefined && o.pin !== '') return o.pin;
  if (o.pinFile !== undefined && o.pinFile !== '') {
    const text = await readFile(o.pinFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new MasterKeyError(
        `Cannot read the PKCS#11 PIN file ${o.pinFile} (COFFER_PKCS11_PIN_FILE): ${e.code ?? e.message}`,
      );
    });
    // A trailing newline is what `echo PIN > file` leaves; the PIN itself has none.
    return text.replace(/\r?\n$/, '');
  }
  throw new MasterKeyError('COFFER_PKCS11_MODULE is set but no PIN: set COFFER_PKCS11_PIN or COFFER_PKCS11_PIN_FILE');
}

function findSlot(lib: pkcs11js.PKCS11, o: Pkcs11Options): Buffer {
  const slots = lib.C_GetSlotList(true);
  for (const slot of slots) {
    if (o.slot !== undefined && slotNumber(slot) !== o.slot) continue;
    if (o.tokenLabel !== undefined) {
      const info = lib.C_GetTokenInfo(slot);
      if (info.label.trim() !== o.tokenLabel) continue;
    }
    return slot;
  }
  const which =
    o.tokenLabel !== undefined ? `token labelled "${o.tokenLabel}"` : o.slot !== undefined ? `slot ${o.slot}` : 'token';
  throw new MasterKeyError(`No PKCS#11 ${which} found in ${o.module} (${slots.length} slot(s) with a token)`);
}

function slotNumber(slot: Buffer): number {
  return slot.length >= 8 ? Number(slot.readBigUInt64LE(0)) : slot.readUInt32LE(0);
}

export class Pkcs11MasterKey implements MasterKeySealer {
  readonly kind = 'pkcs11' as const;
  private closed = false;

  private constructor(
    private readonly lib: pkcs11js.PKCS11,
    private readonly module: string,
    private readonly session: Buffer,
    private readonly key: Buffer,
    /** The key's label, for messages. */
    readonly label: string,
    /** True when this open generated the key in the token. */
    readonly created: boolean,
  ) {}

  static async open(o: Pkcs11Options): Promise<Pkcs11MasterKey> {
    const pin = await pinOf(o);
    const label = o.keyLabel || DEFAULT_PKCS11_KEY_LABEL;
    const lib = acquire(o.module);
    let session: Buffer | undefined;
    try {
      const slot = findSlot(lib, o);
      session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        lib.C_Login(session, pkcs11js.CKU_USER, pin);
      } catch (e) {
        // Login state is per token and application: a second session of this process is already in.
        if (!isCkr(e, 'CKR_USER_ALREADY_LOGGED_IN'))
          throw new MasterKeyError(`PKCS#11 login to ${o.module} failed: ${pkcs11Reason(e)}`);
      }
      const found = findKeys(lib, session, label);
      if (found.length > 1)
        throw new MasterKeyError(`The PKCS#11 token holds ${found.length} secret keys labelled "${label}"; keep one`);
      if (found.length === 1) return new Pkcs11MasterKey(lib, o.module, session, found[0], label, false);
      if (o.create === false)
        throw new MasterKeyError(
          `The PKCS#11 token holds no key labelled "${label}" (COFFER_PKCS11_KEY_LABEL), but the key store is sealed ` +
            'under one: point Coffer at the token and label it was created with. A new key would make every stored root key unreadable.',
        );
      const key = generateKey(lib, session, label);
      return new Pkcs11MasterKey(lib, o.module, session, key, label, true);
    } catch (e) {
      if (session) lib.C_CloseSession(session);
      release(o.module);
      throw e;
    }
  }

  seal(plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    this.assertOpen();
    const iv = randomBytes(IV_SIZE);
    this.lib.C_EncryptInit(this.session, gcm(iv, aad), this.key);
    const out = this.lib.C_Encrypt(this.session, plaintext, Buffer.alloc(plaintext.length + TAG_BYTES));
    return Promise.resolve(Buffer.concat([iv, out]));
  }

  unseal(sealed: Buffer, aad: Buffer): Promise<Buffer | undefined> {
    this.assertOpen();
    if (sealed.length < IV_SIZE + TAG_BYTES) return Promise.resolve(undefined);
    const iv = sealed.subarray(0, IV_SIZE);
    const body = sealed.subarray(IV_SIZE);
    this.lib.C_DecryptInit(this.session, gcm(iv, aad), this.key);
    try {
      return Promise.resolve(this.lib.C_Decrypt(this.session, body, Buffer.alloc(body.length)));
    } catch (e) {
      // A tag that does not verify: SoftHSM2 answers CKR_GENERAL_ERROR, the standard says ENCRYPTED_DATA_INVALID.
      if (['CKR_ENCRYPTED_DATA_INVALID', 'CKR_ENCRYPTED_DATA_LEN_RANGE', 'CKR_GENERAL_ERROR'].some((r) => isCkr(e, r)))
        return Promise.resolve(undefined);
      throw e;
    }
  }

  /** The key object's attributes that say it cannot leave the token (tests, `coffer kms master-key` output). */
  protection(): { sensitive: boolean; extractable: boolean } {
    this.assertOpen();
    const [s, x] = this.lib.C_GetAttributeValue(this.session, this.key, [
      { type: pkcs11js.CKA_SENSITIVE },
      { type: pkcs11js.CKA_EXTRACTABLE },
    ]);
    return { sensitive: bool(s.value), extractable: bool(x.value) };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    try {
      this.lib.C_CloseSession(this.session);
    } finally {
      release(this.module);
    }
    return Promise.resolve();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The PKCS#11 master key is closed');
  }
}

function gcm(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
  const parameter: pkcs11js.GcmParams = {
    type: pkcs11js.CK_PARAMS_GCM,
    iv: Buffer.from(iv),
    ivBits: IV_SIZE * 8,
    aad: Buffer.from(aad),
    tagBits: TAG_BYTES * 8,
  };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}

function findKeys(lib: pkcs11js.PKCS11, session: Buffer, label: string): Buffer[] {
  lib.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  try {
    return lib.C_FindObjects(session, 16);
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

function generateKey(lib: pkcs11js.PKCS11, session: Buffer, label: string): Buffer {
  return lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    { type: pkcs11js.CKA_ENCRYPT, value: true },
    { type: pkcs11js.CKA_DECRYPT, value: true },
    { type: pkcs11js.CKA_WRAP, value: false },
    { type: pkcs11js.CKA_UNWRAP, value: false },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
}

function bool(v: unknown): boolean {
  return Buffer.isBuffer(v) ? v.length > 0 && v[0] !== 0 : v === true;
}

/** The CKR_* name of a binding error, without anything the caller passed in. */
function pkcs11Reason(e: unknown): string {
  const m = e instanceof Error ? /CKR_[A-Z_]+/.exec(e.message) : null;
  return m ? m[0] : 'unknown error';
}
