import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BucketRecord } from '../../../src/meta/records.js';
import type { VersionListInput } from '../../../src/services/listService.js';
import { openMemoryServices, OWNER, type MemoryServices } from './memoryServices.js';

let s: MemoryServices;
let b: BucketRecord;
/** key -> version ids, newest first, as written below. */
const ids: Record<string, string[]> = {};

beforeEach(async () => {
  s = await openMemoryServices();
  const plain = await s.bucket();
  await s.put(plain, 'a', 'a-null');
  b = await s.buckets.setVersioning(plain.name, OWNER, 'Enabled');
  ids.a = [(await s.put(b, 'a', 'a2')).version!, 'null'];
  const d1 = (await s.put(b, 'd/1', 'x')).version!;
  const dm = (await s.objects.remove({ bucket: b, key: 'd/1' })).version!;
  ids['d/1'] = [dm, d1];
  ids.z = [(await s.put(b, 'z', 'z')).version!];
});
afterEach(async () => {
  await s.close();
});

const page = (over: Partial<VersionListInput> = {}) =>
  s.lists.versions({
    bucket: b,
    prefix: '',
    delimiter: '',
    keyMarker: '',
    versionIdMarker: '',
    maxKeys: 1000,
    ...over,
  });

describe('ListObjectVersions in the services', () => {
  it('keys in order, each key newest first, latest flagged, delete markers as such', async () => {
    const out = await page();
    expect(out.versions.map((v) => [v.key, v.version, v.isLatest, v.deleteMarker])).toEqual([
      ['a', ids.a[0], true, false],
      ['a', 'null', false, false],
      ['d/1', ids['d/1'][0], true, true],
      ['d/1', ids['d/1'][1], false, false],
      ['z', ids.z[0], true, false],
    ]);
    expect(out.versions[0].etag).toMatch(/^[0-9a-f]{32}$/);
    expect(out.versions[2].etag).toBeUndefined();
    expect(out.isTruncated).toBe(false);
  });

  it('pages with key-marker and version-id-marker through every version exactly once', async () => {
    const seen: string[] = [];
    let keyMarker = '';
    let versionIdMarker = '';
    for (let i = 0; i < 10; i++) {
      const out = await page({ maxKeys: 2, keyMarker, versionIdMarker });
      seen.push(...out.versions.map((v) => `${v.key}@${v.version}`));
      if (!out.isTruncated) break;
      keyMarker = out.nextKeyMarker!;
      versionIdMarker = out.nextVersionIdMarker ?? '';
    }
    expect(seen).toEqual([`a@${ids.a[0]}`, 'a@null', `d/1@${ids['d/1'][0]}`, `d/1@${ids['d/1'][1]}`, `z@${ids.z[0]}`]);
  });

  it('a key-marker alone starts after every version of that key; a delimiter rolls keys up', async () => {
    expect((await page({ keyMarker: 'a' })).versions.map((v) => v.key)).toEqual(['d/1', 'd/1', 'z']);
    const out = await page({ delimiter: '/' });
    expect(out.commonPrefixes).toEqual(['d/']);
    expect(out.versions.map((v) => v.key)).toEqual(['a', 'a', 'z']);
    expect((await page({ prefix: 'd/' })).versions).toHaveLength(2);
  });

  it('refuses a version-id-marker without a key-marker, and a malformed one', async () => {
    await expect(page({ versionIdMarker: 'null' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(page({ keyMarker: 'a', versionIdMarker: 'x' })).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it('a bucket never versioned lists its objects as their null versions', async () => {
    const plain = await s.bucket();
    await s.put(plain, 'k', 'v');
    const out = await s.lists.versions({
      bucket: plain,
      prefix: '',
      delimiter: '',
      keyMarker: '',
      versionIdMarker: '',
      maxKeys: 10,
    });
    expect(out.versions.map((v) => [v.key, v.version, v.isLatest])).toEqual([['k', 'null', true]]);
  });
});
