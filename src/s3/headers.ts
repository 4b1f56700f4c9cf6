/**
 * Header names and the request/response header mapping for objects:
 * standard headers, x-amz-meta-*, checksum declarations, SSE, KP headers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { stripAwsChunked } from '../auth/sigv4/bodyDecoder.js';
import { headerValue as header } from '../util/httpHeaders.js';
import type { BucketRecord, ObjectRecord, SealedMeta, StandardHeaders } from '../services/types.js';
import {
  checksumHeaderName,
  CHECKSUM_ALGORITHMS,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from '../util/checksums.js';
import type { UploadExpectations } from '../services/types.js';
import type { WriteConditions } from '../services/objectService.js';
import { S3Error } from './errors.js';
import { httpDate, quoteEtag } from './xml/encode.js';
import { objectSseHeaders } from './sseHeaders.js';

export const KP_ALGORITHM = 'ibm-sse-kp-encryption-algorithm';
export const KP_ROOT_KEY_CRN = 'ibm-sse-kp-customer-root-key-crn';
export const KP_CRK_ID = 'ibm-sse-kp-crk-id';
export const KP_ENABLED = 'ibm-sse-kp-enabled';
export const MAX_USER_META_BYTES = 2048;

/** One request header's value, a repeated one joined with "," (the one reader, shared with SigV4). */
export { headerValue as header } from '../util/httpHeaders.js';

export function standardHeaders(h: IncomingHttpHeaders): StandardHeaders {
  return {
    contentType: header(h, 'content-type'),
    // Content-Encoding without the transport-only `aws-chunked` token (never stored).
    contentEncoding: stripAwsChunked(header(h, 'content-encoding')),
    contentDisposition: header(h, 'content-disposition'),
    contentLanguage: header(h, 'content-language'),
    cacheControl: header(h, 'cache-control'),
    expires: header(h, 'expires'),
  };
}

export function userMetadata(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [k, v] of Object.entries(h)) {
    if (!k.startsWith('x-amz-meta-') || v === undefined) continue;
    const name = k.slice('x-amz-meta-'.length);
    const value = Array.isArray(v) ? v.join(',') : v;
    // Node decodes header bytes as latin1, one char per byte on the wire.
    bytes += Buffer.byteLength(name, 'latin1') + Buffer.byteLength(value, 'latin1');
    out[name] = value;
  }
  if (bytes > MAX_USER_META_BYTES)
    throw new S3Error('MetadataTooLarge', undefined, { Size: bytes, MaxSizeAllowed: MAX_USER_META_BYTES });
  return out;
}

/** Parse the tagging header (x-amz-tagging: k=v&k2=v2). */
export function taggingHeader(h: IncomingHttpHeaders): Record<string, string> | undefined {
  const raw = header(h, 'x-amz-tagging');
  if (raw === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (!k || k.length > 128 || v.length > 256) throw new S3Error('InvalidTag');
    out[k] = v;
  }
  if (Object.keys(out).length > 10) throw new S3Error('InvalidTag', 'Object tags cannot be greater than 10');
  return out;
}

/**
 * Integrity declarations of an upload: Content-MD5, one x-amz-checksum-* header,
 * x-amz-sdk-checksum-algorithm, x-amz-trailer. The trailer value itself is
 * verified by the body decoder; we compute the same algorithm to store it.
 */
export function uploadExpectations(
  h: IncomingHttpHeaders,
  length: number | undefined,
): { expect: UploadExpectations; algorithm?: ChecksumAlgorithm } {
  const expect: UploadExpectations = { length, checksums: {}, compute: [] };
  const md5 = header(h, 'content-md5');
  if (md5 !== undefined) {
    // Exactly the padded base64 of 16 bytes; anything else could never match.
    if (!/^[A-Za-z0-9+/]{22}==$/.test(md5.trim())) throw new S3Error('InvalidDigest');
    expect.contentMd5 = md5.trim();
  }
  let algorithm: ChecksumAlgorithm | undefined;
  for (const a of CHECKSUM_ALGORITHMS) {
    const v = header(h, checksumHeaderName(a));
    if (v === undefined) continue;
    if (algorithm)
      throw new S3Error(
        'InvalidRequest',
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      );
    algorithm = a;
    expect.checksums![a] = v.trim();
  }
  const trailer = header(h, 'x-amz-trailer');
  if (trailer) {
    if (algorithm)
      throw new S3Error(
        'InvalidRequest',
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      );
    const a = parseChecksumAlgorithm(
      trailer
        .trim()
        .toLowerCase()
        .replace(/^x-amz-checksum-/, ''),
    );
    if (!a) throw new S3Error('InvalidRequest', `The value specified in the x-amz-trailer header is not supported`);
    algorithm = a;
    expect.compute!.push(a);
  }
  const sdk = header(h, 'x-amz-sdk-checksum-algorithm');
  if (sdk) {
    const a = parseChecksumAlgorithm(sdk);
    if (!a) throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    if (algorithm && a !== algorithm)
      throw new S3Error('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
    if (!algorithm) {
      algorithm = a;
      expect.compute!.push(a);
    }
  }
  return { expect, algorithm };
}

/**
 * If-Match / If-None-Match of a conditional write (PutObject,
 * CompleteMultipartUpload). S3 takes only '*' in If-None-Match and not both
 * headers together: anything else is 501 NotImplemented, as S3 answers.
 */
export function writeConditions(h: IncomingHttpHeaders): WriteConditions | undefined {
  const ifMatch = header(h, 'if-match');
  const ifNoneMatch = header(h, 'if-none-match');
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*')
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', {
      Header: 'If-None-Match',
    });
  if (ifMatch !== undefined && ifNoneMatch !== undefined)
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', {
      Header: 'If-Match',
    });
  return ifNoneMatch !== undefined ? { ifNoneMatch: '*' } : { ifMatch };
}

/** Response headers of GET/HEAD for an object. */
export function objectHeaders(
  b: BucketRecord,
  rec: ObjectRecord,
  meta: SealedMeta,
  withChecksums: boolean,
): Record<string, string> {
  const h: Record<string, string> = {
    'last-modified': httpDate(rec.lastModified),
    etag: quoteEtag(meta.etag),
    'accept-ranges': 'bytes',
    'content-type': rec.headers.contentType ?? 'binary/octet-stream',
    ...objectSseHeaders(b, rec.sse, meta.sseContext),
  };
  if (rec.headers.contentEncoding) h['content-encoding'] = rec.headers.contentEncoding;
  if (rec.headers.contentDisposition) h['content-disposition'] = rec.headers.contentDisposition;
  if (rec.headers.contentLanguage) h['content-language'] = rec.headers.contentLanguage;
  if (rec.headers.cacheControl) h['cache-control'] = rec.headers.cacheControl;
  if (rec.headers.expires) h.expires = rec.headers.expires;
  if (rec.storageClass && rec.storageClass !== 'STANDARD') h['x-amz-storage-class'] = rec.storageClass;
  for (const [k, v] of Object.entries(meta.userMeta)) h[`x-amz-meta-${k}`] = v;
  if (meta.tags && Object.keys(meta.tags).length) h['x-amz-tagging-count'] = String(Object.keys(meta.tags).length);
  if (withChecksums) Object.assign(h, checksumHeaders(meta.checksums, !!rec.parts));
  return h;
}

export function checksumHeaders(checksums: Record<string, string>, multipart: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [alg, v] of Object.entries(checksums)) {
    const a = parseChecksumAlgorithm(alg);
    if (!a) continue;
    h[checksumHeaderName(a)] = v;
    h['x-amz-checksum-type'] = multipart && v.includes('-') ? 'COMPOSITE' : 'FULL_OBJECT';
  }
  return h;
}

/** response-content-* query overrides (presigned links). */
export function responseOverrides(q: URLSearchParams): Record<string, string> {
  const map: Record<string, string> = {
    'response-content-type': 'content-type',
    'response-content-language': 'content-language',
    'response-expires': 'expires',
    'response-cache-control': 'cache-control',
    'response-content-disposition': 'content-disposition',
    'response-content-encoding': 'content-encoding',
  };
  const out: Record<string, string> = {};
  for (const [p, h] of Object.entries(map)) {
    const v = q.get(p);
    if (v !== null) out[h] = v;
  }
  return out;
}
