/**
 * DeleteObject (ObjectService.remove). Without a version id: in a bucket never
 * versioned the object goes, as it always did; in a versioned bucket a delete
 * marker becomes the current version (with an id when Enabled, the null one
 * when Suspended, which replaces the null version). With a version id: that
 * version goes for good, and if it was current the newest noncurrent version
 * takes its place. A version that does not exist is not an error (S3's 204).
 */
import type { MetaStore } from '../meta/MetaStore.js';
import type { BucketRecord, ObjectRecord } from '../meta/records.js';
import { checkWriteConditions } from './conditions.js';
import type { ObjectService } from './objectService.js';
import { validateKey } from './objectKeys.js';
import { findVersion, stageCurrent, stageRemoval, versionOf, type Located } from './objectVersions.js';
import { newId } from './streamIO.js';
import { checkVersionId } from './versionIds.js';
import { checkDeletable } from './objectLock.js';

export interface DeleteInput {
  bucket: BucketRecord;
  key: string;
  /** ?versionId= / DeleteObjects' VersionId: remove this version for good. */
  versionId?: string;
  /** If-Match: checked under the key's lock against what would be deleted. */
  ifMatch?: string;
  /** x-amz-bypass-governance-retention: true (the owner holds s3:BypassGovernanceRetention). */
  bypassGovernance?: boolean;
  /**
   * The lifecycle worker: act only if the version found under the key's lock is
   * still this record (its record id), so a version written since the worker
   * looked is never the one expired. Otherwise nothing happens (`skipped`).
   */
  onlyRecord?: string;
  requestId?: string;
}

export interface DeleteResult {
  /** x-amz-version-id: the version removed, or the delete marker made; absent in a bucket never versioned. */
  version?: string;
  /** x-amz-delete-marker: a marker was made, or the version removed was one. */
  deleteMarker: boolean;
  /** onlyRecord did not match: nothing was changed. */
  skipped?: boolean;
}

function deleteMarker(objects: ObjectService, b: BucketRecord, key: string): ObjectRecord {
  const version = objects.versionForNew(b);
  return {
    bucketUid: b.uid,
    key,
    versionId: newId(),
    ...(version !== undefined ? { version } : {}),
    deleteMarker: true,
    size: 0,
    lastModified: Date.now(),
    headers: {},
    metaSalt: '',
    sealed: '',
    dekGeneration: b.encryption.dekGeneration,
  };
}

export async function removeObject(objects: ObjectService, meta: MetaStore, input: DeleteInput): Promise<DeleteResult> {
  const { bucket: b, key, ifMatch, requestId } = input;
  validateKey(key);
  if (input.versionId !== undefined) checkVersionId(input.versionId);
  /** What If-Match compares against: the object's ETag, none for a delete marker or nothing. */
  const check = async (rec: ObjectRecord | undefined) => {
    if (ifMatch === undefined) return;
    const live = rec && !rec.deleteMarker ? rec : undefined;
    checkWriteConditions({ ifMatch }, live && (await objects.unseal(b, key, live, requestId)).meta.etag, false);
  };
  const { gone, result } = await objects.locks.run(`${b.uid}/${key}`, async () => {
    const batch = meta.batch();
    if (input.versionId !== undefined) {
      const at: Located | undefined = await findVersion(meta, b, key, input.versionId);
      await check(at?.record);
      if (!at) return { gone: [], result: { version: input.versionId, deleteMarker: false } };
      if (input.onlyRecord !== undefined && at.record.versionId !== input.onlyRecord)
        return { gone: [], result: { version: input.versionId, deleteMarker: false, skipped: true } };
      // Object Lock: checked on the version as read under the key's lock (a delete marker holds no lock).
      if (b.objectLock && !at.record.deleteMarker)
        checkDeletable((await objects.unseal(b, key, at.record, requestId)).meta, !!input.bypassGovernance);
      await stageRemoval(meta, b, key, at, batch);
      await batch.commit();
      return { gone: [at.record], result: { version: input.versionId, deleteMarker: !!at.record.deleteMarker } };
    }
    const prev = await meta.getObject(b.uid, key);
    await check(prev);
    if (input.onlyRecord !== undefined && prev?.versionId !== input.onlyRecord)
      return { gone: [], result: { deleteMarker: false, skipped: true } };
    if (b.versioning === undefined) {
      if (prev) await batch.deleteObject(b.uid, key).commit();
      return { gone: prev ? [prev] : [], result: { deleteMarker: false } };
    }
    const marker = deleteMarker(objects, b, key);
    const replaced = await stageCurrent(meta, b, marker, prev, batch);
    await batch.commit();
    return { gone: replaced, result: { version: versionOf(marker), deleteMarker: true } };
  });
  for (const old of gone) await objects.deleteBlobsNotIn(old);
  return result;
}
