/**
 * The one error type of auth/sigv4. `code` is the S3 error code the wire
 * response must carry; s3/errors.ts maps it to an HTTP status. `detail` holds
 * extra XML elements AWS sends with some codes (e.g. <Region> on
 * AuthorizationHeaderMalformed, which s3cmd reads to retry in the right
 * region). Messages and details never contain secrets, signing keys, the
 * Authorization header or the canonical request (it can hold SSE-C keys).
 */

/** S3 error codes produced by signature verification and body decoding. */
export type SigV4ErrorCode =
  | 'AccessDenied'
  | 'SignatureDoesNotMatch'
  | 'InvalidAccessKeyId'
  | 'RequestTimeTooSkewed'
  | 'AuthorizationHeaderMalformed'
  | 'AuthorizationQueryParametersError'
  | 'MissingAuthenticationToken'
  | 'InvalidRequest'
  | 'XAmzContentSHA256Mismatch'
  | 'IncompleteBody'
  | 'InvalidChunkSizeError'
  | 'BadDigest'
  | 'XAmzContentChecksumMismatch'
  | 'InvalidArgument'
  | 'MalformedTrailerError'
  | 'InvalidDigest'
  | 'MissingContentLength'
  | 'InvalidPolicyDocument';

/** A verification or body-decoding failure, carrying its S3 error code. */
export class SigV4Error extends Error {
  /**
   * @param code the S3 error code
   * @param message a client-safe message
   * @param detail extra elements for the XML error body (e.g. { Region })
   */
  constructor(
    readonly code: SigV4ErrorCode,
    message: string,
    readonly detail?: Record<string, string>,
  ) {
    super(message);
    this.name = 'SigV4Error';
  }
}
