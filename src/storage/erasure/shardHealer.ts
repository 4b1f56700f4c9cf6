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
import { ShardSet } from './shardReader.js';
import { writeFully, type ErasureContext } from './shardWriter.js';
import { blockBinding, encodeHeader } from './shardFormat.js';

interface Replacement {
  index: number;
  fh: FileHandle;
  tmp: string;
}

export async function healShards(ctx: ErasureContext, id: string): Promise<number[]> {
  const set = await ShardSet.open(ctx, id);
  const made: Replacement[] = [];
  try {
    const bad = [...(await set.verify())];
    if (bad.length === 0) return [];
    for (const index of bad) {
      const t = await ctx.drives[index].createTemp(id).catch(() => undefined);
      if (t) made.push({ index, fh: t.fh, tmp: t.path });
    }
    const { layout } = set;
    for (let s0 = 0; s0 < layout.stripes; s0 += set.batch) {
      const s1 = Math.min(layout.stripes - 1, s0 + set.batch - 1);
      const stripes = await set.allBlocks(s0, s1);
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
      await writeFully(r.fh, [header], 0);
      await r.fh.sync();
      await r.fh.close();
      await ctx.drives[r.index].publish(r.tmp, id);
      healed.push(r.index);
    }
    made.length = 0;
    return healed;
  } finally {
    await set.close();
    for (const r of made) {
      await r.fh.close().catch(() => undefined);
      await unlinkQuiet(r.tmp).catch(() => undefined);
    }
  }
}
