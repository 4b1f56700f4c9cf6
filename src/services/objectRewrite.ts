/**
 * A rewrite of one version's sealed metadata, in place: the version keeps its
 * S3 id and its place, current or noncurrent (tagging; a copy onto itself in a
 * bucket never versioned). Streams are kept and sealed again, in format 2,
 * whatever format the record had; the record gets a new own id, which is what
 * the check under the key's lock compares, so a concurrent change is not lost.
 */
import { randomBytes } from 'node:crypto';
import type { MetaStore } from '../meta/MetaStore.js';
import type { BucketRecord, ObjectRecord, SealedMeta, StandardHeaders } from '../meta/records.js';
import type { KeyedMutex } from '../util/keyedMutex.js';
import { DomainError } from './errors.js';
import { reread, stageRewrite, versionOf, type Located } from './objectVersions.js';
import { addressOf, sealObject } from './sealedMeta.js';
import { newId } from './streamIO.js';

export interface Rewrite {
  bucket: BucketRecord;
  /** The name the record was opened under. */
  key: string;
  at: Located;
  dek: Buffer;
  meta: SealedMeta;
  /** New clear headers (a copy with REPLACE): lastModified moves too. */
  headers?: StandardHeaders;
}

export async function rewriteRecord(locks: KeyedMutex, store: MetaStore, w: Rewrite): Promise<ObjectRecord> {
  const { bucket, key, at, headers } = w;
  const rec = at.record;
  const { metaSalt: _salt, sealed: _sealed, sealFormat: _format, ...clear } = rec;
  const next = sealObject(
    w.dek,
    addressOf(bucket, key, versionOf(rec)),
    {
      ...clear,
      key,
      versionId: newId(),
      headers: headers ?? rec.headers,
      lastModified: headers ? Date.now() : rec.lastModified,
    },
    w.meta,
    randomBytes(32),
  );
  await locks.run(`${bucket.uid}/${key}`, async () => {
    const cur = await reread(store, bucket, key, at);
    if (!cur || cur.versionId !== rec.versionId)
      throw new DomainError('PreconditionFailed', 'The object changed during the request; retry.');
    const batch = store.batch();
    stageRewrite(bucket, at, next, batch);
    await batch.commit();
  });
  return next;
}
