/**
 * Pass-through Transform for non-chunked bodies. With an expected hash (the
 * hex value of x-amz-content-sha256) it hashes what flows through and fails in
 * flush on a mismatch, i.e. before 'end', so a pipeline writing the object
 * rejects and nothing is committed. Without one (UNSIGNED-PAYLOAD) it only
 * counts bytes.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { SigV4Error } from './errors.js';

/** Verifies a signed SHA-256 payload hash, or just counts an unsigned body. */
export class PayloadHashStream extends Transform {
  private readonly hash: Hash | undefined;
  private length = 0;

  /** @param expectedHex lower-case hex SHA-256 to enforce, or undefined to only count */
  constructor(private readonly expectedHex: string | undefined) {
    super();
    this.hash = expectedHex === undefined ? undefined : createHash('sha256');
  }

  /** Bytes passed through so far. */
  get decodedLength(): number {
    return this.length;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash?.update(chunk);
    this.length += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.hash && this.hash.digest('hex') !== this.expectedHex) {
      cb(
        new SigV4Error(
          'XAmzContentSHA256Mismatch',
          'The provided x-amz-content-sha256 header does not match what was computed.',
        ),
      );
      return;
    }
    cb();
  }
}
