/**
 * What the encryptor and decryptor share: the stream binding, the per-stream
 * AAD, the segment nonce, and the per-stream key setup. Internal to src/crypto
 * (index.ts re-exports only StreamBinding).
 */
import { createHash } from 'node:crypto';
import { NONCE_PREFIX_SIZE } from './format.js';
import { lp } from './kdf.js';

/**
 * Where a stream belongs. bucketUid and dataId go into the key (HKDF info);
 * all four go into the AAD of every segment, so a part moved to another upload
 * or part number fails authentication.
 */
export interface StreamBinding {
  /** The bucket's random uid (not its name). */
  bucketUid: string;
  /** The blob's random id, as stored in the record. */
  dataId: string;
  /** Multipart only: the upload the part was written under. */
  uploadId?: string;
  /** Multipart only: 1..10000. Absent means 0 (single PUT). */
  partNumber?: number;
}

// AAD label. Part of the on-disk format; never change without bumping the version byte.
const AAD_LABEL = Buffer.from('coffer/v1/aad', 'utf8');

/**
 * AAD of every segment = SHA-256("coffer/v1/aad" ‖ header ‖ lp(bucketUid) ‖ lp(dataId)
 * ‖ lp(uploadId or "") ‖ uint32-BE(partNumber or 0)). Computed once per stream;
 * hashing keeps GCM's per-segment AAD cost at 32 bytes. Including the header
 * authenticates every header byte through every tag.
 * @throws RangeError if partNumber is not a uint32.
 */
export function streamAad(header: Buffer, binding: StreamBinding): Buffer {
  const partNumber = binding.partNumber ?? 0;
  if (!Number.isInteger(partNumber) || partNumber < 0 || partNumber > 0xffffffff) {
    throw new RangeError(`partNumber must be a uint32, got ${partNumber}`);
  }
  const part = Buffer.alloc(4);
  part.writeUInt32BE(partNumber, 0);
  return createHash('sha256')
    .update(AAD_LABEL)
    .update(header)
    .update(lp(binding.bucketUid))
    .update(lp(binding.dataId))
    .update(lp(binding.uploadId ?? ''))
    .update(part)
    .digest();
}

/**
 * Nonce of segment i = prefix(7) ‖ uint32-BE(i) ‖ last (0x01 on the final segment,
 * 0x00 otherwise). The index stops reordering; the last flag stops truncation at
 * a segment boundary (the new "last" segment was sealed with last = 0).
 */
export function segmentNonce(prefix: Buffer, index: number, last: boolean): Buffer {
  if (prefix.length !== NONCE_PREFIX_SIZE) throw new RangeError(`nonce prefix must be ${NONCE_PREFIX_SIZE} bytes`);
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff)
    throw new RangeError(`segment index ${index} is not a uint32`);
  const nonce = Buffer.alloc(NONCE_PREFIX_SIZE + 5);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_SIZE);
  nonce[NONCE_PREFIX_SIZE + 4] = last ? 1 : 0;
  return nonce;
}

/**
 * FIFO of Buffers that hands out exact-size runs without copying the input
 * chunks into one big buffer (1-byte writes would otherwise cost O(n^2)).
 */
export class ByteQueue {
  // A consumed chunk's slot is cleared at once, so the queue never pins bytes it
  // already handed out. (With 64 KiB input chunks the encryptor always holds one
  // back; keeping consumed chunks until the periodic compaction pinned up to
  // 64 MiB per stream.) The array itself is compacted now and then.
  private chunks: Array<Buffer | undefined> = [];
  private head = 0; // index of the first live chunk
  private offset = 0; // bytes already consumed from chunks[head]
  private size = 0;

  /** Bytes currently held. */
  get length(): number {
    return this.size;
  }

  /** Chunks the queue still references (for the retention test). */
  get retainedChunks(): number {
    return this.chunks.length - this.head;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Remove and return the next `n` bytes as views on the input chunks (n <= length). */
  take(n: number): Buffer[] {
    if (n > this.size) throw new RangeError(`take(${n}) with only ${this.size} bytes queued`);
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const chunk = this.chunks[this.head];
      if (chunk === undefined) throw new Error('ByteQueue invariant broken');
      const avail = chunk.length - this.offset;
      const used = Math.min(avail, need);
      out.push(chunk.subarray(this.offset, this.offset + used));
      need -= used;
      if (used === avail) {
        this.chunks[this.head] = undefined;
        this.head++;
        this.offset = 0;
      } else {
        this.offset += used;
      }
    }
    this.size -= n;
    // Compact now and then so the array of cleared slots does not grow without bound.
    if (this.head > 1024 || this.head === this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Drop everything (on destroy). */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.size = 0;
  }
}
