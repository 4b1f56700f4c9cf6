import { describe, expect, it } from 'vitest';
import { requiredPermission, type OperationName, type Permission } from '../../../src/s3/operations.js';

/**
 * The whole authorization table. `satisfies Record<OperationName, Permission>`
 * makes tsc (npm run typecheck:test) fail when an operation is added without
 * deciding its permission here.
 */
const EXPECTED = {
  ListBuckets: 'Authenticated',
  CreateBucket: 'Authenticated',

  HeadBucket: 'Read',
  GetBucketLocation: 'Read',
  ListObjects: 'Read',
  ListObjectsV2: 'Read',
  ListObjectVersions: 'Read',
  ListMultipartUploads: 'Read',
  GetBucketVersioning: 'Read',
  GetObject: 'Read',
  HeadObject: 'Read',
  ListParts: 'Read',
  GetObjectAcl: 'Read',
  GetObjectTagging: 'Read',

  PutObject: 'Write',
  CopyObject: 'Write',
  DeleteObject: 'Write',
  DeleteObjects: 'Write',
  CreateMultipartUpload: 'Write',
  UploadPart: 'Write',
  UploadPartCopy: 'Write',
  CompleteMultipartUpload: 'Write',
  AbortMultipartUpload: 'Write',
  PutObjectAcl: 'Write',
  PutObjectTagging: 'Write',
  DeleteObjectTagging: 'Write',

  DeleteBucket: 'Owner',
  PutBucketVersioning: 'Owner',
  GetBucketAcl: 'Owner',
  PutBucketAcl: 'Owner',
  GetBucketEncryption: 'Owner',
  PutBucketEncryption: 'Owner',
  DeleteBucketEncryption: 'Owner',
  GetBucketPolicy: 'Owner',
  GetBucketCors: 'Owner',
  GetBucketLifecycleConfiguration: 'Owner',
  GetBucketTagging: 'Owner',
  GetBucketWebsite: 'Owner',
} as const satisfies Record<OperationName, Permission>;

const NAMES = Object.keys(EXPECTED) as OperationName[];

describe('requiredPermission', () => {
  it('covers every operation name', () => {
    expect(NAMES).toHaveLength(38);
    for (const name of NAMES) expect(['Authenticated', 'Read', 'Write', 'Owner']).toContain(requiredPermission(name));
  });

  for (const name of NAMES) {
    it(`${name} needs ${EXPECTED[name]}`, () => {
      expect(requiredPermission(name)).toBe(EXPECTED[name]);
    });
  }

  it('every operation that changes data or metadata needs more than Read', () => {
    const mutating = NAMES.filter((n) => /^(Put|Delete|Create|Upload|Complete|Abort|Copy)/.test(n));
    expect(mutating.length).toBeGreaterThan(15);
    for (const n of mutating) expect(requiredPermission(n), n).not.toBe('Read');
  });

  it('bucket configuration (encryption, ACL, policy) is owner-only, even to read', () => {
    for (const n of ['GetBucketEncryption', 'GetBucketAcl', 'GetBucketPolicy', 'PutBucketEncryption', 'DeleteBucketEncryption'] as const) {
      expect(requiredPermission(n)).toBe('Owner');
    }
  });
});
