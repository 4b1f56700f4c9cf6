/**
 * What an object record's seal (format 2) authenticates besides the sealed
 * plaintext: the address the read looked the record up under, and every clear
 * field of the record that decides which bytes a GET returns (the stream
 * reference or ordered part list, sizes, headers). The result is the AAD of
 * sealBlob/openBlob under K_meta, so a record moved to another name, or whose
 * `stream`/`parts` fields are replaced with another object's, fails to open
 * before a single byte of data is read. Format and rationale: index.ts.
 *
 * Pure and self-contained: the input types mirror the record shapes in
 * src/meta/records.ts structurally, without importing them.
 */
import { createHash } from 'node:crypto';
import { lp } from './kdf.js';

/** Seal formats of object records. Absent in a record means RECORD_SEAL_V1. */
export const RECORD_SEAL_V1 = 1;
export const RECORD_SEAL_V2 = 2;

/** The version bound for S3's "null" version (a bucket never versioned, or one suspended); see index.ts, "Versions". */
export const NULL_VERSION = 'null';

// Labels. Part of the on-disk format; never change without a new seal format.
const AAD_LABEL = Buffer.from('coffer/v2/object-seal', 'utf8');
const STREAMS_LABEL = Buffer.from('coffer/v2/streams', 'utf8');

/** StandardHeaders fields, in the order they are encoded. */
export const HEADER_FIELDS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'contentLanguage',
  'cacheControl',
  'expires',
] as const;

/** Where the reader found the record: from the request and the bucket lookup, never from the record. */
export interface ObjectAddress {
  /** uid of the bucket record found under `bucketName`. */
  bucketUid: string;
  /** The bucket name as the request named it (bucket records must carry the same name). */
  bucketName: string;
  /** The object key as the request named it. */
  key: string;
  /** The S3 version id the record was looked up as (NULL_VERSION for the null version). */
  version: string;
}

/** One stream as the record names it (StreamRef). */
export interface BoundStream {
  dataId: string;
  salt: string;
  headerDigest: string;
  size: number;
  segmentLog2: number;
}

/** One part of a completed multipart object (PartRef). */
export interface BoundPart extends BoundStream {
  partNumber: number;
  uploadId: string;
  sealedEtag: string;
}

/** The clear fields of an object record that the seal covers. */
export interface BoundRecord {
  /** The record's own random id (ObjectRecord.versionId); also in K_meta's info. */
  versionId: string;
  size: number;
  lastModified: number;
  dekGeneration: number;
  headers: Partial<Record<(typeof HEADER_FIELDS)[number], string | null>>;
  storageClass?: string | null;
  checksumAlgorithm?: string | null;
  stream?: BoundStream | null;
  parts?: BoundPart[] | null;
}

function u8(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new RangeError(`not a uint8: ${n}`);
  return Buffer.of(n);
}

function u32(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not a uint32: ${n}`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** Sizes and timestamps: non-negative safe integers, as uint64-BE. */
function u64(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a non-negative safe integer: ${n}`);
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n), 0);
  return b;
}

/** An optional string: 0x00 when absent (undefined or null), 0x01 ‖ lp(value) when present ("" is present). */
function opt(v: string | null | undefined): Buffer {
  return v === undefined || v === null ? Buffer.of(0) : Buffer.concat([Buffer.of(1), lp(v)]);
}

function encodeStream(s: BoundStream): Buffer[] {
  return [lp(s.dataId), lp(s.salt), lp(s.headerDigest), u64(s.size), u8(s.segmentLog2)];
}

/**
 * SHA-256 of the stream reference: total size, then either 0x00 ‖ the single
 * stream, or 0x01 ‖ uint32 count ‖ each part in list order (partNumber,
 * uploadId, stream fields, sealed part ETag), or 0x02 for a record naming no
 * stream at all (which the reader refuses anyway). Every variable-length field is
 * length-prefixed, so no two different references encode alike.
 * @throws RangeError if a record has both a stream and parts, or a number is out of range.
 */
export function streamRefDigest(size: number, stream?: BoundStream | null, parts?: BoundPart[] | null): Buffer {
  const h = createHash('sha256').update(STREAMS_LABEL).update(u64(size));
  if (stream && parts) throw new RangeError('a record names either one stream or a part list, not both');
  if (stream) {
    h.update(Buffer.of(0));
    for (const b of encodeStream(stream)) h.update(b);
  } else if (parts) {
    h.update(Buffer.of(1)).update(u32(parts.length));
    for (const p of parts) {
      h.update(u32(p.partNumber)).update(lp(p.uploadId));
      for (const b of encodeStream(p)) h.update(b);
      h.update(lp(p.sealedEtag));
    }
  } else {
    h.update(Buffer.of(2));
  }
  return h.digest();
}

/**
 * AAD of a format-2 object seal:
 *   "coffer/v2/object-seal" ‖ lp(bucketUid) ‖ lp(bucketName) ‖ lp(key) ‖ lp(version)
 *   ‖ lp(record versionId) ‖ uint64 lastModified ‖ uint32 dekGeneration
 *   ‖ opt(each StandardHeaders field, HEADER_FIELDS order) ‖ opt(storageClass)
 *   ‖ opt(checksumAlgorithm) ‖ streamRefDigest(size, stream, parts)
 * The label keeps it apart from the format-1 AAD (which starts with lp(bucketUid),
 * i.e. a zero byte), so a format-2 seal never opens on the format-1 path.
 */
export function objectSealAad(at: ObjectAddress, rec: BoundRecord): Buffer {
  const headers = HEADER_FIELDS.map((f) => opt(rec.headers[f]));
  return Buffer.concat([
    AAD_LABEL,
    lp(at.bucketUid),
    lp(at.bucketName),
    lp(at.key),
    lp(at.version),
    lp(rec.versionId),
    u64(rec.lastModified),
    u32(rec.dekGeneration),
    ...headers,
    opt(rec.storageClass),
    opt(rec.checksumAlgorithm),
    streamRefDigest(rec.size, rec.stream, rec.parts),
  ]);
}
