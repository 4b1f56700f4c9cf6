/**
 * Systematic Reed-Solomon erasure code over GF(2^8), in plain TypeScript.
 *
 * k data shards and m parity shards of equal length; any k of the k+m shards
 * give back the data. The field uses the polynomial x^8+x^4+x^3+x^2+1 (0x11d).
 * The encoding matrix is a (k+m) x k Vandermonde matrix multiplied by the
 * inverse of its top k x k square, so its top is the identity (data shards are
 * stored as they are, and a read with every data shard present decodes
 * nothing) and every k x k submatrix stays invertible.
 *
 * Shards are multiplied by a WebAssembly SIMD kernel (gfSimd.ts) where the
 * platform has one, else by product-table loops here; both compute the same
 * bytes. Measured against a native and a WASM library in
 * scripts/bench-erasure.ts; the figures are in the commits.
 *
 * Matrices are tiny (at most 255 x 255), so they are plain number arrays.
 */

import { simdKernel, type GfKernel } from './gfSimd.js';

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  // Doubled so that EXP[LOG[a] + LOG[b]] needs no modulo.
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
}

function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]];
}

function inv(a: number): number {
  if (a === 0) throw new RangeError('GF(2^8): 0 has no inverse');
  return EXP[255 - LOG[a]];
}

/** MUL_TABLE[c * 256 + x] = c * x. */
const MUL_TABLE = new Uint8Array(256 * 256);
for (let c = 0; c < 256; c++) for (let x = 0; x < 256; x++) MUL_TABLE[c * 256 + x] = mul(c, x);

type Matrix = number[][];

function identity(n: number): Matrix {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
}

function multiply(a: Matrix, b: Matrix): Matrix {
  return a.map((row) =>
    b[0].map((_, j) => {
      let s = 0;
      for (let t = 0; t < row.length; t++) s ^= mul(row[t], b[t][j]);
      return s;
    }),
  );
}

/** Gauss-Jordan inverse; throws if the matrix is singular (cannot happen for rows of a valid code). */
function invert(src: Matrix): Matrix {
  const n = src.length;
  const a = src.map((r) => [...r]);
  const out = identity(n);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && a[pivot][col] === 0) pivot++;
    if (pivot === n) throw new Error('Reed-Solomon: singular matrix');
    [a[col], a[pivot]] = [a[pivot], a[col]];
    [out[col], out[pivot]] = [out[pivot], out[col]];
    const f = inv(a[col][col]);
    for (let j = 0; j < n; j++) {
      a[col][j] = mul(a[col][j], f);
      out[col][j] = mul(out[col][j], f);
    }
    for (let r = 0; r < n; r++) {
      if (r === col || a[r][col] === 0) continue;
      const g = a[r][col];
      for (let j = 0; j < n; j++) {
        a[r][j] ^= mul(g, a[col][j]);
        out[r][j] ^= mul(g, out[col][j]);
      }
    }
  }
  return out;
}

/**
 * Products of c with both bytes of a 16-bit word, built on first use: one lookup
 * then multiplies two bytes (each byte is multiplied on its own, so the byte
 * order of the platform does not matter). 128 KiB a coefficient, and a code
 * uses only a few coefficients.
 */
const WIDE_TABLES = new Map<number, Uint16Array>();
function wideTable(c: number): Uint16Array {
  let t = WIDE_TABLES.get(c);
  if (t === undefined) {
    t = new Uint16Array(65536);
    const row = MUL_TABLE.subarray(c << 8, (c << 8) + 256);
    for (let x = 0; x < 65536; x++) t[x] = row[x & 0xff] | (row[x >> 8] << 8);
    WIDE_TABLES.set(c, t);
  }
  return t;
}

const aligned = (b: Uint8Array, to: number) => b.byteOffset % to === 0 && b.length % to === 0;

/**
 * out = sum over inputs of coef[i] * inputs[i], byte by byte (GF(2^8) dot product
 * of shards). `out` is overwritten; all buffers have out.length bytes. Buffers
 * aligned to 4 bytes take the word-wide paths (callers keep them so).
 */
function combine(coef: readonly number[], inputs: readonly Uint8Array[], out: Uint8Array): void {
  const n = out.length;
  out.fill(0);
  const wide = aligned(out, 4) && inputs.every((b) => aligned(b, 4));
  for (let i = 0; i < inputs.length; i++) {
    const c = coef[i];
    if (c === 0) continue;
    const src = inputs[i];
    if (wide) {
      if (c === 1) {
        const o = new Uint32Array(out.buffer, out.byteOffset, n >> 2);
        const s = new Uint32Array(src.buffer, src.byteOffset, n >> 2);
        for (let w = 0; w < o.length; w++) o[w] ^= s[w];
      } else {
        const t = wideTable(c);
        const o = new Uint16Array(out.buffer, out.byteOffset, n >> 1);
        const s = new Uint16Array(src.buffer, src.byteOffset, n >> 1);
        for (let w = 0; w < o.length; w++) o[w] ^= t[s[w]];
      }
      continue;
    }
    if (c === 1) {
      for (let b = 0; b < n; b++) out[b] ^= src[b];
      continue;
    }
    const row = MUL_TABLE.subarray(c << 8, (c << 8) + 256);
    for (let b = 0; b < n; b++) out[b] ^= row[src[b]];
  }
}

/** The portable kernel: the table loops above, one output at a time. */
const JS_KERNEL: GfKernel = {
  combine(rows, inputs, outs) {
    for (const [o, out] of outs.entries()) combine(rows[o], inputs, out);
  },
};

const SIMD_KERNEL = simdKernel(MUL_TABLE);

export type KernelName = 'simd' | 'js';

/** The kernel in use by default: SIMD where the platform has it. */
export const DEFAULT_KERNEL: KernelName = SIMD_KERNEL ? 'simd' : 'js';

export class ReedSolomon {
  private readonly kernel: GfKernel;
  /** (k+m) x k; rows 0..k-1 are the identity. */
  private readonly matrix: Matrix;
  /** Decode matrices by the set of shards used (a bit mask), since the same few losses repeat. */
  private readonly decoders = new Map<number, Matrix>();

  constructor(
    readonly k: number,
    readonly m: number,
    kernel: KernelName = DEFAULT_KERNEL,
  ) {
    if (kernel === 'simd' && !SIMD_KERNEL) throw new Error('WebAssembly SIMD is not available here');
    this.kernel = kernel === 'simd' ? SIMD_KERNEL! : JS_KERNEL;
    if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 0 || k + m > 32) {
      throw new RangeError(`Reed-Solomon: need 1 <= k and 0 <= m with k + m <= 32, got k=${k} m=${m}`);
    }
    const vandermonde: Matrix = Array.from({ length: k + m }, (_, r) =>
      Array.from({ length: k }, (_, c) => (c === 0 ? 1 : EXP[(LOG[r] * c) % 255] * (r === 0 ? 0 : 1))),
    );
    // Row 0 is [1, 0, 0, ...] (0^0 = 1); rows r > 0 are [1, r, r^2, ...].
    this.matrix = multiply(vandermonde, invert(vandermonde.slice(0, k)));
  }

  /** Fill `parity` (m shards) from `data` (k shards); all shards have the same length. */
  encode(data: readonly Uint8Array[], parity: readonly Uint8Array[]): void {
    this.check(data, this.k, 'data');
    this.check(parity, this.m, 'parity');
    this.kernel.combine(this.matrix.slice(this.k), data, parity);
  }

  /**
   * Rebuild missing shards in place. `shards` has k+m entries (data then parity),
   * `present[i]` tells which hold good bytes; at least k must. Only the shards
   * listed in `wanted` are written (default: every missing one).
   */
  reconstruct(shards: readonly Uint8Array[], present: readonly boolean[], wanted?: readonly number[]): void {
    const { k, m } = this;
    if (shards.length !== k + m || present.length !== k + m) throw new RangeError(`Reed-Solomon: need ${k + m} shards`);
    const targets = (wanted ?? shards.map((_, i) => i)).filter((i) => !present[i]);
    if (targets.length === 0) return;
    const use: number[] = [];
    for (let i = 0; i < k + m && use.length < k; i++) if (present[i]) use.push(i);
    if (use.length < k) throw new RangeError(`Reed-Solomon: ${use.length} shards present, ${k} needed`);
    const len = shards[use[0]].length;
    for (const i of [...use, ...targets]) {
      if (shards[i].length !== len) throw new RangeError('Reed-Solomon: shards differ in length');
    }
    const key = use.reduce((mask, i) => mask | (1 << i), 0) >>> 0;
    let decode = this.decoders.get(key);
    if (decode === undefined) {
      decode = invert(use.map((i) => this.matrix[i]));
      this.decoders.set(key, decode);
    }
    const sources = use.map((i) => shards[i]);
    // Data shards first: a missing parity shard is then encoded from complete data.
    const dataTargets = targets.filter((t) => t < k);
    if (dataTargets.length)
      this.kernel.combine(
        dataTargets.map((t) => decode[t]),
        sources,
        dataTargets.map((t) => shards[t]),
      );
    const parityTargets = targets.filter((t) => t >= k);
    if (parityTargets.length)
      this.kernel.combine(
        parityTargets.map((t) => this.matrix[t]),
        shards.slice(0, k),
        parityTargets.map((t) => shards[t]),
      );
  }

  private check(shards: readonly Uint8Array[], n: number, what: string): void {
    if (shards.length !== n) throw new RangeError(`Reed-Solomon: ${n} ${what} shards needed, got ${shards.length}`);
    const len = shards[0]?.length ?? 0;
    for (const s of shards) if (s.length !== len) throw new RangeError('Reed-Solomon: shards differ in length');
  }
}
