import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encryptedSize } from '../../../src/crypto/format.js';
import { createEncryptor, type EncryptorOptions } from '../../../src/crypto/streamEncryptor.js';
import { chunked, fixedRandom, hex, loadVectors, prng, randomChunks, run } from './helpers.js';

const vectors = loadVectors();
const dek = hex(vectors.dek);
const binding = { bucketUid: 'b-1', dataId: 'd-1' };

function fixedOptions(segmentLog2 = 12): EncryptorOptions {
  return { dek, binding, segmentLog2, random: fixedRandom(Buffer.alloc(32, 1), Buffer.alloc(7, 2)) };
}

describe('createEncryptor: known answers (Python vectors)', () => {
  it.each(vectors.streams.map((v) => [v.name, v] as const))('%s', async (_n, v) => {
    const enc = createEncryptor({
      dek,
      binding: { bucketUid: v.bucketUid, dataId: v.dataId, uploadId: v.uploadId, partNumber: v.partNumber },
      segmentLog2: v.segmentLog2,
      random: fixedRandom(hex(v.salt), hex(v.noncePrefix)),
    });
    expect(enc.header.toString('hex')).toBe(v.header);
    expect(enc.salt.toString('hex')).toBe(v.salt);
    expect(enc.headerDigest.toString('hex')).toBe(v.headerDigest);
    const blob = await run(enc.stream, chunked(hex(v.plaintext), [1000]));
    expect(blob.toString('hex')).toBe(v.blob);
  });
});

describe('createEncryptor: framing', () => {
  const S = 4096;
  const rnd = prng(42);
  const sizes = [0, 1, S - 1, S, S + 1, 2 * S, 3 * S, 3 * S + 17];

  it.each(sizes)('gives identical output for any input chunking (%i bytes)', async (size) => {
    const pt = rnd.bytes(size);
    const reference = await run(createEncryptor(fixedOptions()).stream, [pt]);
    expect(reference.length).toBe(encryptedSize(size, 12));
    const chunkings = [
      chunked(pt, [1]),
      chunked(pt, [S - 1, 2]), // straddle every boundary
      chunked(pt, [S, 1]),
      chunked(pt, [S + 1]),
      chunked(pt, [3 * S + 5]),
      randomChunks(pt, rnd, 2 * S),
      [Buffer.alloc(0), ...chunked(pt, [700]), Buffer.alloc(0)],
    ];
    for (const chunks of chunkings) {
      expect((await run(createEncryptor(fixedOptions()).stream, chunks)).equals(reference)).toBe(true);
    }
  });

  it('emits header + one 16-byte tag for empty input', async () => {
    const enc = createEncryptor(fixedOptions());
    const out = await run(enc.stream, []);
    expect(out.length).toBe(80);
    expect(out.subarray(0, 64).equals(enc.header)).toBe(true);
  });

  it('draws a fresh salt and nonce prefix per stream by default', () => {
    const a = createEncryptor({ dek, binding });
    const b = createEncryptor({ dek, binding });
    expect(a.salt.equals(b.salt)).toBe(false);
    expect(a.header.subarray(40, 47).equals(b.header.subarray(40, 47))).toBe(false);
    expect(a.header[6]).toBe(16); // default 64 KiB segments
    expect(a.headerDigest.equals(createHash('sha256').update(a.header).digest())).toBe(true);
  });

  it('rejects bad options with RangeError', () => {
    expect(() => createEncryptor({ ...fixedOptions(), segmentLog2: 11 })).toThrow(RangeError);
    expect(() => createEncryptor({ ...fixedOptions(), dek: Buffer.alloc(31) })).toThrow(RangeError);
    expect(() => createEncryptor({ ...fixedOptions(), binding: { ...binding, partNumber: -1 } })).toThrow(RangeError);
    expect(() => createEncryptor({ dek, binding, random: () => Buffer.alloc(8) })).toThrow(RangeError);
  });
});

describe('createEncryptor: memory and back-pressure', () => {
  it('keeps at most one segment back while encrypting 64 MiB from a generator', async () => {
    const total = 64 * 1024 * 1024;
    const S = 65536;
    const { stream } = createEncryptor({ dek, binding });
    const rnd = prng(7);
    const block = rnd.bytes(200 * 1024);
    let maxHeld = 0;
    let maxBuffered = 0;
    const sample = (): void => {
      maxHeld = Math.max(maxHeld, stream.heldBytes);
      maxBuffered = Math.max(maxBuffered, stream.heldBytes + stream.writableLength + stream.readableLength);
    };
    async function* source(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < total;) {
        const n = Math.min(1 + rnd.int(S), total - sent); // 1 B .. 64 KiB, straddling boundaries
        const at = rnd.int(block.length - n);
        sent += n;
        sample();
        yield block.subarray(at, at + n);
      }
    }
    let outBytes = 0;
    const slowSink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        outBytes += chunk.length;
        sample();
        setImmediate(cb); // a consumer slower than the producer, so back-pressure matters
      },
    });
    await pipeline(source, stream, slowSink);
    expect(outBytes).toBe(encryptedSize(total, 16));
    expect(maxHeld).toBeLessThanOrEqual(S);
    // Bounded by a few segments whatever the object size: the held-back segment,
    // the writable side one input chunk (<= S) past its mark, the readable side
    // one sealed segment (S + tag) past its mark. 64 MiB buffered would be 400x this.
    expect(maxBuffered).toBeLessThanOrEqual(3 * S + 16 + stream.writableHighWaterMark + stream.readableHighWaterMark);
  });

  it('signals back-pressure to a writer when nobody reads', () => {
    const { stream } = createEncryptor(fixedOptions());
    let written = 0;
    while (stream.write(Buffer.alloc(1024)) && written < 1024 * 1024) written += 1024;
    expect(written).toBeLessThan(1024 * 1024);
    expect(stream.heldBytes).toBeLessThanOrEqual(2 * 4096);
    stream.destroy();
  });
});
