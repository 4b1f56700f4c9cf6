/**
 * UploadHasher: a pass-through Transform that computes, over the plaintext as it
 * streams in, the MD5 (the ETag), the requested flexible checksums and the size,
 * and checks them in flush() against what the client declared. Failing in
 * flush (before the stream ends) means the encryptor never emits its final
 * segment, the blob is never renamed into place, and no record is committed.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { createChecksum, type Checksum, type ChecksumAlgorithm } from '../util/checksums.js';
import { DomainError } from './errors.js';

export interface UploadExpectations {
  /** Content-MD5 as sent (base64), verified -> BadDigest. */
  contentMd5?: string;
  /** Checksums the client sent as headers (base64), verified -> XAmzContentChecksumMismatch. */
  checksums?: Partial<Record<ChecksumAlgorithm, string>>;
  /** Algorithms to compute even without an expected value (stored and echoed). */
  compute?: ChecksumAlgorithm[];
  /** Exact plaintext length the client declared, if any. */
  length?: number;
  /** Upper bound on size (EntityTooLarge). */
  maxSize?: number;
}

export class UploadHasher extends Transform {
  private readonly md5: Hash = createHash('md5');
  private readonly sums = new Map<ChecksumAlgorithm, Checksum>();
  size = 0;
  etag = '';
  readonly checksums: Partial<Record<ChecksumAlgorithm, string>> = {};

  constructor(private readonly expect: UploadExpectations) {
    super();
    const algs = new Set<ChecksumAlgorithm>([
      ...(expect.compute ?? []),
      ...(Object.keys(expect.checksums ?? {}) as ChecksumAlgorithm[]),
    ]);
    for (const a of algs) this.sums.set(a, createChecksum(a));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.expect.maxSize !== undefined && this.size > this.expect.maxSize) {
      cb(new DomainError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'));
      return;
    }
    if (this.expect.length !== undefined && this.size > this.expect.length) {
      cb(new DomainError('IncompleteBody', 'The request body is longer than the declared length.'));
      return;
    }
    this.md5.update(chunk);
    for (const c of this.sums.values()) c.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.expect.length !== undefined && this.size !== this.expect.length) {
      cb(
        new DomainError(
          'IncompleteBody',
          'You did not provide the number of bytes specified by the Content-Length HTTP header.',
        ),
      );
      return;
    }
    const md5 = this.md5.digest();
    this.etag = md5.toString('hex');
    if (this.expect.contentMd5 !== undefined && md5.toString('base64') !== this.expect.contentMd5) {
      cb(new DomainError('BadDigest', 'The Content-MD5 you specified did not match what we received.'));
      return;
    }
    for (const [alg, c] of this.sums) {
      const got = c.digest().toString('base64');
      this.checksums[alg] = got;
      const want = this.expect.checksums?.[alg];
      if (want !== undefined && want !== got) {
        cb(
          new DomainError(
            'XAmzContentChecksumMismatch',
            `The ${alg} you specified did not match the calculated checksum.`,
          ),
        );
        return;
      }
    }
    cb();
  }
}
