/**
 * Heal one blob: verify every block of every shard, and rewrite the shards that
 * are missing or bad from the good ones. A replacement is written like a put
 * (temp file, fsync, rename over the bad file, fsync of the directory), so a
 * crash mid-heal leaves the old shard or the new one, never a mix.
 *
 * A drive that cannot take its shard (still gone) is left for a later heal.
 * Healing a blob that is being deleted at the same time can put a shard back;
 * no record names it, so the garbage sweep removes it.
 */
import type { FileHandle } from 'node:fs/promises';
import { unlinkQuiet } from './drive.js';
import { InsufficientShardsError } from './errors.js';
import { ShardSet } from './shardReader.js';
import { writeFully, type ErasureContext } from './shardWriter.js';
import { blockBinding, encodeHeader } from './shardFormat.js';

interface Replacement {
  index: number;
  fh: FileHandle;
  tmp: string;
}

/** What one shard of a checked blob was found to be. */
export type ShardState = 'ok' | 'missing' | 'corrupt';

export interface BlobCheck {
  id: string;
  /** Blob size from the agreed headers; undefined when too few shards agree to know it. */
  size?: number;
  /** By shard index (= drive index). */
  shards: ShardState[];
  /** Why each bad shard is bad (for logs). */
  reasons: Map<number, string>;
  /** Shards rewritten by this check (repair only). */
  healed: number[];
  /** Bad shards that could not be rewritten: the blob lacks k good shards, or the drive refused the file. */
  unhealed: number[];
  /** Fewer than k good shards: the blob cannot be read or rebuilt until drives come back. */
  unrecoverable: boolean;
  /** Bytes of shard files read. */
  bytesRead: number;
}

export interface CheckOptions {
  /** Rewrite the bad shards (heal) or only report them (scrub). */
  repair: boolean;
  /** Awaited with the bytes read after each batch, before the next: the rate limit. */
  pace?: (bytes: number) => Promise<void>;
}

/**
 * A missing shard is one whose file, or whose drive, is not there; anything
 * else that makes a shard unusable (a bad header or block, a read error) is
 * corruption.
 */
export function classify(reason: string): Exclude<ShardState, 'ok'> {
  return reason === 'missing' || /^(ENOENT|ENOTDIR)$/.test(reason) ? 'missing' : 'corrupt';
}

/**
 * Verify every block of every shard of `id` and, with `repair`, rewrite the
 * missing and bad shards from the good ones. Rejects with ENOENT when no drive
 * holds any shard of it.
 */
export async function checkShards(ctx: ErasureContext, id: string, opts: CheckOptions): Promise<BlobCheck> {
  const n = ctx.k + ctx.m;
  let set: ShardSet;
  try {
    set = await ShardSet.open(ctx, id);
  } catch (err) {
    if (!(err instanceof InsufficientShardsError)) throw err;
    const shards = Array.from({ length: n }, (_, i): ShardState => {
      const r = err.reasons.get(i);
      return r === undefined ? 'ok' : classify(r);
    });
    const unhealed = [...err.reasons.keys()];
    return { id, shards, reasons: new Map(err.reasons), healed: [], unhealed, unrecoverable: true, bytesRead: 0 };
  }
  try {
    const result: BlobCheck = {
      id,
      size: set.size,
      shards: new Array<ShardState>(n).fill('ok'),
      reasons: new Map(),
      healed: [],
      unhealed: [],
      unrecoverable: false,
      bytesRead: 0,
    };
    const pace = async (bytes: number) => {
      result.bytesRead += bytes;
      await opts.pace?.(bytes);
    };
    const bad = await set.verify(pace);
    for (const [i, r] of bad) {
      result.shards[i] = classify(r);
      result.reasons.set(i, r);
    }
    if (bad.size === 0) return result;
    if (!set.readable) {
      // Some stripe has fewer than k good blocks: nothing to rebuild it from.
      result.unrecoverable = true;
      result.unhealed = [...bad.keys()];
      return result;
    }
    if (!opts.repair) {
      result.unhealed = [...bad.keys()];
      return result;
    }
    try {
      result.healed = await rewrite(ctx, set, id, [...bad.keys()], pace);
    } catch (err) {
      if (!(err instanceof InsufficientShardsError)) throw err;
      result.unrecoverable = true;
    }
    result.unhealed = [...bad.keys()].filter((i) => !result.healed.includes(i));
    return result;
  } finally {
    await set.close();
  }
}

/** Heal one blob (see checkShards); resolves with the shard indexes rewritten. */
export async function healShards(ctx: ErasureContext, id: string): Promise<number[]> {
  return (await checkShards(ctx, id, { repair: true })).healed;
}

async function rewrite(
  ctx: ErasureContext,
  set: ShardSet,
  id: string,
  bad: number[],
  pace: (bytes: number) => Promise<void>,
): Promise<number[]> {
  const made: Replacement[] = [];
  try {
    for (const index of bad) {
      const t = await ctx.drives[index].createTemp(id).catch(() => undefined);
      if (t) made.push({ index, fh: t.fh, tmp: t.path });
    }
    if (made.length === 0) return [];
    const { layout } = set;
    for (let s0 = 0; s0 < layout.stripes; s0 += set.batch) {
      const s1 = Math.min(layout.stripes - 1, s0 + set.batch - 1);
      const stripes = await set.allBlocks(s0, s1);
      await pace(set.spanBytes(s0, s1) * (ctx.k + ctx.m - bad.length));
      for (const r of made) {
        const parts: Buffer[] = [];
        for (const [n, blocks] of stripes.entries()) {
          parts.push(ctx.sum.digest([blockBinding(id, s0 + n, r.index), blocks[r.index]]), blocks[r.index]);
        }
        await writeFully(r.fh, parts, layout.blockOffset(s0));
      }
    }
    const healed: number[] = [];
    for (const r of made) {
      const header = encodeHeader(
        { k: ctx.k, m: ctx.m, index: r.index, blockSize: layout.blockSize, size: layout.size, id },
        ctx.sum,
      );
      try {
        await writeFully(r.fh, [header], 0);
        await r.fh.sync();
        await r.fh.close();
        await ctx.drives[r.index].publish(r.tmp, id);
        healed.push(r.index);
      } catch {
        // This drive failed mid-heal (gone again, full): its shard waits for a later heal.
        await r.fh.close().catch(() => undefined);
        await unlinkQuiet(r.tmp).catch(() => undefined);
      }
    }
    made.length = 0;
    return healed;
  } finally {
    for (const r of made) {
      await r.fh.close().catch(() => undefined);
      await unlinkQuiet(r.tmp).catch(() => undefined);
    }
  }
}
