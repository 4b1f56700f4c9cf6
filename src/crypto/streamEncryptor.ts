/**
 * Encrypting side of the stream format: plaintext in, header ‖ segments out.
 * Format and rationale: index.ts / docs/encryption.md.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  ALGORITHM_AES256GCM_HKDF_SHA256,
  DEFAULT_SEGMENT_LOG2,
  FORMAT_VERSION,
  NONCE_PREFIX_SIZE,
  SALT_SIZE,
  TAG_SIZE,
  assertSegmentLog2,
  encodeHeader,
} from './format.js';
import { deriveDataKey, keyCommitment } from './kdf.js';
import { ByteQueue, segmentNonce, streamAad, type StreamBinding } from './segment.js';

export type { StreamBinding } from './segment.js';

/** Options of createEncryptor. */
export interface EncryptorOptions {
  /** The bucket DEK (32 bytes, plaintext). Not retained. */
  dek: Buffer;
  binding: StreamBinding;
  /** log2 of the plaintext segment size; DEFAULT_SEGMENT_LOG2 (64 KiB) if absent. */
  segmentLog2?: number;
  /**
   * Source of randomness, for known-answer tests. Called exactly twice, in this
   * order: random(32) for the salt, then random(7) for the nonce prefix.
   * Defaults to crypto.randomBytes.
   */
  random?: (n: number) => Buffer;
}

/** What createEncryptor returns; header, salt and headerDigest go into the record. */
export interface Encryptor {
  /** The 64-byte header; also the first bytes the stream emits. */
  header: Buffer;
  /** The stream's 32-byte salt (also inside the header). */
  salt: Buffer;
  /** SHA-256 of the header, kept in the record to detect file swaps and rollback. */
  headerDigest: Buffer;
  stream: SegmentEncryptStream;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Transform: plaintext in any chunking -> header, then sealed segments.
 *
 * Whether a segment is the final one is part of its nonce, and that is only known
 * at end of input. So a full segment is held back until at least one more byte
 * arrives (then it is not final) or the input ends (then it is). The queue thus
 * holds at most S bytes between writes (S + the current chunk during one).
 * Back-pressure is the ordinary Transform kind.
 */
export class SegmentEncryptStream extends Transform {
  private readonly queue = new ByteQueue();
  private index = 0;
  /** Plaintext of a segment that spans input chunks; zeroed at the end. */
  private staging: Buffer | undefined;

  /** @internal use createEncryptor */
  constructor(
    private readonly kData: Buffer,
    private readonly noncePrefix: Buffer,
    private readonly aad: Buffer,
    private readonly segmentSize: number,
    header: Buffer,
  ) {
    super();
    this.push(header);
  }

  /** Plaintext bytes received but not yet sealed (the held-back segment); for tests and metrics. */
  get heldBytes(): number {
    return this.queue.length;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.queue.push(chunk);
      // Strictly greater: exactly S queued bytes may still turn out to be the final segment.
      while (this.queue.length > this.segmentSize) this.seal(this.queue.take(this.segmentSize), false);
      callback();
    } catch (err) {
      callback(asError(err));
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      // 1..S bytes, or 0 for an empty stream: the empty final segment is just a tag.
      this.seal(this.queue.take(this.queue.length), true);
      this.staging?.fill(0);
      callback();
    } catch (err) {
      callback(asError(err));
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.kData.fill(0);
    this.staging?.fill(0);
    this.queue.clear();
    callback(error);
  }

  /**
   * Seal one segment and push its ciphertext, then its tag. One new buffer per
   * segment (the cipher's output): a segment that spans several input chunks is
   * first copied into a staging buffer reused for every segment, instead of a
   * cipher output per piece and a concatenation of them, because on large
   * uploads the garbage collector's work on those buffers costs more than the
   * cipher does on the bytes.
   */
  private seal(pieces: Buffer[], last: boolean): void {
    // segmentNonce rejects an index past uint32, so a 2^32+1-th segment fails instead of wrapping.
    const nonce = segmentNonce(this.noncePrefix, this.index, last);
    const cipher = createCipheriv('aes-256-gcm', this.kData, nonce, { authTagLength: TAG_SIZE });
    cipher.setAAD(this.aad);
    const ct = cipher.update(pieces.length === 1 ? pieces[0] : this.join(pieces));
    const rest = cipher.final(); // empty for GCM, pushed if a cipher ever returns bytes here
    this.index++;
    if (ct.length > 0) this.push(ct);
    if (rest.length > 0) this.push(rest);
    this.push(cipher.getAuthTag());
  }

  /** The pieces copied into the staging buffer (allocated at the first segment that needs it). */
  private join(pieces: Buffer[]): Buffer {
    const staging = (this.staging ??= Buffer.alloc(this.segmentSize));
    let at = 0;
    for (const p of pieces) at += p.copy(staging, at);
    return staging.subarray(0, at);
  }
}

function draw(random: (n: number) => Buffer, n: number, what: string): Buffer {
  const b = random(n);
  if (b.length !== n) throw new RangeError(`random(${n}) for the ${what} returned ${b.length} bytes`);
  return Buffer.from(b); // own copy: the caller's buffer may be reused
}

/**
 * Start encrypting one stream (a single PUT, or one UploadPart attempt; a retried
 * part calls this again and so gets a fresh salt and key).
 *
 * Record `salt` and `headerDigest` with the stream; the decryptor refuses a header
 * whose digest differs, which is what catches a swapped or rolled-back blob.
 * @throws RangeError on a DEK that is not 32 bytes, a bad segmentLog2 or partNumber.
 */
export function createEncryptor(o: EncryptorOptions): Encryptor {
  const segmentLog2 = o.segmentLog2 ?? DEFAULT_SEGMENT_LOG2;
  assertSegmentLog2(segmentLog2);
  const random = o.random ?? randomBytes;
  const salt = draw(random, SALT_SIZE, 'salt');
  const noncePrefix = draw(random, NONCE_PREFIX_SIZE, 'nonce prefix');
  const kData = deriveDataKey(o.dek, salt, o.binding.bucketUid, o.binding.dataId);
  const header = encodeHeader({
    version: FORMAT_VERSION,
    algorithm: ALGORITHM_AES256GCM_HKDF_SHA256,
    segmentLog2,
    salt,
    noncePrefix,
    commitment: keyCommitment(kData),
  });
  const aad = streamAad(header, o.binding);
  const headerDigest = createHash('sha256').update(header).digest();
  const stream = new SegmentEncryptStream(kData, noncePrefix, aad, 2 ** segmentLog2, Buffer.from(header));
  return { header, salt, headerDigest, stream };
}
