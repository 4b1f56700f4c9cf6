/**
 * Sealing of per-record metadata (ETag, checksums, x-amz-meta-*, tags) under
 * K_meta = HKDF(DEK, metaSalt, "coffer/v1/meta" ‖ lp(bucketUid) ‖ lp(versionId)).
 * The AAD binds the sealed blob to its record (bucketUid ‖ key ‖ versionId), so
 * it cannot be moved to another object (encryption.md, "sealed metadata").
 */
import { randomBytes } from 'node:crypto';
import { deriveMetaKey, lp, openBlob, sealBlob } from '../crypto/index.js';
import type { SealedMeta } from '../meta/records.js';
import { DomainError } from './errors.js';

export interface SealIdentity {
  bucketUid: string;
  key: string;
  /** Object version id, or the upload id for upload records. */
  versionId: string;
}

function aad(id: SealIdentity): Buffer {
  return Buffer.concat([lp(id.bucketUid), lp(id.key), lp(id.versionId)]);
}

export function sealJson(dek: Buffer, id: SealIdentity, value: unknown, metaSalt?: Buffer): { metaSalt: string; sealed: string } {
  const salt = metaSalt ?? randomBytes(32);
  const k = deriveMetaKey(dek, salt, id.bucketUid, id.versionId);
  const sealed = sealBlob(k, Buffer.from(JSON.stringify(value), 'utf8'), aad(id));
  k.fill(0);
  return { metaSalt: salt.toString('hex'), sealed: sealed.toString('base64') };
}

export function openJson<T>(dek: Buffer, id: SealIdentity, metaSalt: string, sealed: string): T {
  let k: Buffer | undefined;
  try {
    // A tampered salt (wrong length, not hex) is tampering too, not a caller bug.
    k = deriveMetaKey(dek, Buffer.from(metaSalt, 'hex'), id.bucketUid, id.versionId);
    return JSON.parse(openBlob(k, Buffer.from(sealed, 'base64'), aad(id)).toString('utf8')) as T;
  } catch {
    throw new DomainError('IntegrityError', 'sealed metadata failed authentication', { key: id.key });
  } finally {
    k?.fill(0);
  }
}

export const sealMeta = (dek: Buffer, id: SealIdentity, m: SealedMeta, metaSalt?: Buffer) => sealJson(dek, id, m, metaSalt);
export const openMeta = (dek: Buffer, id: SealIdentity, metaSalt: string, sealed: string) => openJson<SealedMeta>(dek, id, metaSalt, sealed);
