/**
 * `npm run bench:erasure`: Reed-Solomon encode/reconstruct and block-checksum
 * throughput, the figures behind the choices in src/storage/erasure/.
 *
 * Reed-Solomon: the hand-written GF(2^8) code that the store uses, with its
 * WebAssembly SIMD kernel and with its portable table kernel, and, when
 * installed, @ronomon/reed-solomon (native) and
 * @digitaldefiance/reed-solomon-erasure.wasm (WASM). They are not dependencies
 * of Coffer: to compare, install them into a scratch directory and name it in
 * BENCH_EXTRA_MODULES (the directory holding their node_modules).
 * Checksums: hash-wasm's xxhash128 (the one the store uses) and BLAKE3, and,
 * when installed the same way, @node-rs/xxhash's xxh3-128 (native), with SHA-256
 * of node:crypto as a yardstick.
 *
 * MB/s counts data bytes (k shards' worth) for the code, bytes hashed for the
 * checksums. Each figure is the median of BENCH_RUNS (5) runs over 64 MiB in
 * 64 KiB shard blocks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createBLAKE3, createXXHash128 } from 'hash-wasm';
import type { BlobStore } from '../src/storage/BlobStore.js';
import { ErasureBlobStore } from '../src/storage/erasure/erasureBlobStore.js';
import { ReedSolomon, type KernelName } from '../src/storage/erasure/reedSolomon.js';
import { FsBlobStore } from '../src/storage/fsBlobStore.js';

const MiB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TOTAL = 64 * MiB;
const BLOCK = 64 * 1024;
const CODES: Array<[number, number]> = [
  [2, 2],
  [2, 1],
  [4, 2],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function mbps(bytes: number, fn: () => Promise<void> | void): Promise<string> {
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = process.hrtime.bigint();
    await fn();
    runs.push(bytes / MiB / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  return median(runs).toFixed(0).padStart(7);
}

const extra = process.env.BENCH_EXTRA_MODULES;
const requireExtra = extra ? createRequire(join(extra, 'package.json')) : undefined;
function optional<T>(name: string): T | undefined {
  try {
    return requireExtra?.(name) as T;
  } catch {
    return undefined;
  }
}

interface Candidate {
  name: string;
  /** Encode `stripes` stripes of k blocks into m parity blocks each. */
  encode(k: number, m: number, stripes: number): Promise<void> | void;
  /** Rebuild the first min(m, k) data blocks of each stripe from the rest. */
  reconstruct(k: number, m: number, stripes: number): Promise<void> | void;
}

function handWritten(kernel: KernelName): Candidate {
  const shardsFor = (k: number, m: number) => Array.from({ length: k + m }, () => Buffer.from(randomBytes(BLOCK)));
  return {
    name: `hand-written, ${kernel} kernel`,
    encode(k, m, stripes) {
      const rs = new ReedSolomon(k, m, kernel);
      const s = shardsFor(k, m);
      for (let i = 0; i < stripes; i++) rs.encode(s.slice(0, k), s.slice(k));
    },
    reconstruct(k, m, stripes) {
      const rs = new ReedSolomon(k, m, kernel);
      const s = shardsFor(k, m);
      rs.encode(s.slice(0, k), s.slice(k));
      const lost = Math.min(m, k);
      const present = s.map((_, i) => i >= lost);
      for (let i = 0; i < stripes; i++)
        rs.reconstruct(
          s,
          present,
          Array.from({ length: lost }, (_, j) => j),
        );
    },
  };
}

interface Ronomon {
  create(k: number, m: number): unknown;
  encode(
    ctx: unknown,
    sources: number,
    targets: number,
    buf: Buffer,
    bo: number,
    bs: number,
    par: Buffer,
    po: number,
    ps: number,
    cb: (e?: Error) => void,
  ): void;
}

function ronomon(lib: Ronomon): Candidate {
  const run = (k: number, m: number, stripes: number, lost: number) => {
    const ctx = lib.create(k, m);
    const data = randomBytes(BLOCK * k);
    const parity = Buffer.alloc(BLOCK * m);
    let targets = 0;
    let sources = 0;
    if (lost === 0) {
      for (let i = 0; i < k; i++) sources |= 1 << i;
      for (let i = k; i < k + m; i++) targets |= 1 << i;
    } else {
      for (let i = 0; i < lost; i++) targets |= 1 << i;
      for (let i = lost; i < k + m; i++) sources |= 1 << i;
    }
    let chain = Promise.resolve();
    for (let i = 0; i < stripes; i++) {
      chain = chain.then(
        () =>
          new Promise<void>((res, rej) =>
            lib.encode(ctx, sources, targets, data, 0, data.length, parity, 0, parity.length, (e) =>
              e ? rej(e) : res(),
            ),
          ),
      );
    }
    return chain;
  };
  return {
    name: '@ronomon/reed-solomon',
    encode: (k, m, n) => run(k, m, n, 0),
    reconstruct: (k, m, n) => run(k, m, n, Math.min(k, m)),
  };
}

interface Wasm {
  encode(shards: Uint8Array, k: number, m: number): number;
  reconstruct(shards: Uint8Array, k: number, m: number, available: boolean[]): number;
}

function wasm(rs: Wasm): Candidate {
  return {
    name: 'reed-solomon-erasure.wasm',
    encode(k, m, stripes) {
      const s = randomBytes(BLOCK * (k + m));
      for (let i = 0; i < stripes; i++) if (rs.encode(s, k, m) !== 0) throw new Error('wasm encode failed');
    },
    reconstruct(k, m, stripes) {
      const s = randomBytes(BLOCK * (k + m));
      rs.encode(s, k, m);
      const lost = Math.min(m, k);
      const avail = Array.from({ length: k + m }, (_, i) => i >= lost);
      for (let i = 0; i < stripes; i++)
        if (rs.reconstruct(s, k, m, avail) !== 0) throw new Error('wasm reconstruct failed');
    },
  };
}

async function main(): Promise<void> {
  const candidates: Candidate[] = [handWritten('simd'), handWritten('js')];
  const ron = optional<Ronomon>('@ronomon/reed-solomon');
  if (ron) candidates.push(ronomon(ron));
  const w = optional<{ ReedSolomonErasure: { fromCurrentDirectorySync(): Wasm } }>(
    '@digitaldefiance/reed-solomon-erasure.wasm',
  );
  if (w) candidates.push(wasm(w.ReedSolomonErasure.fromCurrentDirectorySync()));

  console.log(
    `Reed-Solomon, ${TOTAL / MiB} MiB of data in ${BLOCK / 1024} KiB shard blocks, MB/s of data (median of ${RUNS})`,
  );
  console.log(`${'implementation'.padEnd(28)} ${CODES.map(([k, m]) => `enc ${k}+${m}  rec ${k}+${m}`).join('  ')}`);
  for (const c of candidates) {
    const cells: string[] = [];
    for (const [k, m] of CODES) {
      const stripes = Math.ceil(TOTAL / (BLOCK * k));
      for (const op of [c.encode, c.reconstruct]) {
        // A library that crashes is a result too (the WASM one ran out of bounds in reconstruct here).
        cells.push(await mbps(TOTAL, () => op(k, m, stripes)).catch((e: Error) => `failed: ${e.message}`.padStart(7)));
      }
    }
    console.log(`${c.name.padEnd(28)} ${cells.join(' ')}`);
  }

  const block = randomBytes(BLOCK);
  const blocks = TOTAL / BLOCK;
  type Hasher = { init(): Hasher; update(d: Uint8Array): Hasher; digest(f: 'binary'): Uint8Array };
  const loop = (h: Hasher) => () => {
    for (let i = 0; i < blocks; i++) h.init().update(block).digest('binary');
  };
  const hashes: Array<[string, () => Promise<void> | void]> = [
    ['xxhash128 (hash-wasm)', loop(await createXXHash128())],
    ['blake3 (hash-wasm)', loop(await createBLAKE3())],
    [
      'sha-256 (node:crypto)',
      () => {
        for (let i = 0; i < blocks; i++) createHash('sha256').update(block).digest();
      },
    ],
  ];
  const nodeRs = optional<{ xxh3: { xxh128(d: Uint8Array, seed?: bigint): bigint } }>('@node-rs/xxhash');
  if (nodeRs) {
    hashes.push([
      'xxh3-128 (@node-rs/xxhash)',
      () => {
        for (let i = 0; i < blocks; i++) nodeRs.xxh3.xxh128(block, BigInt(i));
      },
    ]);
  }
  console.log(`\nBlock checksums over ${BLOCK / 1024} KiB blocks, MB/s (median of ${RUNS})`);
  for (const [name, fn] of hashes) console.log(`${name.padEnd(28)} ${await mbps(TOTAL, fn)}`);
}

/** PUT and GET of a 64 MiB blob through the stores themselves (temp dirs on one disk, so the drives share it). */
async function stores(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'coffer-bench-ec-'));
  const body = randomBytes(TOTAL);
  const chunks = function* () {
    for (let i = 0; i < body.length; i += 256 * 1024) yield body.subarray(i, i + 256 * 1024);
  };
  const drives = (n: number) => Array.from({ length: n }, (_, i) => join(root, `${n}-${i}`));
  const sets: Array<[string, () => Promise<BlobStore>]> = [
    ['FsBlobStore (1 drive)', () => FsBlobStore.open(join(root, 'fs'))],
    ['ErasureBlobStore 2+2', () => ErasureBlobStore.open({ drives: drives(4), parity: 2 })],
    ['ErasureBlobStore 2+1', () => ErasureBlobStore.open({ drives: drives(3), parity: 1 })],
  ];
  console.log(`\nStores, ${TOTAL / MiB} MiB blob, MB/s (median of ${RUNS})`);
  console.log(`${'store'.padEnd(28)}     put     get`);
  try {
    for (const [name, open] of sets) {
      const store = await open();
      const ids: string[] = [];
      const put = await mbps(TOTAL, async () => {
        const id = randomBytes(16).toString('hex');
        ids.push(id);
        await store.put(id, Readable.from(chunks()));
      });
      const get = await mbps(TOTAL, async () => {
        for await (const _ of store.get(ids[0])) void _;
      });
      console.log(`${name.padEnd(28)} ${put} ${get}`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
await stores();
