/**
 * Sealing of per-record metadata (ETag, checksums, x-amz-meta-*, tags) under
 * K_meta = HKDF(DEK, metaSalt, "coffer/v1/meta" ‖ lp(bucketUid) ‖ lp(versionId)).
 *
 * Object records (sealObject/openObject) are written in seal format 2: the AAD
 * is objectSealAad (src/crypto/recordBinding.ts), which binds the address the
 * read looked up (bucket uid and name, key, version) and the record's stream
 * reference, sizes and clear headers. Records written before format 2 carry no
 * `sealFormat` and still open, on the format-1 path: AAD = lp(bucketUid) ‖
 * lp(key) ‖ lp(versionId), with the key as looked up (encryption.md, "sealed
 * metadata"). Upload and part records (sealJson/openJson) keep format 1.
 */
import { randomBytes } from 'node:crypto';
import {
  deriveMetaKey,
  lp,
  NULL_VERSION,
  objectSealAad,
  openBlob,
  RECORD_SEAL_V2,
  sealBlob,
  sseBinding,
  type ObjectAddress,
} from '../crypto/index.js';
import type { BucketRecord, ObjectRecord, SealedMeta } from '../meta/records.js';
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

export function sealJson(
  dek: Buffer,
  id: SealIdentity,
  value: unknown,
  metaSalt?: Buffer,
): { metaSalt: string; sealed: string } {
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

export const sealMeta = (dek: Buffer, id: SealIdentity, m: SealedMeta, metaSalt?: Buffer) =>
  sealJson(dek, id, m, metaSalt);
export const openMeta = (dek: Buffer, id: SealIdentity, metaSalt: string, sealed: string) =>
  openJson<SealedMeta>(dek, id, metaSalt, sealed);

/**
 * The address of `key` in `bucket` as a request names it. `bucket` must come
 * from BucketService.resolve, which checked that the record found under the
 * bucket name carries that name. `version` is the S3 version id the read
 * resolved, NULL_VERSION for the null version (see crypto/index.ts, "Versions").
 */
export function addressOf(
  bucket: BucketRecord,
  key: string,
  version: string | undefined = NULL_VERSION,
): ObjectAddress {
  return { bucketUid: bucket.uid, bucketName: bucket.name, key, version };
}

/**
 * AAD of a format-2 object seal: objectSealAad, then the per-object key's
 * binding when the record has one (SSE-KMS / SSE-C), so dropping or swapping
 * `sse` fails to open. Records without one are sealed exactly as before.
 */
function objectAad(at: ObjectAddress, rec: UnsealedRecord): Buffer {
  const base = objectSealAad(at, rec);
  return rec.sse ? Buffer.concat([base, sseBinding(rec.sse)]) : base;
}

/** The clear part of a record to be sealed: everything but the seal itself. */
export type UnsealedRecord = Omit<ObjectRecord, 'metaSalt' | 'sealed' | 'sealFormat'>;

/**
 * Seal `m` into `rec` at address `at` (format 2). The returned record is the one
 * to store: changing any bound field afterwards without sealing again makes it
 * unreadable, which is the point.
 */
export function sealObject(
  dek: Buffer,
  at: ObjectAddress,
  rec: UnsealedRecord,
  m: SealedMeta,
  metaSalt?: Buffer,
): ObjectRecord {
  const salt = metaSalt ?? randomBytes(32);
  const k = deriveMetaKey(dek, salt, at.bucketUid, rec.versionId);
  try {
    const sealed = sealBlob(k, Buffer.from(JSON.stringify(m), 'utf8'), objectAad(at, rec));
    return { ...rec, metaSalt: salt.toString('hex'), sealed: sealed.toString('base64'), sealFormat: RECORD_SEAL_V2 };
  } finally {
    k.fill(0);
  }
}

/**
 * Open the sealed metadata of a record found at `at`. Format 2 verifies the
 * whole binding; a record without `sealFormat` is a format-1 record (written
 * before stream binding) and is checked against bucketUid ‖ looked-up key ‖
 * versionId only. Any other format value is tampering.
 * @throws DomainError IntegrityError on any mismatch.
 */
export function openObject(dek: Buffer, at: ObjectAddress, rec: ObjectRecord): SealedMeta {
  // A format-1 record predates per-object keys: one carrying `sse` was edited.
  if (rec.sealFormat === undefined && !rec.sse)
    return openMeta(dek, { bucketUid: at.bucketUid, key: at.key, versionId: rec.versionId }, rec.metaSalt, rec.sealed);
  let k: Buffer | undefined;
  try {
    if (rec.sealFormat !== RECORD_SEAL_V2) throw new Error('unknown seal format');
    k = deriveMetaKey(dek, Buffer.from(rec.metaSalt, 'hex'), at.bucketUid, rec.versionId);
    return JSON.parse(
      openBlob(k, Buffer.from(rec.sealed, 'base64'), objectAad(at, rec)).toString('utf8'),
    ) as SealedMeta;
  } catch {
    // Malformed fields (wrong types, a salt of the wrong length) are tampering too.
    throw new DomainError('IntegrityError', 'sealed metadata failed authentication', { key: at.key });
  } finally {
    k?.fill(0);
  }
}
