/**
 * This machine's limits, measured in the same run as the servers so the ratios
 * survive a noisy, shared machine: one core's MD5 (what every PUT computes for
 * its ETag) and AES-256-GCM encrypt and decrypt over 64 KiB segments with a
 * 32-byte AAD (what Coffer does per segment), plus a new file written and
 * fsynced (what every durable PUT pays, whatever the server).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from './content.js';
import { median, type MachineLimits } from './stats.js';

const SEGMENT = 64 * 1024;

function mbPerSecond(bytes: number, fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return bytes / MiB / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** Medians of `runs` passes over `bytes` each (MB/s = MiB/s here and everywhere in the bench). */
export function machineLimits(runs: number, bytes = 64 * MiB): MachineLimits {
  const seg = randomBytes(SEGMENT);
  const key = randomBytes(32);
  const aad = randomBytes(32);
  const n = Math.max(1, Math.floor(bytes / SEGMENT));
  const iv = randomBytes(12);
  const enc = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
  const ct = Buffer.concat([enc.update(seg), enc.final()]);
  const tag = enc.getAuthTag();
  const md5: number[] = [];
  const aesEnc: number[] = [];
  const aesDec: number[] = [];
  for (let r = 0; r < runs; r++) {
    md5.push(
      mbPerSecond(n * SEGMENT, () => {
        const h = createHash('md5');
        for (let i = 0; i < n; i++) h.update(seg);
        h.digest();
      }),
    );
    aesEnc.push(
      mbPerSecond(n * SEGMENT, () => {
        for (let i = 0; i < n; i++) {
          const c = createCipheriv('aes-256-gcm', key, randomBytes(12)).setAAD(aad);
          c.update(seg);
          c.final();
          c.getAuthTag();
        }
      }),
    );
    aesDec.push(
      mbPerSecond(n * SEGMENT, () => {
        for (let i = 0; i < n; i++) {
          const d = createDecipheriv('aes-256-gcm', key, iv).setAAD(aad).setAuthTag(tag);
          d.update(ct);
          d.final();
        }
      }),
    );
  }
  return { md5: median(md5), aesGcmEncrypt: median(aesEnc), aesGcmDecrypt: median(aesDec) };
}

/** MB/s of writing a new file of `bytes` in 256 KiB writes and fsyncing it, in `dir`. */
export async function diskWriteFsync(dir: string, runs: number, bytes = 64 * MiB): Promise<number> {
  const block = randomBytes(256 * 1024);
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const path = join(dir, `disk-baseline-${r}`);
    const t0 = process.hrtime.bigint();
    const fh = await open(path, 'wx', 0o600);
    try {
      for (let i = 0; i < bytes / block.length; i++) await fh.write(block);
      await fh.sync();
    } finally {
      await fh.close();
    }
    out.push(bytes / MiB / (Number(process.hrtime.bigint() - t0) / 1e9));
    await unlink(path);
  }
  return median(out);
}
