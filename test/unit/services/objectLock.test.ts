import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BucketRecord } from '../../../src/meta/records.js';
import { DomainError } from '../../../src/services/errors.js';
import {
  checkDeletable,
  checkRetentionChange,
  checkRule,
  lockForNewVersion,
} from '../../../src/services/objectLock.js';
import { openMemoryServices, OWNER, type MemoryServices } from './memoryServices.js';

const NOW = 1_800_000_000_000;
const DAY = 86_400_000;

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
}

const lockBucket = { uid: 'u', name: 'b', objectLock: { enabled: true } } as unknown as BucketRecord;
const plainBucket = { uid: 'u', name: 'b', versioning: 'Enabled' } as unknown as BucketRecord;

describe('Object Lock rules', () => {
  it('a new version takes the request lock, else the default; lock headers on a bucket without lock are 400', () => {
    const withRule = {
      ...lockBucket,
      objectLock: { enabled: true as const, rule: { mode: 'GOVERNANCE' as const, years: 1 } },
    };
    expect(lockForNewVersion(withRule, undefined, NOW)).toEqual({
      retention: { mode: 'GOVERNANCE', retainUntil: NOW + 365 * DAY },
    });
    expect(lockForNewVersion(withRule, { mode: 'COMPLIANCE', retainUntil: NOW + 5, legalHold: false }, NOW)).toEqual({
      retention: { mode: 'COMPLIANCE', retainUntil: NOW + 5 },
      legalHold: false,
    });
    expect(lockForNewVersion(plainBucket, undefined, NOW)).toEqual({});
    expect(codeOf(() => lockForNewVersion(plainBucket, { legalHold: true }, NOW))).toBe('InvalidRequest');
    expect(codeOf(() => lockForNewVersion(lockBucket, { mode: 'GOVERNANCE' }, NOW))).toBe('InvalidArgument');
    expect(codeOf(() => lockForNewVersion(lockBucket, { mode: 'GOVERNANCE', retainUntil: NOW }, NOW))).toBe(
      'InvalidArgument',
    );
  });

  it('deletes: legal hold and COMPLIANCE always refuse, GOVERNANCE only without the bypass, expired never', () => {
    const gov = {
      etag: '',
      checksums: {},
      userMeta: {},
      retention: { mode: 'GOVERNANCE' as const, retainUntil: NOW + 1 },
    };
    const comp = { ...gov, retention: { mode: 'COMPLIANCE' as const, retainUntil: NOW + 1 } };
    expect(codeOf(() => checkDeletable(gov, false, NOW))).toBe('AccessDenied');
    expect(codeOf(() => checkDeletable(gov, true, NOW))).toBeUndefined();
    expect(codeOf(() => checkDeletable(comp, true, NOW))).toBe('AccessDenied');
    expect(codeOf(() => checkDeletable(comp, false, NOW + 1))).toBeUndefined();
    expect(codeOf(() => checkDeletable({ ...gov, retention: undefined, legalHold: true }, true, NOW))).toBe(
      'AccessDenied',
    );
  });

  it('retention changes: COMPLIANCE only extends in its own mode; GOVERNANCE shortens or goes only with the bypass', () => {
    const comp = { mode: 'COMPLIANCE' as const, retainUntil: NOW + 10 };
    const gov = { mode: 'GOVERNANCE' as const, retainUntil: NOW + 10 };
    expect(codeOf(() => checkRetentionChange(comp, { ...comp, retainUntil: NOW + 20 }, false, NOW))).toBeUndefined();
    expect(codeOf(() => checkRetentionChange(comp, { ...comp, retainUntil: NOW + 5 }, true, NOW))).toBe('AccessDenied');
    expect(codeOf(() => checkRetentionChange(comp, { ...gov, retainUntil: NOW + 20 }, true, NOW))).toBe('AccessDenied');
    expect(codeOf(() => checkRetentionChange(comp, undefined, true, NOW))).toBe('AccessDenied');
    expect(codeOf(() => checkRetentionChange(gov, { ...comp, retainUntil: NOW + 10 }, false, NOW))).toBeUndefined();
    expect(codeOf(() => checkRetentionChange(gov, undefined, false, NOW))).toBe('AccessDenied');
    expect(codeOf(() => checkRetentionChange(gov, undefined, true, NOW))).toBeUndefined();
    expect(codeOf(() => checkRetentionChange(undefined, { ...gov, retainUntil: NOW - 1 }, false, NOW))).toBe(
      'InvalidArgument',
    );
  });

  it('default rules: exactly one of Days / Years, a positive integer', () => {
    expect(codeOf(() => checkRule({ mode: 'GOVERNANCE', days: 1 }))).toBeUndefined();
    expect(codeOf(() => checkRule({ mode: 'GOVERNANCE', days: 1, years: 1 }))).toBe('MalformedXML');
    expect(codeOf(() => checkRule({ mode: 'GOVERNANCE' }))).toBe('MalformedXML');
    expect(codeOf(() => checkRule({ mode: 'COMPLIANCE', years: 0 }))).toBe('InvalidArgument');
    expect(codeOf(() => checkRule({ mode: 'COMPLIANCE', days: -3 }))).toBe('InvalidArgument');
  });
});

describe('Object Lock in the memory services', () => {
  let s: MemoryServices;
  beforeEach(async () => {
    s = await openMemoryServices();
  });
  afterEach(async () => {
    await s.close();
  });

  it('a lock bucket is Enabled for good; a locked version stays; its retention is a sealed rewrite in place', async () => {
    const b = (await s.buckets.create({ owner: OWNER, name: 'locked-bucket', objectLock: true })).bucket;
    expect([b.versioning, b.objectLock]).toEqual(['Enabled', { enabled: true }]);
    await expect(s.buckets.setVersioning(b.name, OWNER, 'Suspended')).rejects.toMatchObject({
      code: 'InvalidBucketState',
    });
    const until = Date.now() + DAY;
    const w = await s.put(b, 'k', 'data', { objectLock: { mode: 'GOVERNANCE', retainUntil: until } });
    await expect(s.objects.remove({ bucket: b, key: 'k', versionId: w.version })).rejects.toMatchObject({
      code: 'AccessDenied',
    });
    const t = { bucket: b, key: 'k', versionId: w.version };
    await s.objects.putRetention(t, { mode: 'COMPLIANCE', retainUntil: until + DAY }, false);
    expect((await s.objects.retention(t)).retention).toEqual({ mode: 'COMPLIANCE', retainUntil: until + DAY });
    await expect(
      s.objects.remove({ bucket: b, key: 'k', versionId: w.version, bypassGovernance: true }),
    ).rejects.toMatchObject({
      code: 'AccessDenied',
    });
    await expect(s.buckets.delete(b.name, OWNER)).rejects.toMatchObject({ code: 'BucketNotEmpty' });
  });

  it('PutObjectLockConfiguration: 409 on an unversioned bucket; on a versioned one it turns the lock on', async () => {
    const b = await s.bucket();
    await expect(s.buckets.setObjectLock(b.name, OWNER, undefined)).rejects.toMatchObject({
      code: 'InvalidBucketState',
    });
    await expect(s.buckets.objectLock(b.name, OWNER)).rejects.toMatchObject({
      code: 'ObjectLockConfigurationNotFoundError',
    });
    await s.buckets.setVersioning(b.name, OWNER, 'Enabled');
    await s.buckets.setObjectLock(b.name, OWNER, { mode: 'GOVERNANCE', days: 2 });
    expect(await s.buckets.objectLock(b.name, OWNER)).toEqual({ enabled: true, rule: { mode: 'GOVERNANCE', days: 2 } });
  });
});
