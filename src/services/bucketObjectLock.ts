/**
 * A bucket's Object Lock and its registration on the root key. A bucket with
 * Object Lock registers with preventKeyDeletion (Key Protect's WORM
 * registration): its key cannot be deleted, not even with force, while the
 * bucket exists; and the bucket cannot be deleted while it holds any version,
 * locked ones included.
 */
import type { BucketObjectLock, BucketRecord } from '../meta/records.js';
import type { BucketServiceDeps } from './bucketService.js';
import { DomainError } from './errors.js';

/** The preventKeyDeletion part of a bucket's registration request. */
export function lockFlag(b: { objectLock?: BucketObjectLock }): { preventKeyDeletion?: true } {
  return b.objectLock ? { preventKeyDeletion: true } : {};
}

/**
 * PutObjectLockConfiguration on `b` (read fresh under the bucket's lock). On a
 * bucket created without Object Lock it may be turned on while versioning is
 * Enabled (AWS allows it since 2023), else 409 InvalidBucketState; turning it
 * on first updates the registration to preventKeyDeletion, then commits.
 * `rule` undefined keeps the lock and drops the default retention.
 */
export async function applyObjectLock(
  d: BucketServiceDeps,
  b: BucketRecord,
  rule: BucketObjectLock['rule'],
  requestId?: string,
): Promise<BucketRecord> {
  if (!b.objectLock) {
    if (b.versioning !== 'Enabled')
      throw new DomainError(
        'InvalidBucketState',
        "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
        { BucketName: b.name },
      );
    await d.keys.register({ tenant: b.owner, requestId }, b.encryption.rootKeyCrn, {
      resourceCrn: d.bucketCrn(b.owner, b.name),
      description: `Coffer bucket ${b.name}`,
      keyVersion: b.encryption.keyVersion,
      preventKeyDeletion: true,
    });
  }
  const updated: BucketRecord = { ...b, objectLock: { enabled: true, ...(rule ? { rule } : {}) } };
  await d.meta.batch().putBucket(updated).commit();
  return updated;
}

export function requireObjectLockConfig(b: BucketRecord): BucketObjectLock {
  if (!b.objectLock)
    throw new DomainError(
      'ObjectLockConfigurationNotFoundError',
      'Object Lock configuration does not exist for this bucket',
      {
        BucketName: b.name,
      },
    );
  return b.objectLock;
}
