import { describe, expect, it } from 'vitest';
import { SigV4Error, type SigV4ErrorCode } from '../../../src/auth/sigv4/errors.js';
import { CryptoIntegrityError } from '../../../src/crypto/index.js';
import { KmsError, type KmsReason } from '../../../src/keys/errors.js';
import { ERROR_TABLE, S3Error, toS3Error, type S3ErrorCode } from '../../../src/s3/errors.js';
import { DomainError, type DomainCode } from '../../../src/services/errors.js';
import { InsufficientShardsError } from '../../../src/storage/erasure/errors.js';
import { DiskFaultError } from '../../../src/util/diskFault.js';

const GENERIC_INTERNAL = ERROR_TABLE.InternalError[1];

describe('S3Error', () => {
  it('takes status and default message from the table', () => {
    for (const code of Object.keys(ERROR_TABLE) as S3ErrorCode[]) {
      const e = new S3Error(code);
      expect(e.status, code).toBe(ERROR_TABLE[code][0]);
      expect(e.message, code).toBe(ERROR_TABLE[code][1]);
      expect(e.code).toBe(code);
      expect(e.name).toBe('S3Error');
      expect(e).toBeInstanceOf(Error);
    }
  });

  it('keeps a custom message, fields and headers; the status still comes from the table', () => {
    const e = new S3Error('NoSuchKey', 'gone', { Key: 'k' }, { 'x-amz-delete-marker': 'false' });
    expect([e.status, e.message, e.fields, e.headers]).toEqual([
      404,
      'gone',
      { Key: 'k' },
      { 'x-amz-delete-marker': 'false' },
    ]);
  });

  it('the table has the HTTP statuses AWS documents', () => {
    const expected: Partial<Record<S3ErrorCode, number>> = {
      AccessDenied: 403,
      AuthorizationHeaderMalformed: 400,
      BadDigest: 400,
      BucketAlreadyExists: 409,
      BucketAlreadyOwnedByYou: 409,
      BucketNotEmpty: 409,
      EntityTooLarge: 400,
      EntityTooSmall: 400,
      IncompleteBody: 400,
      InternalError: 500,
      InvalidAccessKeyId: 403,
      InvalidArgument: 400,
      InvalidBucketName: 400,
      InvalidDigest: 400,
      InvalidPart: 400,
      InvalidPartOrder: 400,
      InvalidRange: 416,
      InvalidRequest: 400,
      InvalidURI: 400,
      KeyTooLongError: 400,
      MalformedXML: 400,
      MaxMessageLengthExceeded: 400,
      MetadataTooLarge: 400,
      MethodNotAllowed: 405,
      MissingContentLength: 411,
      MissingRequestBodyError: 400,
      MissingSecurityHeader: 400,
      NoSuchBucket: 404,
      NoSuchBucketPolicy: 404,
      NoSuchKey: 404,
      NoSuchLifecycleConfiguration: 404,
      NoSuchUpload: 404,
      NotImplemented: 501,
      NotModified: 304,
      PreconditionFailed: 412,
      RequestTimeTooSkewed: 403,
      ServiceUnavailable: 503,
      SignatureDoesNotMatch: 403,
      XAmzContentSHA256Mismatch: 400,
    };
    for (const [code, status] of Object.entries(expected) as [S3ErrorCode, number][])
      expect(new S3Error(code).status, code).toBe(status);
  });
});

describe('toS3Error: S3Error passes through', () => {
  it('returns the same instance', () => {
    const e = new S3Error('NoSuchBucket', 'x', { BucketName: 'b' });
    expect(toS3Error(e)).toBe(e);
  });
});

describe('toS3Error: DomainError', () => {
  /** Domain codes that become a different S3 code. */
  const TRANSLATED = {
    KeyNotActive: 'KMS.DisabledException',
    KeyNotFound: 'InvalidArgument',
    IntegrityError: 'InternalError',
  } as const satisfies Partial<Record<DomainCode, S3ErrorCode>>;

  /** Domain codes that are S3 codes and pass through unchanged (NotImplemented may or may not be a DomainCode yet). */
  const PASSTHROUGH = [
    'NoSuchBucket',
    'NoSuchKey',
    'NoSuchVersion',
    'MethodNotAllowed',
    'NoSuchUpload',
    'BucketAlreadyExists',
    'BucketAlreadyOwnedByYou',
    'BucketNotEmpty',
    'InvalidBucketName',
    'KeyTooLongError',
    'InvalidArgument',
    'InvalidRequest',
    'InvalidPart',
    'InvalidPartOrder',
    'EntityTooSmall',
    'EntityTooLarge',
    'BadDigest',
    'InvalidDigest',
    'XAmzContentChecksumMismatch',
    'IncompleteBody',
    'PreconditionFailed',
    'ConditionalRequestConflict',
    'NotModified',
    'InvalidRange',
    'AccessDenied',
    'ServerSideEncryptionConfigurationNotFoundError',
    'NoSuchTagSet',
    'InvalidTag',
    'MalformedXML',
    'ServiceUnavailable',
    'NotImplemented',
    'InvalidBucketState',
    'ObjectLockConfigurationNotFoundError',
    'NoSuchObjectLockConfiguration',
    'KMS.NotFoundException',
    'MalformedPolicy',
    'NoSuchBucketPolicy',
    'NoSuchPublicAccessBlockConfiguration',
  ] as const satisfies readonly S3ErrorCode[];

  // Compile-time: every DomainCode is decided above (npm run typecheck:test fails otherwise).
  type Undecided = Exclude<DomainCode, keyof typeof TRANSLATED | (typeof PASSTHROUGH)[number]>;
  const everyCodeDecided: [Undecided] extends [never] ? true : Undecided = true;

  it('every DomainCode is mapped by this table', () => {
    expect(everyCodeDecided).toBe(true);
  });

  const MAPPING: Array<[string, S3ErrorCode]> = [
    ...Object.entries(TRANSLATED),
    ...PASSTHROUGH.map((c): [string, S3ErrorCode] => [c, c]),
  ];
  for (const [domain, s3] of MAPPING) {
    it(`${domain} -> ${s3} (${ERROR_TABLE[s3][0]})`, () => {
      const e = toS3Error(new DomainError(domain as DomainCode, `message for ${domain}`, { BucketName: 'b' }));
      expect(e.code).toBe(s3);
      expect(e.status).toBe(ERROR_TABLE[s3][0]);
    });
  }

  it('keeps the message and detail fields of a client error', () => {
    const e = toS3Error(new DomainError('NoSuchKey', 'The specified key does not exist.', { Key: 'a/b' }));
    expect(e.message).toBe('The specified key does not exist.');
    expect(e.fields).toEqual({ Key: 'a/b' });
    const r = toS3Error(new DomainError('InvalidRange', 'not satisfiable', { ActualObjectSize: 10 }));
    expect([r.status, r.fields]).toEqual([416, { ActualObjectSize: 10 }]);
  });

  it('KeyNotActive and KeyNotFound keep their message and detail', () => {
    const a = toS3Error(new DomainError('KeyNotActive', 'root key disabled', { BucketName: 'b' }));
    expect([a.code, a.status, a.message, a.fields]).toEqual([
      'KMS.DisabledException',
      403,
      'root key disabled',
      { BucketName: 'b' },
    ]);
    const f = toS3Error(
      new DomainError('KeyNotFound', 'The Key CRN could not be found', {
        ArgumentName: 'ibm-sse-kp-customer-root-key-crn',
      }),
    );
    expect([f.code, f.status, f.fields]).toEqual([
      'InvalidArgument',
      400,
      { ArgumentName: 'ibm-sse-kp-customer-root-key-crn' },
    ]);
  });

  it('IntegrityError is a 500 whose message does not repeat the internal one', () => {
    const e = toS3Error(new DomainError('IntegrityError', 'segment 3 tag mismatch in blob 0123abcd', {}));
    expect(e.status).toBe(500);
    expect(e.message).not.toContain('0123abcd');
    expect(e.message).not.toContain('segment');
  });

  it('IntegrityError does not put internal storage ids (dataId) into the client-visible fields', () => {
    const dataId = '00112233445566778899aabbccddeeff';
    const e = toS3Error(new DomainError('IntegrityError', `stored data is missing (ENOENT)`, { dataId }));
    expect(JSON.stringify(e.fields)).not.toContain(dataId);
  });
});

describe('toS3Error: KmsError by reason', () => {
  const cases: Array<[KmsReason, S3ErrorCode, number]> = [
    ['KEY_ACTION_INVALID_STATE_ERR', 'KMS.DisabledException', 403],
    ['KEY_EXPIRED_ERR', 'KMS.DisabledException', 403],
    ['KEY_DELETED_ERR', 'KMS.KMSInvalidStateException', 403],
    ['KEY_NOT_FOUND_ERR', 'AccessDenied', 403],
    ['UNAUTHORIZED_ERR', 'AccessDenied', 403],
    ['UNPROCESSABLE_CIPHERTEXT_ERR', 'AccessDenied', 403],
    ['KMS_UNAVAILABLE', 'ServiceUnavailable', 503],
  ];
  for (const [reason, code, status] of cases) {
    it(`${reason} -> ${code} ${status}`, () => {
      const e = toS3Error(new KmsError(reason, `kms said ${reason}`));
      expect([e.code, e.status]).toEqual([code, status]);
      expect(e.message).not.toContain('kms said');
    });
  }

  it('the mapping depends on the reason, not on the KMS HTTP status', () => {
    expect(toS3Error(new KmsError('KEY_DELETED_ERR', 'x')).code).toBe('KMS.KMSInvalidStateException');
    expect(toS3Error(new KmsError('KMS_UNAVAILABLE', 'x')).code).toBe('ServiceUnavailable');
  });

  it('any other reason is an InternalError with the generic message', () => {
    for (const reason of ['INTERNAL_ERR', 'BAD_BODY_ERR', 'KEY_ROOT_REQ_ERR', 'PROTECTED_RESOURCE_ERR'] as const) {
      const e = toS3Error(new KmsError(reason, `secret detail ${reason}`));
      expect([e.code, e.status, e.message]).toEqual(['InternalError', 500, GENERIC_INTERNAL]);
      expect(e.fields).toEqual({});
    }
  });
});

describe('toS3Error: SigV4Error', () => {
  const codes: SigV4ErrorCode[] = [
    'AccessDenied',
    'SignatureDoesNotMatch',
    'InvalidAccessKeyId',
    'RequestTimeTooSkewed',
    'AuthorizationHeaderMalformed',
    'AuthorizationQueryParametersError',
    'InvalidRequest',
    'XAmzContentSHA256Mismatch',
    'IncompleteBody',
    'InvalidChunkSizeError',
    'BadDigest',
    'XAmzContentChecksumMismatch',
    'InvalidArgument',
    'MalformedTrailerError',
    'InvalidDigest',
    'MissingContentLength',
  ];
  for (const code of codes) {
    it(`${code} keeps its code, message and the status from the table`, () => {
      const e = toS3Error(new SigV4Error(code, `why ${code}`));
      expect([e.code, e.status, e.message]).toEqual([code, ERROR_TABLE[code as S3ErrorCode][0], `why ${code}`]);
    });
  }

  it('keeps detail as XML fields (Region for s3cmd)', () => {
    const e = toS3Error(new SigV4Error('AuthorizationHeaderMalformed', 'wrong region', { Region: 'eu-de' }));
    expect([e.status, e.fields]).toEqual([400, { Region: 'eu-de' }]);
  });

  it('a code the table does not know becomes AccessDenied (403)', () => {
    const e = toS3Error(new SigV4Error('MissingAuthenticationToken', 'no auth'));
    expect([e.code, e.status]).toEqual(['AccessDenied', 403]);
  });
});

describe('toS3Error: anything else is InternalError with a generic message', () => {
  const secret = '/var/lib/coffer/blobs/ab/cd ENOENT';
  const unknowns: Array<[string, unknown]> = [
    ['Error', new Error(secret)],
    ['TypeError', new TypeError(secret)],
    ['RangeError', new RangeError(secret)],
    ['an errno error', Object.assign(new Error(secret), { code: 'ENOENT', errno: -2 })],
    ['an Error whose code is an S3 code', Object.assign(new Error(secret), { code: 'NoSuchKey' })],
    ['CryptoIntegrityError', new CryptoIntegrityError(secret)],
    ['a string', secret],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['a plain object', { message: secret }],
  ];
  for (const [what, err] of unknowns) {
    it(what, () => {
      const e = toS3Error(err);
      expect([e.code, e.status, e.message]).toEqual(['InternalError', 500, GENERIC_INTERNAL]);
      expect(e.fields).toEqual({});
      expect(JSON.stringify({ m: e.message, f: e.fields, h: e.headers })).not.toContain('coffer');
    });
  }
});

describe('toS3Error: storage', () => {
  it('too few drives for a read or a write is 503 ServiceUnavailable, without the storage detail', () => {
    for (const op of ['read', 'write'] as const) {
      const e = toS3Error(
        new InsufficientShardsError(op, '0123456789abcdef0123456789abcdef', 1, 2, 4, new Map([[0, 'ENOENT']])),
      );
      expect([e.code, e.status]).toEqual(['ServiceUnavailable', 503]);
      expect(e.message).not.toContain('0123456789abcdef');
      expect(e.message).not.toContain('shard');
    }
  });
});

describe('toS3Error: disk faults', () => {
  const cases = [
    ['ENOSPC', 'InsufficientStorage', 507],
    ['EDQUOT', 'InsufficientStorage', 507],
    ['EROFS', 'ServiceUnavailable', 503],
    ['EIO', 'ServiceUnavailable', 503],
    ['EMFILE', 'ServiceUnavailable', 503],
  ] as const;
  for (const [errno, code, status] of cases) {
    it(`${errno} -> ${status} ${code}, a short reason without errno, drive or path`, () => {
      const cause = Object.assign(new Error(`${errno}: x, write '/srv/disk1/tmp/abc'`), {
        code: errno,
        syscall: 'write',
      });
      const e = toS3Error(new DiskFaultError(errno, 'write', 'drive "disk1"', { cause }));
      expect([e.code, e.status]).toEqual([code, status]);
      expect(e.message).not.toMatch(/disk1|\/srv|E[A-Z]{2,}/);
      expect(e.fields).toEqual({});
    });
  }

  it('a write quorum lost only to full drives is 507; with any other failure 503', () => {
    const full = new InsufficientShardsError(
      'write',
      'f'.repeat(32),
      2,
      3,
      4,
      new Map([
        [0, 'ENOSPC'],
        [1, 'EDQUOT'],
      ]),
    );
    expect(toS3Error(full).status).toBe(507);
    const mixed = new InsufficientShardsError(
      'write',
      'f'.repeat(32),
      2,
      3,
      4,
      new Map([
        [0, 'ENOSPC'],
        [1, 'EIO'],
      ]),
    );
    expect(toS3Error(mixed).status).toBe(503);
    const read = new InsufficientShardsError(
      'read',
      'f'.repeat(32),
      1,
      2,
      4,
      new Map([
        [0, 'ENOSPC'],
        [1, 'ENOSPC'],
        [2, 'ENOSPC'],
      ]),
    );
    expect(toS3Error(read).status).toBe(503);
  });
});
