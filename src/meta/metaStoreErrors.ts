/**
 * A shared metadata database (PgMetaStore) that cannot be reached or is
 * overloaded, after the store's own retries. Not the client's fault and not
 * data loss: the S3 layer answers 503 ServiceUnavailable, which S3 clients
 * retry with backoff. The message is for the log and never holds the URL.
 */
export class MetaStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetaStoreUnavailableError';
  }
}

/**
 * A batch's expectObject did not hold: another gateway changed the object
 * since it was read. Nothing was written; the caller reads again and retries.
 */
export class MetaConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetaConflictError';
  }
}
