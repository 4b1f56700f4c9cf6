/**
 * The CLI's half of a secure import (src/cli/keyImport.ts) against the KMS's
 * half (src/kms/importTokens.ts): what the CLI seals under a token, the KMS
 * opens to the same material; a token it was not sealed for refuses it; the
 * key file may hold raw bytes or base64, of an AES key's size only.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { materialOf, sealForImport } from '../../../src/cli/keyImport.js';
import { ImportTokens } from '../../../src/kms/importTokens.js';

function open(tokens: ImportTokens, sealed: { payload: string; encryptedNonce: string; iv: string }): Buffer {
  return tokens.open('inst', {
    payload: Buffer.from(sealed.payload, 'base64'),
    encryptedNonce: Buffer.from(sealed.encryptedNonce, 'base64'),
    iv: Buffer.from(sealed.iv, 'base64'),
    encryptionAlgorithm: 'RSAES_OAEP_SHA_256',
  });
}

describe('keyImport', () => {
  it('seals material so that the token it was made for opens it, for 128, 192 and 256-bit keys', async () => {
    const tokens = new ImportTokens(Date.now, 2048);
    await tokens.create('inst', 600, 10);
    for (const size of [16, 24, 32]) {
      const material = randomBytes(size);
      const token = tokens.retrieve('inst') as { payload: string; nonce: string };
      expect(open(tokens, sealForImport(material, token)).equals(material)).toBe(true);
    }
  });

  it('is refused under another token (a new token replaces the old one)', async () => {
    const tokens = new ImportTokens(Date.now, 2048);
    await tokens.create('inst', 600, 10);
    const sealed = sealForImport(randomBytes(32), tokens.retrieve('inst') as { payload: string; nonce: string });
    await tokens.create('inst', 600, 10);
    expect(() => open(tokens, sealed)).toThrow(/payload/);
  });

  it('reads raw bytes or base64 of 16, 24 or 32 bytes, and nothing else', () => {
    const raw = randomBytes(32);
    expect(materialOf(raw).equals(raw)).toBe(true);
    expect(materialOf(Buffer.from(`${raw.toString('base64')}\n`)).equals(raw)).toBe(true);
    const k16 = randomBytes(16);
    expect(materialOf(Buffer.from(k16.toString('base64'))).equals(k16)).toBe(true);
    expect(() => materialOf(randomBytes(31))).toThrow(/16, 24 or 32 bytes/);
    expect(() => materialOf(Buffer.from(randomBytes(20).toString('base64')))).toThrow(/16, 24 or 32 bytes/);
    expect(() => materialOf(Buffer.from('not base64 at all!'))).toThrow(/16, 24 or 32 bytes/);
  });
});
