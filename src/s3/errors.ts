/**
 * The S3 wire error: one class, one code table, one mapper.
 *
 * Status always comes from ERROR_TABLE (AWS's ErrorResponses list), never from
 * the call site. toS3Error() is the only place that translates lower-layer
 * errors (DomainError, SigV4Error, KmsError, CryptoIntegrityError); anything
 * it does not know becomes InternalError with a generic message, and the real
 * error is logged with the request id by the errors middleware.
 */
import { SigV4Error } from '../auth/sigv4/errors.js';
import {
  BlobBackendError,
  DiskFaultError,
  DomainError,
  MetaStoreUnavailableError,
  type DeleteMarkerHit,
} from '../services/errors.js';
import { KmsError } from '../keys/errors.js';

export const ERROR_TABLE = {
  AccessControlListNotSupported: [400, 'The bucket does not allow ACLs'],
  AccessDenied: [403, 'Access Denied'],
  AccessForbidden: [403, 'CORSResponse: This CORS request is not allowed.'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'Error parsing the X-Amz-Credential parameter.'],
  BadRequest: [400, 'Bad Request'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  BucketAlreadyExists: [409, 'The requested bucket name is not available.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  ConditionalRequestConflict: [
    409,
    'A conflicting conditional operation is currently in progress against this resource. Try again.',
  ],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed size'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketAclWithObjectOwnership: [
    400,
    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
  ],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidBucketState: [409, 'The request is not valid with the current state of the bucket.'],
  InvalidChunkSizeError: [400, 'Only the last chunk is allowed to have a size less than 8192 bytes'],
  InvalidDigest: [400, 'The Content-MD5 you specified is not valid.'],
  InvalidPolicyDocument: [
    400,
    'The content of the form does not meet the conditions specified in the policy document.',
  ],
  IncorrectNumberOfFilesInPostRequest: [400, 'POST requires exactly one file upload per request.'],
  InvalidPart: [400, 'One or more of the specified parts could not be found.'],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  InvalidTag: [400, 'The tag provided was not a valid tag.'],
  // Not in AWS's list (S3 never runs out of space); 507 as MinIO answers a full backend, so a client
  // sees that retrying now will not help, unlike a 503. See diskFaultToS3.
  InsufficientStorage: [507, 'There is not enough storage space left to store this request.'],
  KeyTooLongError: [400, 'Your key is too long'],
  'KMS.DisabledException': [403, 'The root key of this bucket is disabled.'],
  'KMS.NotFoundException': [400, 'Invalid keyId'],
  'KMS.KMSInvalidStateException': [403, 'The root key of this bucket is not in a usable state.'],
  MalformedTrailerError: [400, 'The request contained trailing data that was not well-formed.'],
  MalformedPolicy: [400, "Policies must be valid JSON and the first byte must be '{'"],
  MalformedPOSTRequest: [400, 'The body of your POST request is not well-formed multipart/form-data.'],
  MaxPostPreDataLengthExceededError: [400, 'Your POST request fields preceding the upload file were too large.'],
  MalformedACLError: [400, 'The XML you provided was not well-formed or did not validate against our published schema'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MaxMessageLengthExceeded: [400, 'Your request was too big.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingRequestBodyError: [400, 'Request Body is empty'],
  MissingSecurityHeader: [400, 'Your request is missing a required header.'],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchBucketPolicy: [404, 'The bucket policy does not exist'],
  NoSuchCORSConfiguration: [404, 'The CORS configuration does not exist'],
  NoSuchObjectLockConfiguration: [404, 'The specified object does not have a ObjectLock configuration'],
  NoSuchPublicAccessBlockConfiguration: [404, 'The public access block configuration was not found'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchLifecycleConfiguration: [404, 'The lifecycle configuration does not exist'],
  NoSuchTagSet: [404, 'The TagSet does not exist'],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NoSuchUpload: [
    404,
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  ],
  NoSuchWebsiteConfiguration: [404, 'The specified bucket does not have a website configuration'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented.'],
  NotModified: [304, 'Not Modified'],
  ObjectLockConfigurationNotFoundError: [404, 'Object Lock configuration does not exist for this bucket'],
  OwnershipControlsNotFoundError: [404, 'The bucket ownership controls were not found'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  RequestHeaderSectionTooLarge: [400, 'Your request header section exceeds the maximum allowed size.'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  ServerSideEncryptionConfigurationNotFoundError: [404, 'The server side encryption configuration was not found'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [
    403,
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  ],
  UnresolvableGrantByEmailAddress: [400, 'The email address you provided does not match any account on record.'],
  XAmzContentChecksumMismatch: [400, 'The provided checksum does not match the computed checksum.'],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof ERROR_TABLE;

export class S3Error extends Error {
  readonly status: number;
  constructor(
    readonly code: S3ErrorCode,
    message?: string,
    /** Extra XML fields (BucketName, Key, Region, ...). */
    readonly fields: Record<string, string | number> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? ERROR_TABLE[code][1]);
    this.name = 'S3Error';
    this.status = ERROR_TABLE[code][0];
  }
}

function isCode(c: string): c is S3ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_TABLE, c);
}

/** Lower-layer error -> S3Error. Unknown errors become InternalError (caller logs the original). */
export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  if (err instanceof DomainError) {
    switch (err.code) {
      case 'KeyNotActive':
        return new S3Error('KMS.DisabledException', err.message, err.detail);
      case 'KeyNotFound':
        return new S3Error('InvalidArgument', err.message, err.detail);
      case 'NotModified':
        // 304 has no body: its validators go out as headers.
        return new S3Error(
          'NotModified',
          err.message,
          {},
          err.detail.ETag === undefined
            ? {}
            : { etag: `"${err.detail.ETag}"`, 'last-modified': String(err.detail.LastModified) },
        );
      case 'IntegrityError':
        // The detail (storage ids) is for the log, never for the client.
        return new S3Error('InternalError', 'The stored object failed an integrity check.');
      default:
        if (!isCode(err.code)) return new S3Error('InternalError');
        return new S3Error(
          err.code,
          err.message,
          err.detail,
          err.deleteMarker ? deleteMarkerHeaders(err.deleteMarker) : {},
        );
    }
  }
  if (err instanceof KmsError) return kmsToS3(err);
  // A throttling or unreachable data tier: 503 with the code that makes S3 clients back off and retry.
  if (err instanceof BlobBackendError) return new S3Error(err.code);
  if (err instanceof MetaStoreUnavailableError) return new S3Error('ServiceUnavailable');
  if (err instanceof DiskFaultError) return diskFaultToS3(err);
  if (err instanceof SigV4Error) {
    if (isCode(err.code)) return new S3Error(err.code, err.message, err.detail ?? {});
    return new S3Error('AccessDenied', err.message);
  }
  if ((err as { code?: unknown } | null)?.code === 'EINSUFFICIENTSHARDS') {
    // Every drive that refused the write is full: the set is out of space, not out of drives.
    if ((err as { storageFull?: unknown }).storageFull === true) return new S3Error('InsufficientStorage');
    return new S3Error('ServiceUnavailable', 'Too few storage drives are available to serve this request.');
  }
  return new S3Error('InternalError');
}

/** What S3 sends with an answer about a delete marker (a 404 for the current version, a 405 by version id). */
function deleteMarkerHeaders(m: DeleteMarkerHit): Record<string, string> {
  return {
    'x-amz-delete-marker': 'true',
    'x-amz-version-id': m.version,
    'last-modified': new Date(m.lastModified).toUTCString(),
  };
}

/**
 * A local disk that failed: full -> 507 InsufficientStorage (MinIO's status for
 * a full backend; AWS has no such answer), read-only or I/O error -> 503
 * ServiceUnavailable, which clients retry with backoff. The message gives the
 * reason in a few words; the errno and drive are in the server log, never here.
 */
function diskFaultToS3(err: DiskFaultError): S3Error {
  switch (err.kind) {
    case 'full':
      return new S3Error('InsufficientStorage');
    case 'readonly':
      return new S3Error('ServiceUnavailable', 'A storage drive is read-only, so nothing can be written to it now.');
    default:
      return new S3Error('ServiceUnavailable', 'A storage drive reported an I/O error; the request was not completed.');
  }
}

/**
 * KMS failures on the data path. Disabled, deleted and purged keys, or a lost
 * authorization, all mean "this tenant may not read this bucket now": 403 with a
 * code that says why (key-protect.md 7: AccessDenied-style is the most S3-like).
 */
function kmsToS3(err: KmsError): S3Error {
  switch (err.reason) {
    case 'KEY_ACTION_INVALID_STATE_ERR':
    case 'KEY_EXPIRED_ERR':
      return new S3Error('KMS.DisabledException', 'The root key of this bucket is disabled or expired.');
    case 'KEY_DELETED_ERR':
      return new S3Error(
        'KMS.KMSInvalidStateException',
        'The root key of this bucket has been deleted: its data is crypto-shredded.',
      );
    case 'KEY_NOT_FOUND_ERR':
    case 'UNAUTHORIZED_ERR':
      return new S3Error('AccessDenied', 'The root key of this bucket could not be found or is not authorized.');
    case 'UNPROCESSABLE_CIPHERTEXT_ERR':
      return new S3Error('AccessDenied', 'The bucket data key could not be unwrapped.');
    case 'KMS_UNAVAILABLE':
      return new S3Error('ServiceUnavailable', 'The key management service is unavailable.');
    default:
      return new S3Error('InternalError');
  }
}
