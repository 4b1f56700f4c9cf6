/**
 * A remote blob backend (S3BlobStore) that is throttling or unreachable, after
 * the store's own retries. It is not the client's fault and not data loss, so
 * the S3 layer answers 503 with the code (SlowDown / ServiceUnavailable) that
 * tells S3 clients to back off and try again. The message names the backend
 * operation and cause for the log; it never carries credentials.
 */
export type BlobBackendCode = 'SlowDown' | 'ServiceUnavailable';

export class BlobBackendError extends Error {
  constructor(
    readonly code: BlobBackendCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BlobBackendError';
  }
}
