/**
 * Deterministic object contents for the bench, cheap to make and to check: a
 * random 1 MiB block repeated, with each MiB's first 16 bytes replaced by the
 * object's seed and the MiB's index. Every object, and every MiB inside one, is
 * different, so a server that returned another object, or the right bytes at the
 * wrong offset, fails the hash compare; yet producing a body costs one copy.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export const MiB = 1024 * 1024;

export class PatternContent {
  constructor(
    private readonly block: Buffer,
    readonly seed: number,
    readonly length: number,
  ) {
    if (block.length !== MiB) throw new RangeError('the pattern block must be 1 MiB');
  }

  /** MiB number `i` of the object (the last one may be short). */
  chunk(i: number): Buffer {
    const start = i * MiB;
    const len = Math.min(MiB, this.length - start);
    const out = Buffer.allocUnsafe(len);
    this.block.copy(out, 0, 0, len);
    const stamp = Buffer.alloc(16);
    stamp.writeUInt32BE(this.seed >>> 0, 0);
    stamp.writeUInt32BE(i >>> 0, 4);
    stamp.write('coffer-b', 8, 'latin1');
    stamp.copy(out, 0, 0, Math.min(16, len));
    return out;
  }

  /** Bytes [start, end] inclusive. */
  slice(start: number, end: number): Buffer {
    if (start < 0 || end < start || end >= this.length)
      throw new RangeError(`bad slice [${start}, ${end}] of ${this.length}`);
    const parts: Buffer[] = [];
    for (let i = Math.floor(start / MiB); i * MiB <= end; i++) {
      const c = this.chunk(i);
      const from = Math.max(0, start - i * MiB);
      const to = Math.min(c.length, end - i * MiB + 1);
      parts.push(c.subarray(from, to));
    }
    return Buffer.concat(parts);
  }

  /** The whole object as a stream of 1 MiB chunks (one in memory at a time). */
  stream(): { stream: Readable; length: number } {
    let i = 0;
    const n = Math.ceil(this.length / MiB);
    const chunk = (k: number): Buffer => this.chunk(k);
    const stream = new Readable({
      read() {
        this.push(i < n ? chunk(i++) : null);
      },
    });
    return { stream, length: this.length };
  }

  /** Hex SHA-256 of the whole object (what a GET must hash to). */
  sha256(): string {
    const h = createHash('sha256');
    for (let i = 0; i * MiB < this.length; i++) h.update(this.chunk(i));
    return h.digest('hex');
  }
}

export function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
