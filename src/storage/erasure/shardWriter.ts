/**
 * The write side of the erasure store: stripe a body over one temp file per
 * drive, then publish. A drive that fails (cannot create its temp file, a write
 * or fsync errors) is dropped and the write goes on while a write quorum of
 * drives remains; its shard is queued for healing once the blob is published.
 *
 * Durability is FsBlobStore's, per drive: every shard is written to tmp/,
 * fsynced, renamed into place and its directory fsynced before the put resolves.
 */
import type { FileHandle } from 'node:fs/promises';
import { addAbortSignal, type Readable } from 'node:stream';
import { writeFully } from '../durableFs.js';
import type { Checksummer } from './checksum.js';
import { errText, type Drive } from './drive.js';
import { InsufficientShardsError } from './errors.js';
import type { HealQueue } from './healQueue.js';
import type { ReedSolomon } from './reedSolomon.js';
import { blockBinding, blockLengthFor, CHECKSUM_SIZE, encodeHeader, HEADER_SIZE } from './shardFormat.js';

export interface ErasureContext {
  drives: readonly Drive[];
  k: number;
  m: number;
  blockSize: number;
  rs: ReedSolomon;
  sum: Checksummer;
  heal: HealQueue;
}

/** Drives that must accept a shard for a write to succeed: one more than k when there is parity to spare. */
export function writeQuorum(k: number, m: number): number {
  return m > 0 ? k + 1 : k;
}

/** Write all of `buffers` at `position` (one copy for every store: durableFs). */
export { writeFully };

/** One drive's part of a put. */
class ShardSink {
  fh?: FileHandle;
  tmp?: string;
  published = false;
  failure?: string;

  constructor(readonly drive: Drive) {}

  get alive(): boolean {
    return this.failure === undefined;
  }

  async run(step: (s: this) => Promise<void>): Promise<void> {
    if (!this.alive) return;
    try {
      await step(this);
    } catch (err) {
      this.failure = errText(err);
      await this.closeQuietly();
    }
  }

  async closeQuietly(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  /** Remove whatever this sink left on its drive (a failed put leaves nothing). */
  async discard(id: string): Promise<void> {
    await this.closeQuietly();
    // If an unlink fails too, the start-up sweep finds the file: a temp file, or a
    // shard of a blob no record names.
    if (this.tmp) await this.drive.unlinkQuiet(this.tmp).catch(() => undefined);
    if (this.published) await this.drive.unlinkQuiet(this.drive.shardPath(id)).catch(() => undefined);
  }
}

/**
 * Stripe `body` onto the drives as blob `id`; resolves with its size once a
 * write quorum of shards is durable. On any failure nothing is left under `id`.
 */
export async function writeStriped(
  ctx: ErasureContext,
  id: string,
  body: Readable,
  signal?: AbortSignal,
): Promise<number> {
  const { drives, k, m, blockSize, rs, sum } = ctx;
  const quorum = writeQuorum(k, m);
  const sinks = drives.map((d) => new ShardSink(d));
  const all = (step: (s: ShardSink) => Promise<void>) => Promise.all(sinks.map((s) => s.run(step)));
  const checkQuorum = () => {
    const alive = sinks.filter((s) => s.alive).length;
    if (alive >= quorum) return;
    const reasons = new Map(sinks.flatMap((s, i) => (s.failure ? [[i, s.failure] as [number, string]] : [])));
    throw new InsufficientShardsError('write', id, alive, quorum, drives.length, reasons);
  };

  const data = Buffer.alloc(k * blockSize);
  const parity = Buffer.alloc(m * blockSize);
  const writeStripe = async (stripe: number, filled: number) => {
    const len = filled === data.length ? blockSize : blockLengthFor(filled, k);
    data.fill(0, filled, k * len);
    const blocks: Buffer[] = [];
    for (let j = 0; j < k; j++) blocks.push(data.subarray(j * len, (j + 1) * len));
    for (let p = 0; p < m; p++) blocks.push(parity.subarray(p * len, (p + 1) * len));
    rs.encode(blocks.slice(0, k), blocks.slice(k));
    const position = HEADER_SIZE + stripe * (CHECKSUM_SIZE + blockSize);
    await Promise.all(
      sinks.map((s, i) =>
        s.run(async () => {
          if (!s.fh) throw new Error('no file');
          const check = sum.digest([blockBinding(id, stripe, i), blocks[i]]);
          await writeFully(s.fh, [check, blocks[i]], position);
        }),
      ),
    );
    checkQuorum();
  };

  try {
    signal?.throwIfAborted();
    await all(async (s) => {
      const t = await s.drive.createTemp(id);
      s.fh = t.fh;
      s.tmp = t.path;
    });
    checkQuorum();

    // addAbortSignal destroys the body on abort, so a stalled body cannot hold the put.
    const source = signal ? addAbortSignal(signal, body) : body;
    let size = 0;
    let filled = 0;
    let stripe = 0;
    for await (const raw of source) {
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array);
      size += chunk.length;
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(chunk.length - off, data.length - filled);
        chunk.copy(data, filled, off, off + n);
        filled += n;
        off += n;
        if (filled === data.length) {
          await writeStripe(stripe++, filled);
          filled = 0;
        }
      }
    }
    if (filled > 0) await writeStripe(stripe++, filled);
    signal?.throwIfAborted();

    await all(async (s) => {
      const fh = s.fh!;
      const header = encodeHeader({ k, m, index: drives.indexOf(s.drive), blockSize, size, id }, sum);
      await writeFully(fh, [header], 0);
      // Data before the rename, or a crash could publish a name over missing blocks.
      await fh.sync();
      s.fh = undefined;
      await fh.close();
    });
    checkQuorum();
    signal?.throwIfAborted();
    await all(async (s) => {
      // Set first: publish can fail after its rename (the directory fsync), and then
      // the shard is in place. The id was free on every drive, so discarding it is safe.
      s.published = true;
      await s.drive.publish(s.tmp!, id);
      s.tmp = undefined;
    });
    checkQuorum();
    for (const [i, s] of sinks.entries()) {
      if (!s.failure) continue;
      await s.discard(id);
      ctx.heal.add({ id, shard: i, reason: `write failed: ${s.failure}` });
    }
    return size;
  } catch (err) {
    await Promise.all(sinks.map((s) => s.discard(id)));
    throw err;
  }
}
