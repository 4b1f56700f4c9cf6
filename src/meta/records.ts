/**
 * Record types kept in the MetaStore. Plain JSON-serialisable objects.
 * Binary values are hex (ids, salts, digests) or base64 (sealed blobs).
 *
 * What is stored in clear here is exactly what encryption.md allows an attacker
 * with the drives to learn: names, sizes, timestamps, standard headers. ETags,
 * checksums and x-amz-meta-* live only inside `sealed` (AES-256-GCM under K_meta).
 */
import type { AccessControlList, ObjectOwnership, PublicAccessBlock } from './accessRecords.js';

export interface BucketEncryption {
  /** Root key CRN that wraps the DEK. */
  rootKeyCrn: string;
  /** True when the CRN came from the client (ibm-sse-kp / PutBucketEncryption), false for the provider default. */
  customerManaged: boolean;
  /** Opaque wrapped DEK as returned by the KMS. */
  wrappedDek: string;
  /** Root-key version that wrapped `wrappedDek`. */
  keyVersion: string;
  /** AAD list given to the KMS at wrap time; must be given again to unwrap. */
  aad: string[];
  /** Increments if the DEK itself is ever replaced (never by rotation, which only rewraps). */
  dekGeneration: number;
}

/** A bucket's versioning state (PutBucketVersioning); absent: never versioned. */
export type VersioningStatus = 'Enabled' | 'Suspended';

export interface BucketRecord {
  name: string;
  /** Random 16-byte id (hex); a bucket re-created under the same name gets a new uid. */
  uid: string;
  /** Account id of the owner (tenant). */
  owner: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  region: string;
  encryption: BucketEncryption;
  /** Object tags, ACL etc. would go in their own records; bucket-level sub-resources here. */
  tagging?: Record<string, string>;
  /** Absent until PutBucketVersioning; once set it never goes back to absent (S3's rule). */
  versioning?: VersioningStatus;
  /** PutBucketCors: the rules, in the order given (the first that matches a request applies). */
  cors?: CorsRule[];
  /** PutBucketLifecycleConfiguration: the rules, in the order given (services/lifecycleRules.ts applies them). */
  lifecycle?: LifecycleRule[];
  /**
   * Object Lock (CreateBucket x-amz-bucket-object-lock-enabled, or
   * PutObjectLockConfiguration on a versioned bucket). Once set it never goes:
   * versioning stays Enabled and the bucket is registered on its root key with
   * preventKeyDeletion (services/objectLock.ts).
   */
  objectLock?: BucketObjectLock;
  /** PutBucketPolicy: the policy document as the owner sent it (validated JSON). */
  policy?: string;
  /**
   * Root keys other than the bucket's that SSE-KMS objects of this bucket were
   * written under: the bucket is registered on each (one registration per
   * (bucket, key), kept until DeleteBucket; services/objectSseKeys.ts).
   */
  objectKeyCrns?: string[];
  /** PutPublicAccessBlock. */
  publicAccessBlock?: PublicAccessBlock;
  /** PutBucketAcl (or a canned/grant ACL at CreateBucket). Absent: the owner holds FULL_CONTROL, nobody else anything. */
  acl?: AccessControlList;
  /** PutBucketOwnershipControls. Absent: BucketOwnerEnforced. */
  ownership?: ObjectOwnership;
}

/** Object Lock retention modes: GOVERNANCE may be bypassed by the owner, COMPLIANCE by no one. */
export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface BucketObjectLock {
  enabled: true;
  /** Default retention given to every new version that asks for none; exactly one of days / years. */
  rule?: { mode: RetentionMode; days?: number; years?: number };
}

/** One version's retention: it cannot be deleted before `retainUntil` (ms since the epoch). */
export interface ObjectRetention {
  mode: RetentionMode;
  retainUntil: number;
}

/** One CORS rule of a bucket, validated as AWS validates it (src/s3/xml/corsXml.ts). */
export interface CorsRule {
  id?: string;
  /** GET, PUT, POST, DELETE, HEAD. */
  allowedMethods: string[];
  /** Origins; each may hold one `*` wildcard. */
  allowedOrigins: string[];
  /** Request headers a preflight may ask for; each may hold one `*`; compared case-insensitively. */
  allowedHeaders: string[];
  /** Response headers the browser may show to the page. */
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/** A tag condition of a lifecycle filter. */
export interface LifecycleTag {
  key: string;
  value: string;
}

/**
 * One lifecycle rule, validated as AWS validates it (src/s3/xml/lifecycleXml.ts).
 * The filter's conditions all hold at once; `filterForm` remembers how it was
 * written (legacy top-level Prefix, a Filter with at most one condition, or
 * Filter/And) so GetBucketLifecycleConfiguration answers it the same way.
 */
export interface LifecycleRule {
  id: string;
  status: 'Enabled' | 'Disabled';
  filterForm: 'prefix' | 'filter' | 'and';
  prefix?: string;
  tags?: LifecycleTag[];
  /** Bytes; the object must be strictly larger. */
  sizeGreaterThan?: number;
  /** Bytes; the object must be strictly smaller. */
  sizeLessThan?: number;
  /** Exactly one of days, date (ms since the epoch, a midnight UTC) or expiredObjectDeleteMarker. */
  expiration?: { days?: number; date?: number; expiredObjectDeleteMarker?: boolean };
  noncurrentExpiration?: { noncurrentDays: number; newerNoncurrentVersions?: number };
  /** AbortIncompleteMultipartUpload's DaysAfterInitiation. */
  abortIncompleteUploadDays?: number;
}

/** One encrypted stream (a single PUT, or one part of a multipart upload). */
export interface StreamRef {
  /** Blob id (hex, 16 random bytes). */
  dataId: string;
  /** Stream salt (hex, 32 bytes), also inside the stream header. */
  salt: string;
  /** SHA-256 of the 64-byte stream header (hex): detects file swap and rollback. */
  headerDigest: string;
  /** Plaintext bytes in this stream. */
  size: number;
  /** log2 of the segment size. */
  segmentLog2: number;
}

export interface PartRef extends StreamRef {
  partNumber: number;
  /** Upload id the part was written under (bound into the segment AAD). */
  uploadId: string;
  /** Part ETag (hex MD5, no quotes) sealed under the record's K_meta. */
  sealedEtag: string;
}

/** Headers that round-trip in clear (allowed by the threat model). */
export interface StandardHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
}

/** What `sealed` decrypts to. */
export interface SealedMeta {
  /** Hex MD5 (single) or hex-N (multipart), no quotes. */
  etag: string;
  /** Flexible checksums by algorithm (CRC32 ...), base64 as on the wire. */
  checksums: Record<string, string>;
  /** x-amz-meta-* with lower-cased names, without the prefix. */
  userMeta: Record<string, string>;
  /** Object tags. */
  tags?: Record<string, string>;
  /** Object Lock retention of this version (sealed, so a changed record fails to open). */
  retention?: ObjectRetention;
  /** Object Lock legal hold: while true the version cannot be deleted, whatever its retention. */
  legalHold?: boolean;
  /**
   * This version's owner and ACL (x-amz-acl / x-amz-grant-* at the write,
   * PutObjectAcl). Absent: the bucket owner owns it with FULL_CONTROL alone.
   * Sealed, not in clear beside the headers: an ACL is an authorization
   * decision, and in clear anyone able to edit the metadata store could make
   * an object public-read; inside the seal an edited ACL fails to open like
   * any other edit. Authorization needs it only after the bucket (and its
   * DEK) is loaded, which every object request does anyway.
   */
  acl?: AccessControlList;
  /** x-amz-server-side-encryption-context (base64 JSON, as sent) of an SSE-KMS object: bound into its DEK's wrap. */
  sseContext?: string;
}

/**
 * SSE-KMS per object: the object's own DEK, wrapped by a root key other than
 * (or the same as) the bucket's, AAD list `aad` (+ the sealed context).
 */
export interface KmsObjectKey {
  type: 'aws:kms';
  keyCrn: string;
  wrappedDek: string;
  keyVersion: string;
  aad: string[];
  bucketKeyEnabled?: boolean;
}

/** SSE-C: only a salt and a salted HMAC of the customer's key (src/crypto/objectKeys.ts); never the key. */
export interface CustomerObjectKey {
  type: 'SSE-C';
  /** Hex, 32 bytes. */
  salt: string;
  /** Hex HMAC-SHA256(salt, label ‖ key). */
  keyCheck: string;
}

/** A per-object key; absent: the object is under its bucket's DEK. */
export type ObjectSse = KmsObjectKey | CustomerObjectKey;

export interface ObjectRecord {
  bucketUid: string;
  key: string;
  /**
   * Random id of this record (hex, a new one per rewrite); bound into K_meta and
   * the sealed AAD. Not the S3 version id: that is `version`.
   */
  versionId: string;
  /**
   * S3 version id (x-amz-version-id) of this object version, bound into the seal
   * as the address's version. Absent: S3's "null" version (every object of a
   * bucket never versioned, and those written while versioning is suspended).
   */
  version?: string;
  /**
   * A delete marker: no data (no stream, no parts, size 0) and no seal (metaSalt
   * and sealed are empty): there is nothing secret in it to seal.
   */
  deleteMarker?: boolean;
  /** Plaintext size. */
  size: number;
  /** Milliseconds since the epoch. */
  lastModified: number;
  headers: StandardHeaders;
  storageClass?: string;
  /** Hex, 32 bytes. */
  metaSalt: string;
  /** base64 of AES-GCM(K_meta, JSON(SealedMeta)). */
  sealed: string;
  /**
   * Seal format (src/crypto/recordBinding.ts). 2: the seal's AAD binds the
   * looked-up address and the stream reference, sizes and headers below.
   * Absent: format 1, written before that (AAD = bucketUid ‖ key ‖ versionId);
   * still read, never written.
   */
  sealFormat?: number;
  /** DEK generation the object was written under. */
  dekGeneration: number;
  /** Single PUT: exactly one stream. */
  stream?: StreamRef;
  /** Completed multipart upload: ordered parts. */
  parts?: PartRef[];
  /** Checksum algorithm requested at CreateMultipartUpload / PutObject, if any. */
  checksumAlgorithm?: string;
  /** Per-object key (SSE-KMS / SSE-C); bound into the seal. Absent: the bucket's DEK. */
  sse?: ObjectSse;
}

export interface UploadRecord {
  bucketUid: string;
  key: string;
  uploadId: string;
  initiated: number;
  headers: StandardHeaders;
  storageClass?: string;
  metaSalt: string;
  /** Sealed user metadata (SealedMeta with empty etag) under K_meta(uploadId). */
  sealed: string;
  checksumAlgorithm?: string;
  checksumType?: string;
  /** The upload's per-object key: every part is written under it, Complete copies it to the object. */
  sse?: ObjectSse;
}

export interface PartRecord extends PartRef {
  lastModified: number;
  /** Sealed part checksums (base64 JSON), under the upload's K_meta. */
  sealedChecksums?: string;
}
