import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/services/errors.js';
import { completeChecksums, uploadChecksumType, type CompletingPart } from '../../../src/services/multipartChecksum.js';
import { createChecksum, type ChecksumAlgorithm } from '../../../src/util/checksums.js';

const b64 = (a: ChecksumAlgorithm, ...bufs: Buffer[]) => {
  const c = createChecksum(a);
  for (const b of bufs) c.update(b);
  return c.digest().toString('base64');
};
const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
};

const DATA = [randomBytes(5000), randomBytes(3333), randomBytes(17)];
const parts = (a: ChecksumAlgorithm, sendChecksums = true): CompletingPart[] =>
  DATA.map((d, i) => ({
    partNumber: i + 1,
    size: d.length,
    stored: { [a]: b64(a, d) },
    sent: sendChecksums ? { [a]: b64(a, d) } : {},
  }));

describe('uploadChecksumType', () => {
  it('defaults: CRC64NVME is FULL_OBJECT, the others COMPOSITE, none without an algorithm', () => {
    expect(uploadChecksumType('CRC64NVME', undefined)).toBe('FULL_OBJECT');
    expect(uploadChecksumType('CRC32', undefined)).toBe('COMPOSITE');
    expect(uploadChecksumType('SHA256', undefined)).toBe('COMPOSITE');
    expect(uploadChecksumType(undefined, undefined)).toBeUndefined();
    expect(uploadChecksumType('CRC32C', 'FULL_OBJECT')).toBe('FULL_OBJECT');
  });
  it('refuses the combinations S3 refuses with InvalidRequest', () => {
    expect(code(() => uploadChecksumType('CRC64NVME', 'COMPOSITE'))).toBe('InvalidRequest');
    expect(code(() => uploadChecksumType('SHA1', 'FULL_OBJECT'))).toBe('InvalidRequest');
    expect(code(() => uploadChecksumType(undefined, 'FULL_OBJECT'))).toBe('InvalidRequest');
    expect(code(() => uploadChecksumType('CRC32', 'SOMETHING'))).toBe('InvalidRequest');
  });
});

describe('completeChecksums', () => {
  it('FULL_OBJECT CRC64NVME / CRC32 / CRC32C is the checksum of the whole object, with no suffix', () => {
    for (const a of ['CRC64NVME', 'CRC32', 'CRC32C'] as const) {
      const whole = b64(a, ...DATA);
      expect(completeChecksums({ algorithm: a, type: 'FULL_OBJECT' }, parts(a, false), {})).toEqual({ [a]: whole });
      expect(
        completeChecksums({ algorithm: a, type: 'FULL_OBJECT' }, parts(a), {
          checksum: { algorithm: a, value: whole },
          type: 'FULL_OBJECT',
        }),
      ).toEqual({ [a]: whole });
      expect(
        code(() =>
          completeChecksums({ algorithm: a, type: 'FULL_OBJECT' }, parts(a), {
            checksum: { algorithm: a, value: b64(a, DATA[0]) },
          }),
        ),
      ).toBe('BadDigest');
    }
  });

  it('COMPOSITE is the checksum of the part checksums, "-N"; the object value is accepted with or without it', () => {
    const a = 'SHA256';
    const composite = `${b64(a, ...DATA.map((d) => Buffer.from(b64(a, d), 'base64')))}-3`;
    expect(completeChecksums({ algorithm: a, type: 'COMPOSITE' }, parts(a), {})).toEqual({ [a]: composite });
    expect(
      code(() =>
        completeChecksums({ algorithm: a, type: 'COMPOSITE' }, parts(a), {
          checksum: { algorithm: a, value: composite },
        }),
      ),
    ).toBe('ok');
    expect(
      code(() =>
        completeChecksums({ algorithm: a, type: 'COMPOSITE' }, parts(a), {
          checksum: { algorithm: a, value: composite.slice(0, -2) },
        }),
      ),
    ).toBe('ok');
    expect(
      code(() =>
        completeChecksums({ algorithm: a, type: 'COMPOSITE' }, parts(a), {
          checksum: { algorithm: a, value: b64(a, ...DATA) },
        }),
      ),
    ).toBe('BadDigest');
  });

  it('COMPOSITE needs every part checksum in the request: InvalidRequest naming the part', () => {
    const p = parts('CRC32');
    delete p[1].sent.CRC32;
    expect(() => completeChecksums({ algorithm: 'CRC32', type: 'COMPOSITE' }, p, {})).toThrow(/missing for part 2/);
  });

  it('a part checksum that differs from the uploaded part is InvalidPart', () => {
    const p = parts('CRC64NVME');
    p[2].sent.CRC64NVME = b64('CRC64NVME', DATA[0]);
    expect(code(() => completeChecksums({ algorithm: 'CRC64NVME', type: 'FULL_OBJECT' }, p, {}))).toBe('InvalidPart');
  });

  it("another checksum type than the upload's is BadDigest; another algorithm InvalidRequest", () => {
    expect(
      code(() => completeChecksums({ algorithm: 'CRC32', type: 'COMPOSITE' }, parts('CRC32'), { type: 'FULL_OBJECT' })),
    ).toBe('BadDigest');
    expect(
      code(() =>
        completeChecksums({ algorithm: 'CRC32', type: 'COMPOSITE' }, parts('CRC32'), {
          checksum: { algorithm: 'CRC32C', value: 'AAAAAA==' },
        }),
      ),
    ).toBe('InvalidRequest');
  });

  it('an upload without an algorithm: a full-object CRC is verified from the part CRCs when every part has one, else InvalidRequest', () => {
    const whole = b64('CRC32', ...DATA);
    expect(
      completeChecksums({}, parts('CRC32', false), {
        checksum: { algorithm: 'CRC32', value: whole },
        type: 'FULL_OBJECT',
      }),
    ).toEqual({ CRC32: whole });
    expect(
      code(() =>
        completeChecksums({}, parts('CRC32', false), {
          checksum: { algorithm: 'CRC32', value: b64('CRC32', DATA[1]) },
        }),
      ),
    ).toBe('BadDigest');
    expect(
      code(() => completeChecksums({}, parts('CRC32', false), { checksum: { algorithm: 'CRC32C', value: whole } })),
    ).toBe('InvalidRequest');
    expect(
      code(() => completeChecksums({}, parts('SHA256', false), { checksum: { algorithm: 'SHA256', value: whole } })),
    ).toBe('InvalidRequest');
    expect(completeChecksums({}, parts('CRC32', false), {})).toEqual({});
  });
});
