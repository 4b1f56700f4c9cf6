/**
 * SigV4 literals. References: AWS "Authenticating Requests (AWS Signature
 * Version 4)" for S3 (sig-v4-header-based-auth, sigv4-query-string-auth,
 * sigv4-streaming, sigv4-streaming-trailers).
 */

/** The only algorithm we accept (SigV4a / ECDSA is not supported). */
export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** String-to-sign prefix for each aws-chunked chunk. */
export const CHUNK_ALGORITHM = 'AWS4-HMAC-SHA256-PAYLOAD';
/** String-to-sign prefix for the aws-chunked trailer block. */
export const TRAILER_ALGORITHM = 'AWS4-HMAC-SHA256-TRAILER';
/** Last element of every credential scope. */
export const SCOPE_TERMINATOR = 'aws4_request';

/** Hex SHA-256 of the empty string; appears in every chunk string-to-sign. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** x-amz-content-sha256 sentinels. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

/** Header names (node lower-cases incoming names). */
export const H_AUTHORIZATION = 'authorization';
export const H_AMZ_DATE = 'x-amz-date';
export const H_DATE = 'date';
export const H_CONTENT_SHA256 = 'x-amz-content-sha256';
export const H_DECODED_LENGTH = 'x-amz-decoded-content-length';
export const H_CONTENT_LENGTH = 'content-length';
export const H_TRAILER = 'x-amz-trailer';
export const H_TRAILER_SIGNATURE = 'x-amz-trailer-signature';

/** Presigned-URL query parameters (names are case-sensitive). */
export const Q_ALGORITHM = 'X-Amz-Algorithm';
export const Q_CREDENTIAL = 'X-Amz-Credential';
export const Q_DATE = 'X-Amz-Date';
export const Q_EXPIRES = 'X-Amz-Expires';
export const Q_SIGNED_HEADERS = 'X-Amz-SignedHeaders';
export const Q_SIGNATURE = 'X-Amz-Signature';

/** Defaults for VerifyOptions; AWS uses the same limits. */
export const DEFAULT_MAX_SKEW_SECONDS = 900;
export const DEFAULT_MAX_PRESIGN_SECONDS = 604_800;

/**
 * Longest aws-chunked chunk-header or trailer line we buffer. A real line is
 * ~90 bytes ("<hex>;chunk-signature=<64 hex>"); the bound stops a client from
 * making us buffer an unbounded line, without limiting chunk *data* size.
 */
export const MAX_CHUNK_LINE = 4096;
/** Total trailer-block bytes we accept. */
export const MAX_TRAILER_BYTES = 16 * 1024;
