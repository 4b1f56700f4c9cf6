/**
 * Get/PutObjectRetention and Get/PutObjectLegalHold on one version. A change
 * is a sealed rewrite of that version in place (ObjectService.rewriteMeta, as
 * tagging): checked against the version as loaded, and committed under the
 * key's lock only if nobody changed it meanwhile.
 */
import type { BucketRecord, ObjectRetention } from '../meta/records.js';
import { DomainError } from './errors.js';
import { checkRetentionChange, requireBucketLock } from './objectLock.js';
import type { ObjectService } from './objectService.js';
import { shownVersion } from './objectVersions.js';

/** The version a request names: ?versionId=, else the current one. */
export interface LockTarget {
  bucket: BucketRecord;
  key: string;
  versionId?: string;
  requestId?: string;
}

function noLock(key: string): DomainError {
  return new DomainError(
    'NoSuchObjectLockConfiguration',
    'The specified object does not have a ObjectLock configuration',
    {
      Key: key,
    },
  );
}

async function open(objects: ObjectService, t: LockTarget, method: string) {
  requireBucketLock(t.bucket);
  const at = await objects.locate(t.bucket, t.key, t.versionId, method);
  const { dek, meta } = await objects.unseal(t.bucket, t.key, at.record, t.requestId);
  return { at, dek, meta, version: shownVersion(t.bucket, at.record) };
}

export async function retentionOf(objects: ObjectService, t: LockTarget) {
  const { meta, version } = await open(objects, t, 'GET');
  if (!meta.retention) throw noLock(t.key);
  return { retention: meta.retention, version };
}

export async function setRetention(
  objects: ObjectService,
  t: LockTarget,
  retention: ObjectRetention | undefined,
  bypassGovernance: boolean,
): Promise<string | undefined> {
  const { at, dek, meta, version } = await open(objects, t, 'PUT');
  checkRetentionChange(meta.retention, retention, bypassGovernance);
  const { retention: _old, ...rest } = meta;
  await objects.rewriteMeta(t.bucket, t.key, at, dek, retention ? { ...rest, retention } : rest);
  return version;
}

export async function legalHoldOf(objects: ObjectService, t: LockTarget) {
  const { meta, version } = await open(objects, t, 'GET');
  if (meta.legalHold === undefined) throw noLock(t.key);
  return { on: meta.legalHold, version };
}

export async function setLegalHold(objects: ObjectService, t: LockTarget, on: boolean): Promise<string | undefined> {
  const { at, dek, meta, version } = await open(objects, t, 'PUT');
  await objects.rewriteMeta(t.bucket, t.key, at, dek, { ...meta, legalHold: on });
  return version;
}
