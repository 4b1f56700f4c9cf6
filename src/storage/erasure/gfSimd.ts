/**
 * GF(2^8) multiply-accumulate with WebAssembly SIMD: dst ^= c * src over whole
 * shards, 16 bytes a step.
 *
 * The technique of the fast native erasure coders (ISA-L, klauspost/reedsolomon):
 * c * x = c * (x & 15) ^ c * (x & 240), so two 16-entry tables per coefficient,
 * looked up for 16 bytes at once with i8x16.swizzle, multiply a whole vector.
 * The module is 150-odd bytes assembled below, instruction by instruction, so
 * no build step or binary blob is needed. It computes exactly what the table
 * loop in reedSolomon.ts computes (a test holds both to the same bytes), so a
 * platform without WebAssembly SIMD falls back to that loop and reads the
 * same shards.
 *
 * Memory layout: [0, 8 KiB) the 256 coefficients' table pairs (32 bytes each),
 * then shard buffers, each padded to a multiple of 16.
 */

const TABLES = 256 * 32;

/** Unsigned LEB128. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

const name = (s: string) => [s.length, ...Buffer.from(s, 'latin1')];

/** mulxor(table, src, dst, len): for each 16 bytes, dst ^= swizzle(lo, src & 15) ^ swizzle(hi, src >> 4). */
function moduleBytes(): Uint8Array {
  const [TBL, SRC, DST, LEN, TLO, THI, MASK, V, END] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const simd = (op: number, ...imm: number[]) => [0xfd, ...leb(op), ...imm];
  const load = (offset = 0) => simd(0x00, 0, ...leb(offset));
  const store = () => simd(0x0b, 0, 0);
  const [SWIZZLE, SPLAT, AND, XOR, SHR_U] = [0x0e, 0x0f, 0x4e, 0x51, 0x6d];
  const i32const = (n: number) => [0x41, ...leb(n)];
  const code = [
    ...get(TBL),
    ...load(0),
    ...set(TLO),
    ...get(TBL),
    ...load(16),
    ...set(THI),
    ...i32const(15),
    ...simd(SPLAT),
    ...set(MASK),
    ...get(SRC),
    ...get(LEN),
    0x6a /* i32.add */,
    ...set(END),
    0x02,
    0x40 /* block */,
    0x03,
    0x40 /* loop */,
    ...get(SRC),
    ...get(END),
    0x4f /* i32.ge_u */,
    0x0d,
    1 /* br_if out */,
    ...get(DST), // address for the store
    ...get(DST),
    ...load(),
    ...get(TLO),
    ...get(SRC),
    ...load(),
    0x22,
    V /* local.tee */,
    ...get(MASK),
    ...simd(AND),
    ...simd(SWIZZLE),
    ...get(THI),
    ...get(V),
    ...i32const(4),
    ...simd(SHR_U),
    ...simd(SWIZZLE),
    ...simd(XOR),
    ...simd(XOR),
    ...store(),
    ...get(SRC),
    ...i32const(16),
    0x6a,
    ...set(SRC),
    ...get(DST),
    ...i32const(16),
    0x6a,
    ...set(DST),
    0x0c,
    0 /* br loop */,
    0x0b,
    0x0b,
    0x0b, // end of function
  ];
  // Locals after the 4 i32 params: 4 x v128 (TLO, THI, MASK, V), 1 x i32 (END).
  const body = [2, 4, 0x7b, 1, 0x7f, ...code];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]),
    ...section(7, [2, ...name('mem'), 2, 0, ...name('mulxor'), 0, 0]),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

export interface GfKernel {
  /** outs[o] = sum over i of rows[o][i] * inputs[i], for every output o. */
  combine(rows: readonly (readonly number[])[], inputs: readonly Uint8Array[], outs: readonly Uint8Array[]): void;
}

/** The little of the WebAssembly API used here (the compile target's lib has no WebAssembly types). */
interface Wasm {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The SIMD kernel, or undefined where WebAssembly SIMD is not available. */
export function simdKernel(mulTable: Uint8Array): GfKernel | undefined {
  const bytes = moduleBytes();
  const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;
  if (!wasm || !wasm.validate(bytes)) return undefined;
  const instance = new wasm.Instance(new wasm.Module(bytes));
  const mem = instance.exports.mem as WasmMemory;
  const mulxor = instance.exports.mulxor as (table: number, src: number, dst: number, len: number) => void;
  let heap = new Uint8Array(mem.buffer);
  for (let c = 0; c < 256; c++) {
    for (let x = 0; x < 16; x++) {
      heap[c * 32 + x] = mulTable[c * 256 + x];
      heap[c * 32 + 16 + x] = mulTable[c * 256 + (x << 4)];
    }
  }
  return {
    combine(rows, inputs, outs) {
      const n = outs[0]?.length ?? 0;
      if (n === 0) return;
      const padded = (n + 15) & ~15;
      const need = TABLES + (inputs.length + outs.length) * padded;
      if (need > heap.length) {
        mem.grow(Math.ceil((need - heap.length) / 65536));
        heap = new Uint8Array(mem.buffer);
      }
      const at = (i: number) => TABLES + i * padded;
      for (const [i, src] of inputs.entries()) heap.set(src, at(i));
      for (let o = 0; o < outs.length; o++) {
        const dst = at(inputs.length + o);
        heap.fill(0, dst, dst + padded);
        for (let i = 0; i < inputs.length; i++) {
          const c = rows[o][i];
          if (c !== 0) mulxor(c * 32, at(i), dst, padded);
        }
        outs[o].set(heap.subarray(dst, dst + n));
      }
    },
  };
}
