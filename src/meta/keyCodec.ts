/**
 * LevelDB key layout for the MetaStore.
 *
 * Keys are Buffers holding UTF-8 and the database uses LevelDB's default
 * bytewise comparator, so entries sort in UTF-8 byte order, which is the order
 * S3 lists keys in. (JavaScript string comparison is UTF-16 code-unit order and
 * differs above U+FFFF: "\u{FFFF}" < "\u{1F600}" in bytes but not in code units.
 * Never sort or compare object keys with `<`; use {@link compareUtf8}.)
 *
 * | key                                          | value          |
 * |----------------------------------------------|----------------|
 * | `b/` bucketName                              | BucketRecord   |
 * | `o/` bucketUid `/` objectKey                 | ObjectRecord   |
 * | `u/` bucketUid `/` objectKey `\0` uploadId   | UploadRecord   |
 * | `p/` uploadId `/` partNumber (5 digits)      | PartRecord     |
 * | `v/` bucketUid `/` objectKey `\0` historyId  | ObjectRecord (a noncurrent version) |
 *
 * Versioning keeps the current version of each key where it always was
 * (`o/`), so a plain listing reads exactly what it read before versioning
 * existed; noncurrent versions live apart under `v/`, newest first within a
 * key because history ids sort that way (see services/versionIds.ts).
 *
 * Invariants that make each prefix unambiguous and each range exact:
 * - bucketUid is exactly 32 lowercase hex digits, so `o/<uid>/` never prefixes
 *   another bucket's keys.
 * - Object keys are well-formed Unicode without U+0000. NUL is the key/uploadId
 *   separator in upload keys; because it is the smallest byte, uploads sort by
 *   key first, then uploadId, as ListMultipartUploads requires.
 * - uploadIds and historyIds use URL-unreserved ASCII only (no `/`, no NUL);
 *   as with uploads, NUL after the key makes a key's versions one exact range.
 * - Part numbers are zero-padded to 5 digits so 2 sorts before 10.
 * - Valid UTF-8 never contains byte 0xFF, so `prefix ‖ 0xFF` is an exclusive
 *   upper bound for every key that starts with `prefix`.
 *
 * Encoders throw a TypeError on a name that breaks these invariants (a write of
 * it is a bug upstream). Range bounds (prefix, markers) are client input and
 * are accepted as any string. Readers check {@link isStorableName} and friends
 * first, so a name that could never have been written is simply "not found".
 *
 * Changing this layout changes the on-disk format of existing databases.
 */

/** bucketUid: 16 random bytes, lowercase hex. */
export const BUCKET_UID_RE = /^[0-9a-f]{32}$/;
/** uploadId: URL-unreserved ASCII, so it can never contain a separator. */
export const UPLOAD_ID_RE = /^[0-9A-Za-z._~-]{1,200}$/;
/** historyId: URL-unreserved ASCII, like an uploadId. */
export const HISTORY_ID_RE = UPLOAD_ID_RE;
/** S3 allows part numbers 1..10000. */
export const MAX_PART_NUMBER = 10_000;

/** A LevelDB iterator range: a lower bound (exclusive or inclusive) and an exclusive upper bound. */
export type KeyRange = { gt: Buffer; lt: Buffer } | { gte: Buffer; lt: Buffer };

/** What a raw key decodes to (for inspection tools and tests). */
export type DecodedKey =
  | { kind: 'bucket'; name: string }
  | { kind: 'object'; bucketUid: string; key: string }
  | { kind: 'upload'; bucketUid: string; key: string; uploadId: string }
  | { kind: 'part'; uploadId: string; partNumber: number }
  | { kind: 'version'; bucketUid: string; key: string; historyId: string };

const HIGH = Buffer.from([0xff]);
const NUL = Buffer.from([0x00]);
// With the `u` flag a surrogate class matches only unpaired surrogates.
const LONE_SURROGATE_RE = /[\uD800-\uDFFF]/u;

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

/**
 * True when `s` can be a stored name: non-empty, no NUL, and well-formed Unicode.
 * A lone surrogate would be encoded as U+FFFD, so two different names would
 * share one record. Readers use this to answer "not found" for names that can
 * never have been written, instead of failing on client input.
 */
export function isStorableName(s: string): boolean {
  return typeof s === 'string' && s.length > 0 && !s.includes('\u0000') && !LONE_SURROGATE_RE.test(s);
}

/** True when `id` is a well-formed uploadId (see {@link UPLOAD_ID_RE}). */
export function isUploadId(id: string): boolean {
  return typeof id === 'string' && UPLOAD_ID_RE.test(id);
}

/** True when `id` is a well-formed historyId (see {@link HISTORY_ID_RE}). */
export function isHistoryId(id: string): boolean {
  return typeof id === 'string' && HISTORY_ID_RE.test(id);
}

/** True when `n` is a part number S3 accepts. */
export function isPartNumber(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_PART_NUMBER;
}

function assertName(what: string, s: string): void {
  if (!isStorableName(s)) {
    throw new TypeError(`${what} must be non-empty, well-formed Unicode without U+0000: ${JSON.stringify(s)}`);
  }
}

function assertBound(what: string, s: string): void {
  if (typeof s !== 'string') throw new TypeError(`${what} must be a string`);
}

/** Throws unless `uid` is a bucket uid: bucket uids come from our own records, so a bad one is a bug. */
export function assertBucketUid(uid: string): void {
  if (typeof uid !== 'string' || !BUCKET_UID_RE.test(uid)) {
    throw new TypeError(`bucketUid must be 32 lowercase hex digits: ${JSON.stringify(uid)}`);
  }
}

function assertUploadId(id: string): void {
  if (!isUploadId(id)) throw new TypeError(`invalid uploadId: ${JSON.stringify(id)}`);
}

function pad5(n: number): string {
  return String(n).padStart(5, '0');
}

/**
 * A prefix that no stored name can start with (it has NUL or a lone surrogate)
 * selects nothing; an empty range says so without a special case in the store.
 */
function unmatchable(prefix: string): boolean {
  return prefix.includes('\u0000') || LONE_SURROGATE_RE.test(prefix);
}

function emptyRange(at: Buffer): KeyRange {
  return { gte: at, lt: at };
}

/** Range over every key starting with `prefix`, optionally strictly after `after`. */
function rangeFrom(prefix: Buffer, after?: Buffer): KeyRange {
  const lt = Buffer.concat([prefix, HIGH]);
  if (after !== undefined && Buffer.compare(after, prefix) >= 0) return { gt: after, lt };
  return { gte: prefix, lt };
}

/** Compare two strings by their UTF-8 bytes (S3 key order). */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(utf8(a), utf8(b));
}

/** `b/<name>` */
export function bucketKey(name: string): Buffer {
  assertName('bucket name', name);
  return utf8(`b/${name}`);
}

/** Every bucket record, in name order. */
export function bucketRange(): KeyRange {
  return rangeFrom(utf8('b/'));
}

/** `o/<bucketUid>/<objectKey>` */
export function objectKey(bucketUid: string, key: string): Buffer {
  assertBucketUid(bucketUid);
  assertName('object key', key);
  return utf8(`o/${bucketUid}/${key}`);
}

/**
 * Objects of one bucket whose key starts with `prefix` and is strictly greater
 * than `after`. Bounds are client input and are not validated beyond being
 * strings; `after` with a lone surrogate compares as if it were U+FFFD.
 */
export function objectRange(bucketUid: string, prefix = '', after?: string): KeyRange {
  assertBucketUid(bucketUid);
  assertBound('prefix', prefix);
  const base = utf8(`o/${bucketUid}/${prefix}`);
  if (unmatchable(prefix)) return emptyRange(base);
  if (after === undefined) return rangeFrom(base);
  assertBound('after', after);
  return rangeFrom(base, utf8(`o/${bucketUid}/${after}`));
}

/** `u/<bucketUid>/<objectKey>\0<uploadId>` */
export function uploadKey(bucketUid: string, key: string, uploadId: string): Buffer {
  assertBucketUid(bucketUid);
  assertName('object key', key);
  assertUploadId(uploadId);
  return Buffer.concat([utf8(`u/${bucketUid}/${key}`), NUL, utf8(uploadId)]);
}

/**
 * Uploads of one bucket with key starting with `prefix`, after a position in
 * (key, uploadId) order. As in S3's key-marker/upload-id-marker: with only
 * `afterKey`, uploads of every key strictly greater than it; with both, also the
 * uploads of `afterKey` whose uploadId is greater. `afterUploadId` alone is ignored.
 */
export function uploadRange(bucketUid: string, prefix = '', afterKey?: string, afterUploadId?: string): KeyRange {
  assertBucketUid(bucketUid);
  assertBound('prefix', prefix);
  const base = utf8(`u/${bucketUid}/${prefix}`);
  if (unmatchable(prefix)) return emptyRange(base);
  if (afterKey === undefined) return rangeFrom(base);
  assertBound('afterKey', afterKey);
  const keyBytes = utf8(`u/${bucketUid}/${afterKey}`);
  if (afterUploadId === undefined) {
    // keyBytes‖NUL‖0xFF is above every upload of afterKey and below any longer key.
    return rangeFrom(base, Buffer.concat([keyBytes, NUL, HIGH]));
  }
  assertBound('afterUploadId', afterUploadId);
  return rangeFrom(base, Buffer.concat([keyBytes, NUL, utf8(afterUploadId)]));
}

/** `v/<bucketUid>/<objectKey>\0<historyId>` */
export function versionKey(bucketUid: string, key: string, historyId: string): Buffer {
  assertBucketUid(bucketUid);
  assertName('object key', key);
  if (!isHistoryId(historyId)) throw new TypeError(`invalid historyId: ${JSON.stringify(historyId)}`);
  return Buffer.concat([utf8(`v/${bucketUid}/${key}`), NUL, utf8(historyId)]);
}

/** The noncurrent versions of one key, in historyId order (newest first), strictly after `after`. */
export function keyVersionsRange(bucketUid: string, key: string, after?: string): KeyRange {
  assertBucketUid(bucketUid);
  assertBound('key', key);
  const base = Buffer.concat([utf8(`v/${bucketUid}/${key}`), NUL]);
  if (!isStorableName(key)) return emptyRange(base);
  if (after === undefined) return rangeFrom(base);
  assertBound('after', after);
  return rangeFrom(base, Buffer.concat([base, utf8(after)]));
}

/** Every noncurrent version of one bucket. */
export function bucketVersionsRange(bucketUid: string): KeyRange {
  assertBucketUid(bucketUid);
  return rangeFrom(utf8(`v/${bucketUid}/`));
}

/** Every noncurrent version of every bucket. */
export function allVersionsRange(): KeyRange {
  return rangeFrom(utf8('v/'));
}

/** The historyId at the end of a raw `v/` key (after its last NUL). */
export function historyIdOf(raw: Buffer): string {
  return raw.subarray(raw.lastIndexOf(0) + 1).toString('utf8');
}

/** `p/<uploadId>/<partNumber zero-padded to 5>` */
export function partKey(uploadId: string, partNumber: number): Buffer {
  assertUploadId(uploadId);
  if (!isPartNumber(partNumber)) {
    throw new RangeError(`part number must be an integer in 1..${MAX_PART_NUMBER}: ${partNumber}`);
  }
  return utf8(`p/${uploadId}/${pad5(partNumber)}`);
}

/** Parts of one upload with partNumber > `after` (0 or omitted: all). */
export function partRange(uploadId: string, after = 0): KeyRange {
  assertUploadId(uploadId);
  if (!Number.isInteger(after) || after < 0) throw new RangeError(`invalid part number marker: ${after}`);
  const base = utf8(`p/${uploadId}/`);
  // Markers beyond the 5-digit space are clamped; no part can exceed 10000 anyway.
  return rangeFrom(base, utf8(`p/${uploadId}/${pad5(Math.min(after, 99_999))}`));
}

/** Every object record of every bucket. */
export function allObjectsRange(): KeyRange {
  return rangeFrom(utf8('o/'));
}

/** Every part record of every upload. */
export function allPartsRange(): KeyRange {
  return rangeFrom(utf8('p/'));
}

/** Decode a raw key (inverse of the encoders above). Throws on a key of unknown shape. */
export function decodeKey(raw: Buffer): DecodedKey {
  const s = raw.toString('utf8');
  const rest = s.slice(2);
  switch (s.slice(0, 2)) {
    case 'b/':
      return { kind: 'bucket', name: rest };
    case 'o/':
      if (rest[32] === '/') return { kind: 'object', bucketUid: rest.slice(0, 32), key: rest.slice(33) };
      break;
    case 'u/': {
      const nul = rest.lastIndexOf('\u0000');
      if (rest[32] === '/' && nul > 33) {
        return {
          kind: 'upload',
          bucketUid: rest.slice(0, 32),
          key: rest.slice(33, nul),
          uploadId: rest.slice(nul + 1),
        };
      }
      break;
    }
    case 'v/': {
      const nul = rest.lastIndexOf('\u0000');
      if (rest[32] === '/' && nul > 33) {
        return {
          kind: 'version',
          bucketUid: rest.slice(0, 32),
          key: rest.slice(33, nul),
          historyId: rest.slice(nul + 1),
        };
      }
      break;
    }
    case 'p/': {
      const slash = rest.lastIndexOf('/');
      if (slash > 0) return { kind: 'part', uploadId: rest.slice(0, slash), partNumber: Number(rest.slice(slash + 1)) };
      break;
    }
  }
  throw new TypeError(`unrecognised meta key: ${JSON.stringify(s)}`);
}
