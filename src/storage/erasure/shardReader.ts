/**
 * The read side of the erasure store: open a blob's shards, agree on its header,
 * and yield the bytes of a range stripe by stripe, reading only the stripes the
 * range touches.
 *
 * Data shards are read first (with all of them good nothing is decoded); a shard
 * that is missing, unreadable, cut short or fails a block checksum is treated as
 * missing for that stripe, more shards are read in its place, the data is
 * rebuilt, and the shard is queued for healing. With fewer than k good blocks
 * for a stripe the read fails with InsufficientShardsError, never with wrong
 * bytes.
 */
import type { FileHandle } from 'node:fs/promises';
import { errText } from './drive.js';
import { InsufficientShardsError } from './errors.js';
import { writeQuorum, type ErasureContext } from './shardWriter.js';
import {
  blockBinding,
  CHECKSUM_SIZE,
  decodeHeader,
  HEADER_SIZE,
  StripeLayout,
  type ShardHeader,
} from './shardFormat.js';

/** Bytes read from one shard file per read call (several stripes' blocks are contiguous there). */
const READ_SPAN = 256 * 1024;

async function readFully(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await fh.read(buf, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buf : buf.subarray(0, filled);
}

function notFound(id: string): Error {
  return Object.assign(new Error(`blob ${id} not found`), { code: 'ENOENT' });
}

interface Shard {
  fh?: FileHandle;
  /** Why this shard cannot be used at all (missing file, bad header, read error). */
  failure?: string;
}

export class ShardSet {
  /** Block-level failures seen by this read, by shard (for the error message). */
  private readonly blockFailures = new Map<number, string>();
  /** False once verify() found a stripe with fewer than k good blocks: the blob cannot be rebuilt. */
  readable = true;

  private constructor(
    private readonly ctx: ErasureContext,
    readonly id: string,
    private readonly shards: Shard[],
    readonly layout: StripeLayout,
  ) {}

  get size(): number {
    return this.layout.size;
  }

  /**
   * Open every drive's shard of `id` and check the headers. Rejects with ENOENT
   * when no drive has the blob, InsufficientShardsError when fewer than k
   * shards carry a good header that agrees with the others.
   */
  static async open(ctx: ErasureContext, id: string): Promise<ShardSet> {
    const { k, m, drives } = ctx;
    const headers: Array<ShardHeader | undefined> = [];
    let absent = 0;
    let unreachable = 0;
    const shards: Shard[] = await Promise.all(
      drives.map(async (d, i): Promise<Shard> => {
        let fh: FileHandle | undefined;
        try {
          fh = await d.openShard(id);
        } catch (err) {
          unreachable++;
          return { failure: errText(err) };
        }
        if (!fh) {
          absent++;
          return { failure: 'missing' };
        }
        try {
          const h = decodeHeader(await readFully(fh, HEADER_SIZE, 0), ctx.sum);
          if (typeof h === 'string') throw new Error(h);
          if (h.id !== id) throw new Error(`holds blob ${h.id}`);
          if (h.index !== i) throw new Error(`holds shard ${h.index}`);
          if (h.k !== k || h.m !== m) throw new Error(`written as ${h.k}+${h.m}, the store is ${k}+${m}`);
          headers[i] = h;
          return { fh };
        } catch (err) {
          await fh.close().catch(() => undefined);
          return { failure: errText(err) };
        }
      }),
    );
    // The most common (size, block size) wins; a header that disagrees is a bad shard.
    const votes = new Map<string, number>();
    for (const h of headers)
      if (h) votes.set(`${h.size}/${h.blockSize}`, (votes.get(`${h.size}/${h.blockSize}`) ?? 0) + 1);
    const [winner, count] = [...votes].sort((a, b) => b[1] - a[1])[0] ?? ['', 0];
    for (const [i, h] of headers.entries()) {
      if (h && `${h.size}/${h.blockSize}` !== winner) {
        await shards[i].fh?.close().catch(() => undefined);
        shards[i] = { failure: `header disagrees (size ${h.size}, block size ${h.blockSize})` };
      }
    }
    const queueBad = () => {
      for (const [i, s] of shards.entries()) if (s.failure) ctx.heal.add({ id, shard: i, reason: s.failure });
    };
    if (count < k) {
      for (const s of shards) await s.fh?.close().catch(() => undefined);
      // No drive has a file of it, and too few drives are unreachable to hold the
      // write quorum a stored blob had: it does not exist.
      if (absent + unreachable === drives.length && unreachable < writeQuorum(k, m)) throw notFound(id);
      // Some shards exist but too few to read: heal cannot help either, so nothing is queued.
      throw new InsufficientShardsError('read', id, count, k, k + m, reasonsOf(shards));
    }
    queueBad();
    const [size, blockSize] = winner.split('/').map(Number);
    return new ShardSet(ctx, id, shards, new StripeLayout(k, blockSize, size));
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.fh?.close().catch(() => undefined)));
    for (const s of this.shards) s.fh = undefined;
  }

  /** Stream blob bytes [start, end] inclusive (clamped to the blob). */
  async *range(start: number, end: number): AsyncGenerator<Buffer> {
    const { layout } = this;
    if (start >= layout.size) return;
    const last = Math.min(end, layout.size - 1);
    const first = Math.floor(start / layout.stripeData);
    const final = Math.floor(last / layout.stripeData);
    const batch = this.batch;
    for (let s0 = first; s0 <= final; s0 += batch) {
      const s1 = Math.min(final, s0 + batch - 1);
      const stripes = await this.readStripes(s0, s1);
      for (const [n, blocks] of stripes.entries()) {
        const s = s0 + n;
        const base = s * layout.stripeData;
        const len = layout.blockLength(s);
        const dataEnd = base + layout.dataLength(s);
        for (const [j, block] of blocks.entries()) {
          const from = Math.max(start, base + j * len);
          const to = Math.min(last + 1, dataEnd, base + (j + 1) * len);
          if (to > from) yield block.subarray(from - base - j * len, to - base - j * len);
        }
      }
    }
  }

  /** Stripes per read call, and so per batch of the loops over a blob. */
  get batch(): number {
    return Math.max(1, Math.floor(READ_SPAN / this.layout.blockSize));
  }

  /**
   * The shards that are missing or have any block that fails its check, with
   * why (the first failure of each): reads every block of every shard. `pace`
   * is awaited with the bytes of each batch read before the next (rate limits).
   */
  async verify(pace?: (bytes: number) => Promise<void>): Promise<Map<number, string>> {
    const { k, m } = this.ctx;
    const bad = new Map<number, string>();
    for (let i = 0; i < k + m; i++) {
      const f = this.shards[i].failure;
      if (f) bad.set(i, f);
    }
    for (let s0 = 0; s0 < this.layout.stripes; s0 += this.batch) {
      const s1 = Math.min(this.layout.stripes - 1, s0 + this.batch - 1);
      const good: Array<Array<Buffer | undefined>> = Array.from({ length: s1 - s0 + 1 }, () =>
        new Array<Buffer | undefined>(k + m).fill(undefined),
      );
      const count = new Array<number>(s1 - s0 + 1).fill(0);
      let read = 0;
      for (let i = 0; i < k + m; i++) {
        // A shard with a bad block is still read on: its other blocks may be what another stripe needs.
        if (this.shards[i].failure) continue;
        await this.readShardBlocks(i, s0, s1, good, count);
        read += this.spanBytes(s0, s1);
        if (bad.has(i)) continue;
        const f = this.shards[i].failure;
        if (f) bad.set(i, f);
        else if (good.some((blocks) => blocks[i] === undefined)) bad.set(i, this.blockFailures.get(i) ?? 'bad block');
      }
      if (count.some((c) => c < k)) this.readable = false;
      await pace?.(read);
    }
    return bad;
  }

  /** Bytes of one shard file that hold stripes s0..s1 (checksums and blocks). */
  spanBytes(s0: number, s1: number): number {
    const { layout } = this;
    return layout.blockOffset(s1) + CHECKSUM_SIZE + layout.blockLength(s1) - layout.blockOffset(s0);
  }

  /** All k + m blocks of each stripe s0..s1, the missing and bad ones rebuilt (for healing). */
  allBlocks(s0: number, s1: number): Promise<Buffer[][]> {
    return this.readStripes(s0, s1, true);
  }

  /**
   * The k data blocks (or with `all`, every block) of each stripe s0..s1,
   * verified, and rebuilt where a shard failed. Reads data shards first, then as
   * many parity shards as the worst stripe still lacks.
   */
  private async readStripes(s0: number, s1: number, all = false): Promise<Buffer[][]> {
    const { k, m, rs } = this.ctx;
    const { layout } = this;
    const n = s1 - s0 + 1;
    const good: Array<Array<Buffer | undefined>> = Array.from({ length: n }, () =>
      new Array<Buffer | undefined>(k + m).fill(undefined),
    );
    const count = new Array<number>(n).fill(0);
    const order = [...Array(k + m).keys()].filter((i) => !this.shards[i].failure);
    let next = 0;
    for (;;) {
      const lacking = Math.max(...count.map((c) => k - c));
      if (lacking <= 0) break;
      if (next >= order.length) {
        const reasons = new Map([...this.blockFailures, ...reasonsOf(this.shards)]);
        throw new InsufficientShardsError('read', this.id, Math.min(...count), k, k + m, reasons);
      }
      const batch = order.slice(next, next + lacking);
      next += batch.length;
      await Promise.all(batch.map((i) => this.readShardBlocks(i, s0, s1, good, count)));
    }
    return good.map((blocks, t) => {
      const s = s0 + t;
      const wanted = all ? k + m : k;
      if (blocks.slice(0, wanted).every((b) => b !== undefined)) return blocks.slice(0, wanted) as Buffer[];
      const len = layout.blockLength(s);
      const present = blocks.map((b) => b !== undefined);
      const shards = blocks.map((b, i) => b ?? Buffer.alloc(i < wanted ? len : 0));
      const missing = [...Array(wanted).keys()].filter((i) => !present[i]);
      rs.reconstruct(shards, present, missing);
      return shards.slice(0, wanted);
    });
  }

  /** Read shard i's blocks of stripes s0..s1 in one call and keep those that verify. */
  private async readShardBlocks(
    i: number,
    s0: number,
    s1: number,
    good: Array<Array<Buffer | undefined>>,
    count: number[],
  ): Promise<void> {
    const { layout, id } = this;
    const shard = this.shards[i];
    const from = layout.blockOffset(s0);
    const to = layout.blockOffset(s1) + CHECKSUM_SIZE + layout.blockLength(s1);
    let buf: Buffer;
    try {
      buf = await readFully(shard.fh!, to - from, from);
    } catch (err) {
      shard.failure = `read failed: ${errText(err)}`;
      this.ctx.heal.add({ id, shard: i, reason: shard.failure });
      return;
    }
    for (let s = s0; s <= s1; s++) {
      const at = layout.blockOffset(s) - from;
      const len = layout.blockLength(s);
      const check = buf.subarray(at, at + CHECKSUM_SIZE);
      const block = buf.subarray(at + CHECKSUM_SIZE, at + CHECKSUM_SIZE + len);
      const bad =
        block.length < len
          ? 'shard cut short'
          : !this.ctx.sum.digest([blockBinding(id, s, i), block]).equals(check)
            ? 'checksum mismatch'
            : undefined;
      if (bad) {
        this.blockFailures.set(i, `stripe ${s}: ${bad}`);
        this.ctx.heal.add({ id, shard: i, reason: `stripe ${s}: ${bad}` });
        continue;
      }
      good[s - s0][i] = block;
      count[s - s0]++;
    }
  }
}

function reasonsOf(shards: Shard[]): Map<number, string> {
  return new Map(shards.flatMap((s, i) => (s.failure ? [[i, s.failure] as [number, string]] : [])));
}
