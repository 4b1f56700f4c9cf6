/** BucketService's CORS rules: kept on the record, owner-only writes, an unauthenticated read of the rules alone. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CorsRule } from '../../../src/services/types.js';
import { openMemoryServices, OWNER, type MemoryServices } from './memoryServices.js';

const rules: CorsRule[] = [{ allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] }];

describe('BucketService CORS rules', () => {
  let s: MemoryServices;
  beforeEach(async () => {
    s = await openMemoryServices();
  });
  afterEach(async () => {
    await s.close();
  });

  it('setCors stores and removes the rules and leaves the rest of the record alone', async () => {
    const before = await s.bucket('site');
    expect(await s.buckets.corsRules('site')).toEqual({ exists: true, rules: undefined });
    await s.buckets.setCors('site', OWNER, rules);
    expect(await s.buckets.corsRules('site')).toEqual({ exists: true, rules });
    expect(await s.meta.getBucket('site')).toEqual({ ...before, cors: rules });
    await s.buckets.setCors('site', OWNER, undefined);
    expect(await s.meta.getBucket('site')).toEqual(before);
  });

  it('only the owner may set them; a missing bucket has none', async () => {
    await s.bucket('site');
    await expect(s.buckets.setCors('site', 'acct-other', rules)).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(s.buckets.setCors('absent', OWNER, rules)).rejects.toMatchObject({ code: 'NoSuchBucket' });
    expect(await s.buckets.corsRules('absent')).toEqual({ exists: false });
  });

  it('a root-key change after setCors keeps the rules', async () => {
    await s.bucket('site');
    await s.buckets.setCors('site', OWNER, rules);
    const crn = (await s.kms.service.createKey(s.kms.instanceId, { name: 'site-key' })).crn;
    const moved = await s.buckets.setRootKey('site', OWNER, crn);
    expect(moved.encryption.rootKeyCrn).toBe(crn);
    expect((await s.buckets.corsRules('site')).rules).toEqual(rules);
  });
});
