import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gcmOpen, gcmSeal, IV_SIZE, openBlob, sealBlob } from '../../../src/crypto/aead.js';
import { CryptoIntegrityError } from '../../../src/crypto/errors.js';
import { hex, loadVectors } from './helpers.js';

const vectors = loadVectors();
const key = Buffer.alloc(32, 0x11);
const aad = Buffer.from('bucket-uid|photos/cat.jpg|version-1');

describe('sealBlob / openBlob', () => {
  it.each([0, 1, 15, 16, 17, 100_000])('round-trips %i bytes', (n) => {
    const pt = Buffer.alloc(n, 0xab);
    const sealed = sealBlob(key, pt, aad);
    expect(sealed.length).toBe(IV_SIZE + n + 16);
    expect(openBlob(key, sealed, aad).equals(pt)).toBe(true);
  });

  it('uses a fresh random IV each time', () => {
    const pt = Buffer.from('same');
    expect(sealBlob(key, pt, aad).equals(sealBlob(key, pt, aad))).toBe(false);
  });

  it.each(vectors.sealedBlobs.map((s, i) => [i, s] as const))(
    'opens the Python-sealed blob %i (iv ‖ ct ‖ tag)',
    (_i, s) => {
      expect(openBlob(hex(s.key), hex(s.sealed), hex(s.aad)).toString('hex')).toBe(s.plaintext);
    },
  );

  const sealed = sealBlob(key, Buffer.from('{"etag":"0123"}'), aad);
  const flip = (at: number): Buffer => {
    const b = Buffer.from(sealed);
    b[at]! ^= 0x01;
    return b;
  };
  it.each([
    ['wrong AAD', () => openBlob(key, sealed, Buffer.from('bucket-uid|photos/dog.jpg|version-1'))],
    ['empty AAD', () => openBlob(key, sealed, Buffer.alloc(0))],
    ['wrong key', () => openBlob(Buffer.alloc(32, 0x12), sealed, aad)],
    ['truncated by one byte', () => openBlob(key, sealed.subarray(0, sealed.length - 1), aad)],
    ['truncated below iv + tag', () => openBlob(key, sealed.subarray(0, 27), aad)],
    ['empty', () => openBlob(key, Buffer.alloc(0), aad)],
    ['extended by one byte', () => openBlob(key, Buffer.concat([sealed, Buffer.alloc(1)]), aad)],
    ['bit flip in iv', () => openBlob(key, flip(0), aad)],
    ['bit flip in ciphertext', () => openBlob(key, flip(IV_SIZE + 2), aad)],
    ['bit flip in tag', () => openBlob(key, flip(sealed.length - 1), aad)],
  ])('rejects %s with CryptoIntegrityError', (_n, fn) => {
    expect(fn).toThrow(CryptoIntegrityError);
  });

  it('does not put key bytes in the error message', () => {
    try {
      openBlob(key, flip(IV_SIZE), aad);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(key.toString('hex'));
      expect((err as Error).message).not.toContain(key.toString('base64'));
    }
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(() => sealBlob(Buffer.alloc(16), Buffer.alloc(1), aad)).toThrow(RangeError);
  });
});

describe('gcmSeal / gcmOpen', () => {
  it.each([16, 24, 32])('seals and opens with a %i-byte key; any change fails', (n) => {
    const key = randomBytes(n);
    const iv = randomBytes(12);
    const sealed = gcmSeal(key, iv, Buffer.from('dek'), Buffer.from('aad'));
    expect(gcmOpen(key, iv, sealed, Buffer.from('aad'))?.toString()).toBe('dek');
    expect(gcmOpen(key, iv, sealed, Buffer.from('aae'))).toBeUndefined();
    const flipped = Buffer.from(sealed);
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(gcmOpen(key, iv, flipped, Buffer.from('aad'))).toBeUndefined();
    expect(gcmOpen(key, randomBytes(12), sealed, Buffer.from('aad'))).toBeUndefined();
  });
});
