/**
 * The seam between the key store and the L0 master key: whatever seals the
 * root-key versions. Two kinds:
 *
 * - `file`: the 32-byte key from COFFER_MASTER_KEY or the key file
 *   (masterKey.ts), AES-256-GCM in this process.
 * - `pkcs11`: an AES-256 key inside a PKCS#11 token (masterKeyPkcs11.ts),
 *   AES-GCM computed by the token; the key never enters this process.
 *
 * Sealed bytes are iv(12) ‖ ciphertext ‖ tag(16) for both, and the key store
 * records which kind sealed each blob, so a store opened with the other kind
 * (or half migrated) is detected and named instead of failing as "corrupted".
 */
import { createHmac, randomBytes as nodeRandomBytes } from 'node:crypto';
import { gcmOpen, gcmSeal, IV_SIZE } from '../crypto/aead.js';
import { MASTER_KEY_BYTES } from './masterKey.js';

export type MasterKeyKind = 'file' | 'pkcs11';

export interface MasterKeySealer {
  readonly kind: MasterKeyKind;
  /** iv ‖ ciphertext ‖ tag of `plaintext`, bound to `aad`. */
  seal(plaintext: Buffer, aad: Buffer): Promise<Buffer>;
  /** The plaintext, or undefined when authentication fails (wrong key, tampered blob, other aad). */
  unseal(sealed: Buffer, aad: Buffer): Promise<Buffer | undefined>;
  /** Forget the key (zero it / log out of the token). Idempotent. */
  close(): Promise<void>;
}

const KCV_LABEL = 'coffer/kms/v1/key-check-value';

/** The file (or configured) master key: AES-256-GCM here, with its own copy of the key. */
export class FileMasterKey implements MasterKeySealer {
  readonly kind = 'file' as const;
  private readonly key: Buffer;
  private closed = false;

  constructor(
    key: Buffer,
    private readonly random: (n: number) => Buffer = nodeRandomBytes,
  ) {
    if (key.length !== MASTER_KEY_BYTES) throw new RangeError(`The KMS master key must be ${MASTER_KEY_BYTES} bytes`);
    this.key = Buffer.from(key);
  }

  seal(plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    this.assertOpen();
    const iv = this.random(IV_SIZE);
    return Promise.resolve(Buffer.concat([iv, gcmSeal(this.key, iv, plaintext, aad)]));
  }

  unseal(sealed: Buffer, aad: Buffer): Promise<Buffer | undefined> {
    this.assertOpen();
    if (sealed.length < IV_SIZE) return Promise.resolve(undefined);
    return Promise.resolve(gcmOpen(this.key, sealed.subarray(0, IV_SIZE), sealed.subarray(IV_SIZE), aad));
  }

  /**
   * Key check value: HMAC-SHA256(master, label), stored with the key store so a
   * wrong key is refused at open. It reveals nothing about the key (HMAC is a PRF).
   */
  checkValue(): Buffer {
    this.assertOpen();
    return createHmac('sha256', this.key).update(KCV_LABEL).digest();
  }

  close(): Promise<void> {
    this.closed = true;
    this.key.fill(0);
    return Promise.resolve();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The KMS master key is closed');
  }
}
