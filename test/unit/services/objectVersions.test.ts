import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BucketRecord } from '../../../src/meta/records.js';
import { DomainError } from '../../../src/services/errors.js';
import { collect, openMemoryServices, OWNER, type MemoryServices } from './memoryServices.js';

let s: MemoryServices;
beforeEach(async () => {
  s = await openMemoryServices();
});
afterEach(async () => {
  await s.close();
});

async function versioned(status: 'Enabled' | 'Suspended' = 'Enabled'): Promise<BucketRecord> {
  const b = await s.bucket();
  return s.buckets.setVersioning(b.name, OWNER, status);
}

async function text(b: BucketRecord, key: string, versionId?: string): Promise<string> {
  const r = await s.objects.read({ bucket: b, key, versionId, conditions: {} }, true);
  return (await collect(r.body)).toString();
}

async function failure(p: Promise<unknown>): Promise<DomainError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(e)}`);
  return e;
}

describe('versioning in the services', () => {
  it('a bucket never versioned keeps no history and answers no version id', async () => {
    const b = await s.bucket();
    const w = await s.put(b, 'k', 'one');
    expect(w.version).toBeUndefined();
    await s.put(b, 'k', 'two');
    expect(s.blobs.size).toBe(1);
    expect(await text(b, 'k', 'null')).toBe('two');
    expect(await s.objects.remove({ bucket: b, key: 'k' })).toEqual({ deleteMarker: false });
    expect(s.blobs.size).toBe(0);
  });

  it('Enabled: each PUT is a new version, all readable by id, the newest current', async () => {
    const b = await versioned();
    const v1 = (await s.put(b, 'k', 'one')).version!;
    const v2 = (await s.put(b, 'k', 'two')).version!;
    expect(v1).toMatch(/^[0-9a-f]{32}$/);
    expect(v2 < v1).toBe(true);
    expect(await text(b, 'k')).toBe('two');
    expect(await text(b, 'k', v1)).toBe('one');
    expect(await text(b, 'k', v2)).toBe('two');
    expect(s.blobs.size).toBe(2);
    expect(
      (await failure(s.objects.read({ bucket: b, key: 'k', versionId: '0'.repeat(32), conditions: {} }, false))).code,
    ).toBe('NoSuchVersion');
    expect(
      (await failure(s.objects.read({ bucket: b, key: 'k', versionId: 'nope', conditions: {} }, false))).code,
    ).toBe('InvalidArgument');
  });

  it('a delete marker hides the object (404 with the marker), by id it is 405; deleting it brings the object back', async () => {
    const b = await versioned();
    const v1 = (await s.put(b, 'k', 'one')).version!;
    const del = await s.objects.remove({ bucket: b, key: 'k' });
    expect(del.deleteMarker).toBe(true);
    const current = await failure(s.objects.read({ bucket: b, key: 'k', conditions: {} }, true));
    expect([current.code, current.deleteMarker?.version]).toEqual(['NoSuchKey', del.version]);
    const byId = await failure(s.objects.read({ bucket: b, key: 'k', versionId: del.version, conditions: {} }, true));
    expect([byId.code, byId.detail.ResourceType]).toEqual(['MethodNotAllowed', 'DeleteMarker']);
    // The data is still there and listed nowhere in a plain listing.
    expect(await text(b, 'k', v1)).toBe('one');
    expect((await s.lists.list({ bucket: b, prefix: '', delimiter: '', after: '', maxKeys: 10 })).objects).toEqual([]);
    expect(await s.objects.remove({ bucket: b, key: 'k', versionId: del.version })).toEqual({
      version: del.version,
      deleteMarker: true,
    });
    expect(await text(b, 'k')).toBe('one');
  });

  it('deleting the current version by id promotes the newest noncurrent one; blobs go with their version', async () => {
    const b = await versioned();
    const v1 = (await s.put(b, 'k', 'one')).version!;
    const v2 = (await s.put(b, 'k', 'two')).version!;
    await s.objects.remove({ bucket: b, key: 'k', versionId: v2 });
    expect(await text(b, 'k')).toBe('one');
    expect(s.blobs.size).toBe(1);
    await s.objects.remove({ bucket: b, key: 'k', versionId: v1 });
    expect((await failure(s.objects.read({ bucket: b, key: 'k', conditions: {} }, false))).code).toBe('NoSuchKey');
    expect(s.blobs.size).toBe(0);
    expect(await s.meta.bucketHasContent(b.uid)).toBe(false);
    // A version that is not there: 204 in S3, nothing to do here.
    expect(await s.objects.remove({ bucket: b, key: 'k', versionId: v1 })).toEqual({
      version: v1,
      deleteMarker: false,
    });
  });

  it('Suspended: PUTs write the null version, replacing it (current or not) and keeping versions with ids', async () => {
    const b0 = await s.bucket();
    await s.put(b0, 'k', 'before');
    let b = await s.buckets.setVersioning(b0.name, OWNER, 'Enabled');
    const v1 = (await s.put(b, 'k', 'v1')).version!;
    expect(await text(b, 'k', 'null')).toBe('before');
    b = await s.buckets.setVersioning(b.name, OWNER, 'Suspended');
    expect((await s.put(b, 'k', 'n1')).version).toBe('null');
    // The old null version (noncurrent) is gone with its blob; v1 stays.
    expect(await text(b, 'k', 'null')).toBe('n1');
    expect(await text(b, 'k', v1)).toBe('v1');
    expect(s.blobs.size).toBe(2);
    await s.put(b, 'k', 'n2');
    expect(s.blobs.size).toBe(2);
    // A delete writes a null delete marker, which replaces the null version.
    expect(await s.objects.remove({ bucket: b, key: 'k' })).toEqual({ version: 'null', deleteMarker: true });
    expect(s.blobs.size).toBe(1);
    expect(await text(b, 'k', v1)).toBe('v1');
  });

  it('tags belong to one version; copy from an old version restores it as a new one', async () => {
    const b = await versioned();
    const v1 = (await s.put(b, 'k', 'one')).version!;
    await s.put(b, 'k', 'two');
    expect(await s.objects.putTagging(b, 'k', { a: '1' }, undefined, v1)).toBe(v1);
    expect((await s.objects.tagging(b, 'k', v1)).tags).toEqual({ a: '1' });
    expect((await s.objects.tagging(b, 'k')).tags).toEqual({});
    const copy = await s.objects.copy({
      source: { copySource: `/${b.name}/k?versionId=${v1}`, owner: OWNER, conditions: {} },
      target: b,
      key: 'k',
      replace: false,
      headers: {},
      userMeta: {},
    });
    expect(copy.sourceVersion).toBe(v1);
    expect(copy.version).not.toBe(v1);
    expect(await text(b, 'k')).toBe('one');
    // Onto its own current version without a change is still refused.
    const self = s.objects.copy({
      source: { copySource: `/${b.name}/k`, owner: OWNER, conditions: {} },
      target: b,
      key: 'k',
      replace: false,
      headers: {},
      userMeta: {},
    });
    expect((await failure(self)).code).toBe('InvalidRequest');
  });

  it('multipart Complete makes a new version; conditional writes see a delete marker as no object', async () => {
    const b = await versioned();
    const v1 = (await s.put(b, 'k', 'one')).version!;
    await s.objects.remove({ bucket: b, key: 'k' });
    // If-None-Match: * succeeds over a delete marker, If-Match fails as on a missing key.
    const w = await s.put(b, 'k', 'two', { conditions: { ifNoneMatch: '*' } });
    expect((await failure(s.put(b, 'k', 'x', { conditions: { ifMatch: '"abc"' } }))).code).toBe('PreconditionFailed');
    const uploadId = await s.multipart.create(b, 'k', {}, {}, {});
    const part = await s.multipart.uploadPart(b, 'k', uploadId, 1, Readable.from([Buffer.from('mp')]), {});
    const done = await s.multipart.complete(b, 'k', uploadId, [{ partNumber: 1, etag: part.etag }]);
    expect(done.version).toMatch(/^[0-9a-f]{32}$/);
    expect(await text(b, 'k')).toBe('mp');
    expect(await text(b, 'k', w.version)).toBe('two');
    expect(await text(b, 'k', v1)).toBe('one');
    // The bucket holds versions: it cannot be deleted.
    expect((await failure(s.buckets.delete(b.name, OWNER))).code).toBe('BucketNotEmpty');
  });

  it('the garbage sweep keeps the blobs of noncurrent versions', async () => {
    const b = await versioned();
    await s.put(b, 'k', 'one');
    await s.put(b, 'k', 'two');
    const ids: string[] = [];
    for await (const id of s.meta.referencedDataIds()) ids.push(id);
    expect(ids).toHaveLength(2);
  });

  it('the version id is bound into the seal: a version stored under another id does not open', async () => {
    const b = await versioned();
    const v1 = (await s.put(b, 'k', 'one')).version!;
    const v2 = (await s.put(b, 'k', 'two')).version!;
    const old = (await s.meta.getVersion(b.uid, 'k', v1))!;
    // Claim v1's record is some other version, stored under that id in the history.
    const forged = '0'.repeat(31) + '1';
    await s.meta
      .batch()
      .putVersion(forged, { ...old, version: forged })
      .commit();
    expect(
      (await failure(s.objects.read({ bucket: b, key: 'k', versionId: forged, conditions: {} }, false))).code,
    ).toBe('IntegrityError');
    // And the current record with its version edited to v1's.
    const cur = (await s.meta.getObject(b.uid, 'k'))!;
    await s.meta
      .batch()
      .putObject({ ...cur, version: v1 })
      .deleteVersion(b.uid, 'k', v1)
      .commit();
    expect((await failure(s.objects.read({ bucket: b, key: 'k', conditions: {} }, false))).code).toBe('IntegrityError');
    expect(v2).not.toBe(v1);
  });
});
