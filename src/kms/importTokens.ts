/**
 * Import tokens for secure key import (key-protect.md 2.4): an RSA-4096 key
 * pair and a nonce per instance (exactly one token at a time). The client
 * encrypts the key material with RSA-OAEP under the public key, and the nonce
 * with AES-GCM under the material itself; create/rotate then proves both.
 *
 * Tokens live in memory only: they expire within 24 h anyway, and keeping the
 * private key off disk means a copy of the data directory never holds it. A
 * restart invalidates outstanding tokens (the client asks for a new one).
 */
import { constants, generateKeyPair, privateDecrypt, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { gcmOpen } from '../crypto/aead.js';
import { KmsError } from '../keys/errors.js';
import { iso } from './keyView.js';
import { invalidField } from './encoding.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export const IMPORT_TOKEN_LIMITS = {
  expirationMin: 300,
  expirationMax: 86_400,
  expirationDefault: 600,
  retrievalsMin: 1,
  retrievalsMax: 500,
  retrievalsDefault: 1,
} as const;

interface Token {
  privateKey: KeyObject;
  publicPem: string;
  nonce: Buffer;
  creationDate: number;
  expirationDate: number;
  expiration: number;
  maxAllowedRetrievals: number;
  remainingRetrievals: number;
}

export interface ImportTokenView {
  creationDate: string;
  expirationDate: string;
  expiration: number;
  maxAllowedRetrievals: number;
  remainingRetrievals: number;
  /** GET only: base64 of the PEM public key, and the base64 nonce. */
  payload?: string;
  nonce?: string;
}

export type EncryptionAlgorithm = 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1';

export interface SecureImport {
  payload: Buffer;
  encryptedNonce: Buffer;
  iv: Buffer;
  encryptionAlgorithm?: string;
}

function expired(): KmsError {
  return new KmsError(
    'IMPORT_TOKEN_EXPIRED_ERR',
    'The import token has expired or has no retrievals left: create a new one',
  );
}

export class ImportTokens {
  private readonly tokens = new Map<string, Token>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly modulusLength = 4096,
  ) {}

  async create(instanceId: string, expiration?: number, maxAllowedRetrievals?: number): Promise<ImportTokenView> {
    const L = IMPORT_TOKEN_LIMITS;
    const exp = expiration ?? L.expirationDefault;
    const max = maxAllowedRetrievals ?? L.retrievalsDefault;
    if (!Number.isInteger(exp) || exp < L.expirationMin || exp > L.expirationMax)
      invalid('expiration', `an integer from ${L.expirationMin} to ${L.expirationMax} (seconds)`);
    if (!Number.isInteger(max) || max < L.retrievalsMin || max > L.retrievalsMax)
      invalid('maxAllowedRetrievals', `an integer from ${L.retrievalsMin} to ${L.retrievalsMax}`);
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: this.modulusLength });
    const now = this.now();
    const t: Token = {
      privateKey,
      publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      nonce: randomBytes(12),
      creationDate: now,
      expirationDate: now + exp * 1000,
      expiration: exp,
      maxAllowedRetrievals: max,
      remainingRetrievals: max,
    };
    this.tokens.set(instanceId, t);
    return view(t);
  }

  /** GET /import_token: the public key and nonce; each call uses one retrieval. */
  retrieve(instanceId: string): ImportTokenView {
    const t = this.live(instanceId);
    if (!t)
      throw new KmsError('IMPORT_TOKEN_NOT_FOUND_ERR', 'No import token exists for this instance: create one first');
    if (t.remainingRetrievals <= 0) throw expired();
    t.remainingRetrievals--;
    return {
      ...view(t),
      payload: Buffer.from(t.publicPem, 'utf8').toString('base64'),
      nonce: t.nonce.toString('base64'),
    };
  }

  /**
   * Recovers key material sent under the instance's token: RSA-OAEP decrypt,
   * then check the nonce sealed under the material (400 INCORRECT_NONCE_IV_ERR
   * when it does not open, INCORRECT_NONCE_ERR when it opens to another nonce).
   * The caller zeroes the returned material.
   */
  open(instanceId: string, s: SecureImport): Buffer {
    const t = this.live(instanceId);
    if (!t) throw expired();
    const alg = (s.encryptionAlgorithm ?? 'RSAES_OAEP_SHA_256') as EncryptionAlgorithm;
    if (alg !== 'RSAES_OAEP_SHA_256' && alg !== 'RSAES_OAEP_SHA_1')
      invalid('encryptionAlgorithm', 'RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1');
    let material: Buffer;
    try {
      material = privateDecrypt(
        {
          key: t.privateKey,
          padding: constants.RSA_PKCS1_OAEP_PADDING,
          oaepHash: alg === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256',
        },
        s.payload,
      );
    } catch {
      throw invalidField('payload', 'key material encrypted with the public key of the current import token');
    }
    if (material.length !== 16 && material.length !== 24 && material.length !== 32) {
      material.fill(0);
      invalid('payload', 'base64 of 16, 24 or 32 bytes of key material for a root key');
    }
    const nonce = openNonce(material, s.iv, s.encryptedNonce);
    if (!nonce) {
      material.fill(0);
      throw new KmsError(
        'INCORRECT_NONCE_IV_ERR',
        'The encrypted nonce could not be decrypted with the key material and the given iv',
        { type: 'field', name: 'encryptedNonce' },
      );
    }
    if (nonce.length !== t.nonce.length || !timingSafeEqual(nonce, t.nonce)) {
      material.fill(0);
      throw new KmsError('INCORRECT_NONCE_ERR', 'The nonce does not match the nonce of the current import token', {
        type: 'field',
        name: 'encryptedNonce',
      });
    }
    return material;
  }

  private live(instanceId: string): Token | undefined {
    const t = this.tokens.get(instanceId);
    if (t && this.now() >= t.expirationDate) {
      this.tokens.delete(instanceId);
      return undefined;
    }
    return t;
  }
}

function invalid(name: string, must: string): never {
  throw invalidField(name, must);
}

function view(t: Token): ImportTokenView {
  return {
    creationDate: iso(t.creationDate),
    expirationDate: iso(t.expirationDate),
    expiration: t.expiration,
    maxAllowedRetrievals: t.maxAllowedRetrievals,
    remainingRetrievals: t.remainingRetrievals,
  };
}

/** AES-GCM (key = the material, 12-byte iv, ciphertext ‖ 16-byte tag, no AAD), as Key Protect's clients seal the nonce. */
function openNonce(material: Buffer, iv: Buffer, sealed: Buffer): Buffer | undefined {
  return gcmOpen(material, iv, sealed, Buffer.alloc(0));
}
