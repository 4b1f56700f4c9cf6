import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/services/errors.js';
import { UploadHasher, type UploadExpectations } from '../../../src/services/uploadHasher.js';

const CHECK = Buffer.from('123456789');
// Catalogued check values of "123456789" (CRC RevEng), base64 of the big-endian digest.
const CRC32_CHECK = Buffer.from('cbf43926', 'hex').toString('base64');
const CRC32C_CHECK = Buffer.from('e3069283', 'hex').toString('base64');
const CRC64NVME_CHECK = Buffer.from('ae8b14860a799888', 'hex').toString('base64');
const SHA1_CHECK = createHash('sha1').update(CHECK).digest('base64');
const SHA256_CHECK = createHash('sha256').update(CHECK).digest('base64');

const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');
const md5b64 = (b: Buffer) => createHash('md5').update(b).digest('base64');

interface Run {
  hasher: UploadHasher;
  /** Bytes that got through to the next stage. */
  passed: Buffer;
  /** Whether the next stage saw the end of the stream. */
  ended: boolean;
  error?: unknown;
}

/** body -> hasher -> sink, as writeEncryptedStream pipes it (the sink stands in for the encryptor). */
async function run(expect: UploadExpectations, chunks: Buffer[]): Promise<Run> {
  const hasher = new UploadHasher(expect);
  const got: Buffer[] = [];
  let ended = false;
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      got.push(c);
      cb();
    },
    final(cb) {
      ended = true;
      cb();
    },
  });
  let error: unknown;
  try {
    await pipeline(Readable.from(chunks), hasher, sink);
  } catch (e) {
    error = e;
  }
  return { hasher, passed: Buffer.concat(got), ended, error };
}

function codeOf(r: Run): string | undefined {
  if (r.error === undefined) return undefined;
  if (r.error instanceof DomainError) return r.error.code;
  throw r.error;
}

describe('UploadHasher: MD5, ETag and size', () => {
  it('ETag is the hex MD5 of the plaintext, size its length, bytes pass through unchanged', async () => {
    const chunks = [Buffer.from('hello '), Buffer.from('world')];
    const r = await run({}, chunks);
    expect(r.error).toBeUndefined();
    expect(r.hasher.etag).toBe('5eb63bbbe01eeed093cb22bb8f5acdc3');
    expect(r.hasher.size).toBe(11);
    expect(r.passed.toString()).toBe('hello world');
    expect(r.ended).toBe(true);
  });

  it('empty body: the MD5 of nothing', async () => {
    const r = await run({ length: 0 }, []);
    expect(r.error).toBeUndefined();
    expect([r.hasher.etag, r.hasher.size]).toEqual(['d41d8cd98f00b204e9800998ecf8427e', 0]);
  });

  it('chunking does not change the result', async () => {
    const body = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    const one = await run({}, [body]);
    const many = await run(
      {},
      Array.from({ length: 100 }, (_, i) => body.subarray(i * 1000, (i + 1) * 1000)),
    );
    expect(many.hasher.etag).toBe(one.hasher.etag);
    expect(many.hasher.etag).toBe(md5hex(body));
  });

  it('a matching Content-MD5 passes; a wrong one is BadDigest', async () => {
    const body = Buffer.from('data');
    expect(codeOf(await run({ contentMd5: md5b64(body) }, [body]))).toBeUndefined();
    expect(codeOf(await run({ contentMd5: md5b64(Buffer.from('Data')) }, [body]))).toBe('BadDigest');
  });
});

describe('UploadHasher: flexible checksums', () => {
  it('computes every algorithm (catalogued check values)', async () => {
    const r = await run({ compute: ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] }, [
      CHECK.subarray(0, 4),
      CHECK.subarray(4),
    ]);
    expect(r.error).toBeUndefined();
    expect(r.hasher.checksums).toEqual({
      CRC32: CRC32_CHECK,
      CRC32C: CRC32C_CHECK,
      CRC64NVME: CRC64NVME_CHECK,
      SHA1: SHA1_CHECK,
      SHA256: SHA256_CHECK,
    });
  });

  it('computes nothing it was not asked for', async () => {
    expect((await run({}, [CHECK])).hasher.checksums).toEqual({});
  });

  it('an expected checksum that matches passes and is recorded', async () => {
    const r = await run({ checksums: { CRC32: CRC32_CHECK } }, [CHECK]);
    expect(r.error).toBeUndefined();
    expect(r.hasher.checksums).toEqual({ CRC32: CRC32_CHECK });
  });

  it('a checksum that does not match is XAmzContentChecksumMismatch', async () => {
    for (const [alg, wrong] of [
      ['CRC32', CRC32C_CHECK],
      ['CRC32C', CRC32_CHECK],
      ['CRC64NVME', 'AAAAAAAAAAA='],
      ['SHA1', SHA256_CHECK],
      ['SHA256', SHA1_CHECK],
    ] as const) {
      const r = await run({ checksums: { [alg]: wrong } }, [CHECK]);
      expect(codeOf(r), alg).toBe('XAmzContentChecksumMismatch');
      expect(r.ended, alg).toBe(false);
    }
  });

  it('Content-MD5 is checked before the checksums', async () => {
    expect(codeOf(await run({ contentMd5: md5b64(Buffer.from('x')), checksums: { CRC32: 'AAAAAA==' } }, [CHECK]))).toBe(
      'BadDigest',
    );
  });

  it('both Content-MD5 and a checksum must hold', async () => {
    expect(
      codeOf(await run({ contentMd5: md5b64(CHECK), checksums: { SHA256: SHA256_CHECK } }, [CHECK])),
    ).toBeUndefined();
    expect(codeOf(await run({ contentMd5: md5b64(CHECK), checksums: { SHA256: SHA1_CHECK } }, [CHECK]))).toBe(
      'XAmzContentChecksumMismatch',
    );
  });
});

describe('UploadHasher: declared length and size limit', () => {
  it('exactly the declared length passes', async () => {
    expect(codeOf(await run({ length: 9 }, [CHECK]))).toBeUndefined();
  });

  it('a short body is IncompleteBody', async () => {
    const r = await run({ length: 10 }, [CHECK]);
    expect(codeOf(r)).toBe('IncompleteBody');
    expect(r.ended).toBe(false);
  });

  it('a long body is IncompleteBody as soon as it is exceeded: the excess chunk is not passed on', async () => {
    const r = await run({ length: 5 }, [Buffer.from('12345'), Buffer.from('6'), Buffer.from('789')]);
    expect(codeOf(r)).toBe('IncompleteBody');
    expect(r.passed.toString()).toBe('12345');
    expect(r.ended).toBe(false);
  });

  it('maxSize: equal passes, one byte more is EntityTooLarge, checked before the declared length', async () => {
    expect(codeOf(await run({ maxSize: 9 }, [CHECK]))).toBeUndefined();
    const r = await run({ maxSize: 8 }, [CHECK.subarray(0, 8), CHECK.subarray(8)]);
    expect(codeOf(r)).toBe('EntityTooLarge');
    expect(r.passed.length).toBe(8);
    expect(codeOf(await run({ maxSize: 4, length: 4 }, [CHECK]))).toBe('EntityTooLarge');
  });

  it('a short body fails on length before any digest is compared', async () => {
    expect(codeOf(await run({ length: 100, contentMd5: md5b64(CHECK) }, [CHECK]))).toBe('IncompleteBody');
  });
});

describe('UploadHasher: errors are raised before the stream ends', () => {
  it('a failed check never lets the next stage see the end of the stream', async () => {
    const failures: UploadExpectations[] = [
      { contentMd5: md5b64(Buffer.from('other')) },
      { checksums: { CRC32: 'AAAAAA==' } },
      { length: 100 },
    ];
    for (const f of failures) {
      const r = await run(f, [CHECK]);
      expect(r.error, JSON.stringify(f)).toBeInstanceOf(DomainError);
      expect(r.ended, JSON.stringify(f)).toBe(false);
      // All the data went through; only the end is withheld.
      expect(r.passed.equals(CHECK)).toBe(true);
    }
  });

  it('the readable side emits error, not end', async () => {
    const h = new UploadHasher({ checksums: { SHA256: SHA1_CHECK } });
    const events: string[] = [];
    h.on('data', () => events.push('data'));
    h.on('end', () => events.push('end'));
    const done = new Promise<unknown>((resolve) => h.on('error', resolve));
    h.end(CHECK);
    const err = await done;
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('XAmzContentChecksumMismatch');
    expect(events).not.toContain('end');
  });
});
