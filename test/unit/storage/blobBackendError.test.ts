import { describe, expect, it } from 'vitest';
import { toS3Error } from '../../../src/s3/errors.js';
import { BlobBackendError } from '../../../src/storage/blobBackendError.js';

describe('BlobBackendError on the wire', () => {
  it.each([
    ['SlowDown', 503],
    ['ServiceUnavailable', 503],
  ] as const)('%s becomes S3 %s %i without the backend detail', (code, status) => {
    const e = toS3Error(
      new BlobBackendError(code, 'blob backend put 00ff: SlowDown (HTTP 503) at http://backend.internal'),
    );
    expect([e.code, e.status]).toEqual([code, status]);
    expect(e.message).not.toMatch(/backend|00ff|internal/);
  });
});
