/**
 * Every attack in the docs/encryption.md threat model ("can modify files on the
 * drives") must end in CryptoIntegrityError, never in a short or altered body.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { encryptedSize, segmentSpan } from '../../../src/crypto/format.js';
import { createDecryptor } from '../../../src/crypto/streamDecryptor.js';
import { createEncryptor, type StreamBinding } from '../../../src/crypto/streamEncryptor.js';
import { chunked, expectIntegrityError, hex, loadVectors, prng, run } from './helpers.js';

const dek = hex(loadVectors().dek);
const S = 4096;
const LOG2 = 12;
const seg = (i: number): number => 64 + i * (S + 16); // offset of segment i
const bindingA: StreamBinding = { bucketUid: 'bucket-A', dataId: 'data-A', uploadId: 'upload-1', partNumber: 3 };
const plain = prng(99).bytes(3 * S + 500); // segments 0..2 full, segment 3 final with 500 bytes

interface Written {
  blob: Buffer;
  headerDigest: Buffer;
  size: number;
}

async function write(binding: StreamBinding, pt: Buffer): Promise<Written> {
  const enc = createEncryptor({ dek, binding, segmentLog2: LOG2 });
  return { blob: await run(enc.stream, [pt]), headerDigest: enc.headerDigest, size: pt.length };
}

interface ReadOptions {
  dek?: Buffer;
  binding?: StreamBinding;
  headerDigest?: Buffer;
  plainSize?: number;
}

/**
 * Read a whole object the way the service will: header from the blob, digest and
 * size from the record, then everything after the header to EOF (so appended
 * bytes are seen), in 1-byte chunks so nothing can be emitted early.
 */
function readAll(record: Written, blob: Buffer, o: ReadOptions = {}, emitted: Buffer[] = []): Promise<Buffer> {
  const plainSize = o.plainSize ?? record.size;
  const span = segmentSpan(plainSize, LOG2, 0, plainSize - 1);
  const dec = createDecryptor({
    dek: o.dek ?? dek,
    binding: o.binding ?? bindingA,
    header: blob.subarray(0, 64),
    expectedHeaderDigest: o.headerDigest ?? record.headerDigest,
    plainSize,
    span,
  });
  return run(dec, chunked(blob.subarray(64), [1]), emitted);
}

const flip = (b: Buffer, at: number): Buffer => {
  const c = Buffer.from(b);
  c[at]! ^= 0x01;
  return c;
};
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

let A: Written;
beforeAll(async () => {
  A = await write(bindingA, plain);
});

describe('untampered', () => {
  it('reads back exactly', async () => {
    expect((await readAll(A, A.blob)).equals(plain)).toBe(true);
  });
});

describe('bit flips', () => {
  it.each([
    ['segment 0 body', seg(0) + 10, 0],
    ['segment 2 body', seg(2) + S - 1, 2],
    ['final segment body', seg(3), 3],
    ['segment 1 tag', seg(2) - 1, 1],
    ['final tag', 64 + 3 * (S + 16) + 500 + 15, 3],
  ])('in %s: fails, and nothing of that segment is emitted', async (_n, at, badSegment) => {
    const emitted: Buffer[] = [];
    await expectIntegrityError(
      () => readAll(A, flip(A.blob, at), {}, emitted),
      new RegExp(`segment ${badSegment} of 4 failed`),
    );
    const out = Buffer.concat(emitted);
    expect(out.length).toBe(badSegment * S);
    expect(out.equals(plain.subarray(0, out.length))).toBe(true);
  });

  it.each([0, 4, 5, 6, 7, 8, 39, 40, 46, 47, 48, 63])(
    'in header byte %i: fails the record digest check',
    async (at) => {
      await expectIntegrityError(() => readAll(A, flip(A.blob, at)), /digest/);
    },
  );

  // Defence in depth: even with a record that matched the tampered header, the header
  // is still bound by parsing, the commitment (salt) and every segment's AAD.
  it.each([0, 4, 7, 8, 39, 40, 46, 47, 48, 63])(
    'in header byte %i: fails even if the digest check were bypassed',
    async (at) => {
      const bad = flip(A.blob, at);
      await expectIntegrityError(() => readAll(A, bad, { headerDigest: sha256(bad.subarray(0, 64)) }));
    },
  );
});

describe('reordering', () => {
  it('two segments swapped', async () => {
    const b = Buffer.from(A.blob);
    A.blob.copy(b, seg(0), seg(1), seg(2));
    A.blob.copy(b, seg(1), seg(0), seg(1));
    await expectIntegrityError(() => readAll(A, b), /segment 0 of 4 failed/);
  });

  it('a segment duplicated over the next one', async () => {
    const b = Buffer.from(A.blob);
    A.blob.copy(b, seg(2), seg(1), seg(2));
    await expectIntegrityError(() => readAll(A, b), /segment 2 of 4 failed/);
  });
});

describe('truncation', () => {
  it.each([
    ['final segment dropped exactly', seg(3)],
    ['last two segments dropped', seg(2)],
    ['everything after the header', 64],
    ['mid-segment', seg(1) + 100],
    ['inside the final segment', seg(3) + 200],
    ['one byte of the final tag', encryptedSize(plain.length, LOG2) - 1],
  ])('%s: ended early', async (_n, cut) => {
    await expectIntegrityError(() => readAll(A, A.blob.subarray(0, cut)), /ended early/);
  });

  it('at a boundary, even if the record size were cut to match (final flag in the nonce)', async () => {
    await expectIntegrityError(
      () => readAll(A, A.blob.subarray(0, seg(3)), { plainSize: 3 * S }),
      /segment 2 of 3 failed/,
    );
  });

  it('the empty object still needs its 16-byte final tag', async () => {
    const E = await write(bindingA, Buffer.alloc(0));
    expect((await readAll(E, E.blob)).length).toBe(0);
    await expectIntegrityError(() => readAll(E, E.blob.subarray(0, 64)), /ended early/);
    await expectIntegrityError(() => readAll(E, E.blob.subarray(0, 79)), /ended early/);
  });
});

describe('extension', () => {
  it.each([
    ['one extra byte', () => Buffer.concat([A.blob, Buffer.alloc(1)])],
    ['an extra copy of the final segment', () => Buffer.concat([A.blob, A.blob.subarray(seg(3))])],
    ['an extra full segment', () => Buffer.concat([A.blob, A.blob.subarray(seg(0), seg(1))])],
  ])('%s after the final segment', async (_n, make) => {
    await expectIntegrityError(() => readAll(A, make()), /after segment 3 of 4/);
  });

  it('bytes after the empty final segment of an empty object', async () => {
    const E = await write(bindingA, Buffer.alloc(0));
    await expectIntegrityError(() => readAll(E, Buffer.concat([E.blob, Buffer.from('x')])), /after segment 0 of 1/);
  });

  it('a record size that disagrees with the blob, either way', async () => {
    await expectIntegrityError(() => readAll(A, A.blob, { plainSize: A.size - 1 }));
    await expectIntegrityError(() => readAll(A, A.blob, { plainSize: A.size + 1 }));
    await expectIntegrityError(() => readAll(A, A.blob, { plainSize: A.size + S }));
  });
});

describe('swaps and rollback (the record is the authority)', () => {
  it('a header swapped in from another object', async () => {
    const B = await write({ ...bindingA, dataId: 'data-B' }, plain);
    const mixed = Buffer.concat([B.blob.subarray(0, 64), A.blob.subarray(64)]);
    await expectIntegrityError(() => readAll(A, mixed), /digest/);
    // and if the record's digest were swapped too, the key commitment no longer matches data-A
    await expectIntegrityError(() => readAll(A, mixed, { headerDigest: B.headerDigest }), /commitment/);
  });

  it('a whole blob from another object', async () => {
    const B = await write({ ...bindingA, dataId: 'data-B' }, plain);
    await expectIntegrityError(() => readAll(A, B.blob), /digest/);
  });

  it('an older write of the same object put back', async () => {
    const older = await write(bindingA, prng(5).bytes(plain.length));
    await expectIntegrityError(() => readAll(A, older.blob), /digest/);
  });
});

describe('wrong key or binding', () => {
  it.each([
    ['wrong DEK', { dek: Buffer.alloc(32, 0x5a) }],
    ['wrong bucketUid', { binding: { ...bindingA, bucketUid: 'bucket-B' } }],
    ['wrong dataId', { binding: { ...bindingA, dataId: 'data-B' } }],
  ] as const)('%s: key commitment fails up front', async (_n, o) => {
    const err = await expectIntegrityError(() => readAll(A, A.blob, o), /commitment/);
    expect(err.message).not.toContain(dek.toString('hex'));
  });

  it.each([
    ['wrong partNumber', { ...bindingA, partNumber: 4 }],
    ['no partNumber', { ...bindingA, partNumber: undefined }],
    ['wrong uploadId', { ...bindingA, uploadId: 'upload-2' }],
    ['no uploadId', { ...bindingA, uploadId: undefined }],
  ])('%s: the first segment fails (binding is in the AAD)', async (_n, binding) => {
    const emitted: Buffer[] = [];
    await expectIntegrityError(() => readAll(A, A.blob, { binding }, emitted), /segment 0 of 4 failed/);
    expect(emitted.length).toBe(0);
  });
});
