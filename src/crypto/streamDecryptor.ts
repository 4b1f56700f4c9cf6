/**
 * Decrypting side of the stream format: the ciphertext of a SegmentSpan in,
 * exactly span.length authenticated plaintext bytes out.
 * Format and rationale: index.ts / docs/encryption.md.
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { CryptoIntegrityError } from './errors.js';
import { TAG_SIZE, parseHeader, segmentCount, segmentPlainLength, segmentSpan, type SegmentSpan } from './format.js';
import { deriveDataKey, keyCommitment } from './kdf.js';
import { ByteQueue, segmentNonce, streamAad, type StreamBinding } from './segment.js';

export type { StreamBinding } from './segment.js';

/** Options of createDecryptor. */
export interface DecryptorOptions {
  /** The bucket DEK (32 bytes, plaintext). Not retained. */
  dek: Buffer;
  /** Must equal the binding the stream was written with. */
  binding: StreamBinding;
  /** The 64 header bytes read from the blob. */
  header: Buffer;
  /** SHA-256 of the header as kept in the record (the authority, not the disk). */
  expectedHeaderDigest: Buffer;
  /** Plaintext size of the whole stream, from the record. */
  plainSize: number;
  /** From segmentSpan(plainSize, segmentLog2, start, end). */
  span: SegmentSpan;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Transform: ciphertext bytes span.cipherStart..span.cipherEnd in any chunking
 * -> the requested plaintext.
 *
 * Each segment is buffered whole and its tag verified before any of its bytes is
 * pushed, so a consumer never sees unauthenticated plaintext. Knowing plainSize,
 * the decryptor knows every segment's exact length and which one is final
 * (index n-1, nonce last = 0x01). Input that stops before the span's last segment
 * is complete, or continues after it, is an error: a short body must never look
 * like a complete one.
 */
export class SegmentDecryptStream extends Transform {
  private readonly queue = new ByteQueue();
  private readonly segments: number;
  private index: number;
  private toSkip: number;
  private toEmit: number;
  private done = false;

  /** @internal use createDecryptor */
  constructor(
    private readonly kData: Buffer,
    private readonly noncePrefix: Buffer,
    private readonly aad: Buffer,
    private readonly plainSize: number,
    private readonly segmentLog2: number,
    private readonly span: SegmentSpan,
  ) {
    super();
    this.segments = segmentCount(plainSize, segmentLog2);
    this.index = span.firstSegment;
    this.toSkip = span.skip;
    this.toEmit = span.length;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.queue.push(chunk);
      this.drain();
      callback();
    } catch (err) {
      callback(asError(err));
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.done) {
      callback();
      return;
    }
    const need = this.cipherLength(this.index);
    callback(
      new CryptoIntegrityError(
        `ciphertext ended early: segment ${this.index} of ${this.segments} has ${this.queue.length} of ${need} bytes ` +
          `(segments ${this.span.firstSegment}..${this.span.lastSegment} requested)`,
      ),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.kData.fill(0);
    this.queue.clear();
    callback(error);
  }

  private cipherLength(index: number): number {
    return segmentPlainLength(this.plainSize, this.segmentLog2, index) + TAG_SIZE;
  }

  private drain(): void {
    while (!this.done) {
      const need = this.cipherLength(this.index);
      if (this.queue.length < need) return;
      const plain = this.open(this.queue.take(need));
      const start = this.toSkip;
      const count = Math.min(plain.length - start, this.toEmit);
      this.toSkip = 0;
      this.toEmit -= count;
      if (count > 0) this.push(plain.subarray(start, start + count));
      if (this.index === this.span.lastSegment) this.done = true;
      else this.index++;
    }
    if (this.queue.length > 0) {
      throw new CryptoIntegrityError(
        `${this.queue.length} unexpected bytes after segment ${this.span.lastSegment} of ${this.segments} (stream extended)`,
      );
    }
  }

  private open(pieces: Buffer[]): Buffer {
    // A segment that arrived in one piece is used in place; otherwise one copy, at most one segment.
    const body = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
    const last = this.index === this.segments - 1;
    const decipher = createDecipheriv('aes-256-gcm', this.kData, segmentNonce(this.noncePrefix, this.index, last), {
      authTagLength: TAG_SIZE,
    });
    decipher.setAAD(this.aad);
    decipher.setAuthTag(body.subarray(body.length - TAG_SIZE));
    const plain = decipher.update(body.subarray(0, body.length - TAG_SIZE));
    try {
      decipher.final();
    } catch {
      throw new CryptoIntegrityError(
        `segment ${this.index} of ${this.segments} failed authentication (tampered, reordered, truncated, or wrong binding)`,
      );
    }
    return plain;
  }
}

/**
 * Start decrypting (part of) one stream.
 *
 * Checks, synchronously and in this order: the header's SHA-256 equals the
 * record's (file swap, rollback), the header is well-formed, and the key
 * commitment matches K_data derived from dek + binding (wrong DEK, bucketUid or
 * dataId). uploadId/partNumber are only in the AAD, so a wrong one surfaces as a
 * stream error on the first segment.
 * @throws CryptoIntegrityError on any of those checks.
 * @throws RangeError if `span` is not what segmentSpan gives for plainSize and the
 *   header's segment size (a caller or record bug, not tampering).
 */
export function createDecryptor(o: DecryptorOptions): SegmentDecryptStream {
  const digest = createHash('sha256').update(o.header).digest();
  if (!sameBytes(digest, o.expectedHeaderDigest)) {
    throw new CryptoIntegrityError(
      'stream header does not match the digest in the record (blob swapped or rolled back)',
    );
  }
  const h = parseHeader(o.header);
  const kData = deriveDataKey(o.dek, h.salt, o.binding.bucketUid, o.binding.dataId);
  if (!sameBytes(keyCommitment(kData), h.commitment)) {
    kData.fill(0);
    throw new CryptoIntegrityError('key commitment mismatch: wrong DEK, bucketUid or dataId for this stream');
  }
  checkSpan(o.plainSize, h.segmentLog2, o.span);
  return new SegmentDecryptStream(
    kData,
    h.noncePrefix,
    streamAad(o.header, o.binding),
    o.plainSize,
    h.segmentLog2,
    o.span,
  );
}

function checkSpan(plainSize: number, segmentLog2: number, span: SegmentSpan): void {
  const start = span.firstSegment * 2 ** segmentLog2 + span.skip;
  const expected = segmentSpan(plainSize, segmentLog2, start, start + span.length - 1);
  const keys = ['firstSegment', 'lastSegment', 'cipherStart', 'cipherEnd', 'skip', 'length'] as const;
  for (const k of keys) {
    if (span[k] !== expected[k]) {
      throw new RangeError(
        `span.${k} is ${span[k]}, expected ${expected[k]} for ${plainSize} bytes at segment size 2^${segmentLog2}`,
      );
    }
  }
}
