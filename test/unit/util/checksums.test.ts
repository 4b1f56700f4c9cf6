import { createHash, randomBytes } from 'node:crypto';
import { Crc32cJs, Crc64NvmeJs } from '@aws-sdk/checksums/crc';
import { describe, expect, it } from 'vitest';
import {
  CHECKSUM_ALGORITHMS,
  checksumAlgorithmFromHeaderName,
  checksumHeaderName,
  crc32Js,
  createChecksum,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from '../../../src/util/checksums.js';

function digest(a: ChecksumAlgorithm, ...parts: Buffer[]): Buffer {
  const c = createChecksum(a);
  for (const p of parts) c.update(p);
  return c.digest();
}

/** The AWS SDK's own JS implementations, as an independent oracle. */
async function sdkDigest(a: 'CRC32C' | 'CRC64NVME', data: Buffer): Promise<Buffer> {
  const c = a === 'CRC32C' ? new Crc32cJs() : new Crc64NvmeJs();
  c.update(data);
  return Buffer.from(await c.digest());
}

const CHECK = Buffer.from('123456789');

describe('checksums: catalogue check values ("123456789")', () => {
  it.each([
    ['CRC32', 'cbf43926'],
    ['CRC32C', 'e3069283'],
    ['CRC64NVME', 'ae8b14860a799888'],
    ['SHA1', 'f7c3bc1d808e04732adf679965ccc34ca7ae3441'],
    ['SHA256', '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225'],
  ] as const)('%s = %s', (a, hex) => {
    expect(digest(a, CHECK).toString('hex')).toBe(hex);
  });

  it('empty input gives the base64 values AWS uses for an empty body', () => {
    // AAAAAA== is the CRC32 the SDK bakes into presigned PUTs (docs/s3-clients.md B1).
    expect(digest('CRC32').toString('base64')).toBe('AAAAAA==');
    expect(digest('CRC32C').toString('base64')).toBe('AAAAAA==');
    expect(digest('CRC64NVME').toString('base64')).toBe('AAAAAAAAAAA=');
    expect(digest('SHA256').toString('base64')).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  it('an empty chunk in the middle of a stream leaves every running value alone', () => {
    // zlib.crc32(randomBytes(0), v) answers 0: an empty chunk once reset the CRC32.
    for (const a of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
      const c = createChecksum(a);
      c.update(CHECK);
      c.update(randomBytes(0));
      c.update(Buffer.alloc(0));
      expect(c.digest().toString('hex'), a).toBe(digest(a, CHECK).toString('hex'));
    }
  });

  it('the JS CRC32 fallback agrees with zlib', () => {
    expect((crc32Js(0, CHECK) >>> 0).toString(16)).toBe('cbf43926');
    const data = randomBytes(10_007);
    expect(crc32Js(crc32Js(0, data.subarray(0, 13)), data.subarray(13))).toBe(digest('CRC32', data).readUInt32BE(0));
  });
});

describe('checksums: against the AWS SDK implementations', () => {
  const sizes = [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4096, 65_537];
  it.each(sizes)('CRC32C and CRC64NVME match for %i random bytes', async (n) => {
    const data = randomBytes(n);
    for (const a of ['CRC32C', 'CRC64NVME'] as const) {
      expect(digest(a, data).toString('base64')).toBe((await sdkDigest(a, data)).toString('base64'));
    }
  });

  it('CRC32 matches the SDK value for a known string', async () => {
    const { Crc32 } = await import('@aws-sdk/checksums/crc');
    const sdk = new Crc32();
    sdk.update(Buffer.from('Hello world'));
    expect(digest('CRC32', Buffer.from('Hello world'))).toEqual(Buffer.from(await sdk.digest()));
  });
});

describe('checksums: incremental use', () => {
  it.each([...CHECKSUM_ALGORITHMS])('%s gives the same value for any split', (a) => {
    const data = randomBytes(1031);
    const whole = digest(a, data);
    for (const cut of [0, 1, 3, 8, 9, 500, 1030, 1031]) {
      expect(digest(a, data.subarray(0, cut), data.subarray(cut))).toEqual(whole);
    }
    const bytewise = createChecksum(a);
    for (let i = 0; i < 40; i++) bytewise.update(data.subarray(i, i + 1));
    expect(bytewise.digest()).toEqual(digest(a, data.subarray(0, 40)));
  });

  it('digest() does not reset or consume the state', () => {
    for (const a of CHECKSUM_ALGORITHMS) {
      const c = createChecksum(a);
      c.update(CHECK);
      const first = c.digest();
      expect(c.digest()).toEqual(first);
      c.update(CHECK);
      expect(c.digest()).toEqual(digest(a, CHECK, CHECK));
    }
  });

  it('SHA variants agree with node:crypto', () => {
    const data = randomBytes(3000);
    expect(digest('SHA1', data)).toEqual(createHash('sha1').update(data).digest());
    expect(digest('SHA256', data)).toEqual(createHash('sha256').update(data).digest());
  });
});

describe('checksums: names', () => {
  it('maps algorithms to header names and back, case-insensitively', () => {
    for (const a of CHECKSUM_ALGORITHMS) {
      expect(parseChecksumAlgorithm(a.toLowerCase())).toBe(a);
      expect(checksumAlgorithmFromHeaderName(checksumHeaderName(a).toUpperCase())).toBe(a);
    }
    expect(checksumHeaderName('CRC64NVME')).toBe('x-amz-checksum-crc64nvme');
    expect(parseChecksumAlgorithm('md5')).toBeUndefined();
    expect(checksumAlgorithmFromHeaderName('x-amz-checksum-type')).toBeUndefined();
    expect(checksumAlgorithmFromHeaderName('content-md5')).toBeUndefined();
  });
});

describe('checksums: throughput', () => {
  it('hashes 16 MiB with the JS CRCs in well under a second each', () => {
    const big = randomBytes(16 << 20);
    for (const a of ['CRC32C', 'CRC64NVME'] as const) {
      const t = performance.now();
      digest(a, big);
      expect(performance.now() - t).toBeLessThan(2000);
    }
  });
});
