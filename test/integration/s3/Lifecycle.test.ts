/**
 * Bucket lifecycle through @aws-sdk/client-s3 against a real gateway whose
 * lifecycle "day" is one second and whose worker passes every second: the
 * configuration round trip and AWS's validation errors, x-amz-expiration on
 * PUT/GET/HEAD/CompleteMultipartUpload/CopyObject, and the worker expiring current objects (deleted, or a delete
 * marker when versioned), noncurrent versions (NewerNoncurrentVersions kept),
 * expired delete markers and incomplete uploads, while locked versions stay.
 * Outcomes are polled for with a bounded wait, never a fixed sleep.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import {
  bucketName,
  captureHeaders,
  countBlobs,
  createBucket,
  expectSdkError,
  useGateway,
  withHeaders,
  type GatewayUnderTest,
} from '../../helpers/s3Test.js';

let t: GatewayUnderTest;
let s3: S3Client;
useGateway(
  (g) => {
    t = g;
    s3 = g.s3;
  },
  { config: { lifecycleDaySeconds: 1, lifecycleScanSeconds: 1 } },
);

const putRules = (Bucket: string, Rules: LifecycleRule[]) =>
  s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules } }));

async function versionedBucket(prefix: string): Promise<string> {
  const b = await createBucket(s3, prefix);
  await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  return b;
}

const put = async (Bucket: string, Key: string, Body = 'data', extra: Record<string, unknown> = {}) =>
  s3.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));

async function versionsOf(Bucket: string, Prefix?: string) {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix }));
  return { versions: out.Versions ?? [], markers: out.DeleteMarkers ?? [] };
}

/** Poll `check` until it holds (bounded): the worker runs every second, a "day" is one. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const absent = async (Bucket: string, Key: string) =>
  s3.send(new HeadObjectCommand({ Bucket, Key })).then(
    () => false,
    (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 404,
  );

describe('Put/Get/DeleteBucketLifecycleConfiguration', () => {
  it('NoSuchLifecycleConfiguration until set; the rules round-trip; delete removes them', async () => {
    const b = await createBucket(s3, 'lcrt');
    await expectSdkError(
      s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })),
      404,
      'NoSuchLifecycleConfiguration',
    );
    const rules: LifecycleRule[] = [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
      {
        ID: 'tagged',
        Status: 'Disabled',
        Filter: {
          And: {
            Prefix: 'tmp/',
            Tags: [{ Key: 'class', Value: 'scratch' }],
            ObjectSizeGreaterThan: 10,
            ObjectSizeLessThan: 1000,
          },
        },
        Expiration: { Date: new Date('2099-01-01T00:00:00Z') },
      },
      {
        ID: 'history',
        Status: 'Enabled',
        Filter: {},
        NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 3 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
      },
      { ID: 'markers', Status: 'Enabled', Prefix: 'm/', Expiration: { ExpiredObjectDeleteMarker: true } },
    ];
    await putRules(b, rules);
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    expect(got.Rules).toEqual([rules[0], rules[1], { ...rules[2], Filter: {} }, rules[3]]);
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: b }));
    await expectSdkError(
      s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })),
      404,
      'NoSuchLifecycleConfiguration',
    );
    // A bucket that does not exist is NoSuchBucket, for all three.
    const none = bucketName('lcnone');
    await expectSdkError(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: none })), 404, 'NoSuchBucket');
    await expectSdkError(putRules(none, [rules[0]!]), 404, 'NoSuchBucket');
    await expectSdkError(s3.send(new DeleteBucketLifecycleCommand({ Bucket: none })), 404, 'NoSuchBucket');
  });

  it('a rule without an ID gets one; a wrong Content-MD5 is BadDigest', async () => {
    const b = await createBucket(s3, 'lcid');
    await putRules(b, [{ Status: 'Enabled', Filter: { Prefix: 'a' }, Expiration: { Days: 5 } }]);
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    expect(got.Rules?.[0]?.ID).toMatch(/^\S{20,}$/);
    await expectSdkError(
      s3.send(
        withHeaders(
          new PutBucketLifecycleConfigurationCommand({
            Bucket: b,
            LifecycleConfiguration: { Rules: [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 } }] },
          }),
          { 'content-md5': '1B2M2Y8AsgTpgAmY7PhCfg==' },
        ),
      ),
      400,
      'BadDigest',
    );
    // The refused configuration did not replace the stored one.
    const still = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b }));
    expect(still.Rules?.[0]?.Expiration?.Days).toBe(5);
  });

  it('refuses what AWS refuses, with its codes', async () => {
    const b = await createBucket(s3, 'lcbad');
    const ok = { Status: 'Enabled' as const, Filter: {} };
    const cases: Array<[string, LifecycleRule[], number, string]> = [
      [
        'duplicate IDs',
        [
          { ID: 'x', ...ok, Expiration: { Days: 1 } },
          { ID: 'x', ...ok, Expiration: { Days: 2 } },
        ],
        400,
        'InvalidArgument',
      ],
      ['an ID of 256 characters', [{ ID: 'i'.repeat(256), ...ok, Expiration: { Days: 1 } }], 400, 'InvalidArgument'],
      ['Days 0', [{ ID: 'x', ...ok, Expiration: { Days: 0 } }], 400, 'InvalidArgument'],
      [
        'a Date not at midnight',
        [{ ID: 'x', ...ok, Expiration: { Date: new Date('2099-01-01T12:00:00Z') } }],
        400,
        'InvalidArgument',
      ],
      ['no action', [{ ID: 'x', ...ok }], 400, 'InvalidRequest'],
      [
        'a bad Status',
        [{ ID: 'x', Status: 'On' as 'Enabled', Filter: {}, Expiration: { Days: 1 } }],
        400,
        'MalformedXML',
      ],
      [
        'two conditions without And',
        [{ ID: 'x', Status: 'Enabled', Filter: { Prefix: 'a', ObjectSizeLessThan: 5 }, Expiration: { Days: 1 } }],
        400,
        'MalformedXML',
      ],
      [
        'ExpiredObjectDeleteMarker with a tag filter',
        [
          {
            ID: 'x',
            Status: 'Enabled',
            Filter: { Tag: { Key: 'a', Value: 'b' } },
            Expiration: { ExpiredObjectDeleteMarker: true },
          },
        ],
        400,
        'InvalidRequest',
      ],
      [
        'AbortIncompleteMultipartUpload with a tag filter',
        [
          {
            ID: 'x',
            Status: 'Enabled',
            Filter: { Tag: { Key: 'a', Value: 'b' } },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
        400,
        'InvalidRequest',
      ],
      [
        'NoncurrentDays 0',
        [{ ID: 'x', ...ok, NoncurrentVersionExpiration: { NoncurrentDays: 0 } }],
        400,
        'InvalidArgument',
      ],
      [
        'a Transition',
        [{ ID: 'x', ...ok, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] }],
        501,
        'NotImplemented',
      ],
      [
        'a NoncurrentVersionTransition',
        [{ ID: 'x', ...ok, NoncurrentVersionTransitions: [{ NoncurrentDays: 30, StorageClass: 'GLACIER' }] }],
        501,
        'NotImplemented',
      ],
      [
        '1001 rules',
        Array.from({ length: 1001 }, (_, i) => ({ ID: `r${i}`, ...ok, Expiration: { Days: 1 } })),
        400,
        'MalformedXML',
      ],
    ];
    for (const [what, rules, status, code] of cases) {
      const e = await expectSdkError(putRules(b, rules), status, code).catch((err: Error) => {
        throw new Error(`${what}: ${err.message}`);
      });
      expect(e.message, what).not.toBe('');
    }
    await expectSdkError(
      s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: b })),
      404,
      'NoSuchLifecycleConfiguration',
    );
  });
});

/** Days of one second each that still end after 2099 (the dated rules below must be the earlier ones). */
const FAR_DAYS = 10_000_000_000;

describe('x-amz-expiration', () => {
  it('PUT, GET, HEAD, CompleteMultipartUpload and CopyObject of a matching current object announce the earliest rule; others get none', async () => {
    const b = await createBucket(s3, 'lchdr');
    await putRules(b, [
      { ID: 'far', Status: 'Enabled', Filter: { Prefix: 'x/' }, Expiration: { Days: FAR_DAYS } },
      {
        ID: 'dated "rule"',
        Status: 'Enabled',
        Filter: { Prefix: 'x/d' },
        Expiration: { Date: new Date('2099-01-01T00:00:00Z') },
      },
      {
        ID: 'tag',
        Status: 'Enabled',
        Filter: { Tag: { Key: 'gone', Value: 'soon' } },
        Expiration: { Date: new Date('2098-01-01T00:00:00Z') },
      },
    ]);
    const p = captureHeaders(new PutObjectCommand({ Bucket: b, Key: 'x/dated', Body: 'a' }));
    const putOut = await s3.send(p.cmd);
    const want = 'expiry-date="Thu, 01 Jan 2099 00:00:00 GMT", rule-id="dated %22rule%22"';
    expect(putOut.Expiration).toBe(want);
    expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'x/dated' }))).Expiration).toBe(want);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'x/dated' }));
    expect(got.Expiration).toBe(want);
    await got.Body?.transformToByteArray();

    // Days: the creation time plus the days, rounded up to a day boundary (one second here).
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'x/dated' }));
    const created = head.LastModified!.getTime();
    const out = await put(b, 'x/plain');
    const m = /^expiry-date="([^"]+)", rule-id="far"$/.exec(out.Expiration ?? '');
    expect(m, out.Expiration).not.toBeNull();
    const at = Date.parse(m![1]!);
    expect(at).toBeGreaterThanOrEqual(created + FAR_DAYS * 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + FAR_DAYS * 1000 + 1000);

    // A tag rule names an object by its tags.
    const tagged = await put(b, 'y/t', 'a', { Tagging: 'gone=soon' });
    expect(tagged.Expiration).toBe('expiry-date="Wed, 01 Jan 2098 00:00:00 GMT", rule-id="tag"');
    expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'y/t' }))).Expiration).toBe(tagged.Expiration);
    // CompleteMultipartUpload too, judged on the upload's tags.
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'y/mpu', Tagging: 'gone=soon' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'y/mpu', UploadId: up.UploadId, PartNumber: 1, Body: 'p' }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'y/mpu',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(done.Expiration).toBe(tagged.Expiration);
    // CopyObject: the copy's tags (copied from the source here) decide.
    const copied = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'y/copy', CopySource: `${b}/y/t` }));
    expect(copied.Expiration).toBe(tagged.Expiration);
    const untagged = await s3.send(
      new CopyObjectCommand({ Bucket: b, Key: 'y/copy2', CopySource: `${b}/y/t`, TaggingDirective: 'REPLACE' }),
    );
    expect(untagged.Expiration).toBeUndefined();
    // No rule names it: no header.
    const other = captureHeaders(new PutObjectCommand({ Bucket: b, Key: 'z/none', Body: 'a' }));
    await s3.send(other.cmd);
    expect(other.headers()['x-amz-expiration']).toBeUndefined();
  });
});

describe('the lifecycle worker', () => {
  it('expires current objects of a bucket never versioned: gone, their blobs freed, the others kept', async () => {
    const b = await createBucket(s3, 'lcexp');
    const before = await countBlobs(t.gw.dataDir);
    await put(b, 'tmp/a');
    await put(b, 'tmp/big', 'x'.repeat(2048));
    await put(b, 'keep/a');
    await putRules(b, [
      {
        ID: 'tmp',
        Status: 'Enabled',
        Filter: { And: { Prefix: 'tmp/', ObjectSizeLessThan: 1024 } },
        Expiration: { Days: 1 },
      },
    ]);
    await eventually('tmp/a expired', () => absent(b, 'tmp/a'));
    expect(await absent(b, 'tmp/big')).toBe(false);
    expect(await absent(b, 'keep/a')).toBe(false);
    expect((await versionsOf(b)).versions.map((v) => v.Key).sort()).toEqual(['keep/a', 'tmp/big']);
    await eventually('the expired blob deleted', async () => (await countBlobs(t.gw.dataDir)) === before + 2);
  });

  it('versioned: a delete marker goes on the current version; ExpiredObjectDeleteMarker then clears a lone marker', async () => {
    const b = await versionedBucket('lcver');
    const v1 = (await put(b, 'doc')).VersionId!;
    await putRules(b, [
      { ID: 'cur', Status: 'Enabled', Filter: { Prefix: 'doc' }, Expiration: { Days: 1 } },
      { ID: 'eodm', Status: 'Enabled', Filter: { Prefix: 'lone' }, Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    await eventually('a delete marker on doc', async () => (await versionsOf(b, 'doc')).markers.length === 1);
    const { versions, markers } = await versionsOf(b, 'doc');
    expect(markers[0]!.IsLatest).toBe(true);
    expect(versions.map((v) => [v.VersionId, v.IsLatest])).toEqual([[v1, false]]);

    // A marker with its only version removed is an expired delete marker.
    const w1 = (await put(b, 'lone')).VersionId!;
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'lone' }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'lone', VersionId: w1 }));
    expect((await versionsOf(b, 'lone')).markers).toHaveLength(1);
    await eventually('the lone marker removed', async () => (await versionsOf(b, 'lone')).markers.length === 0);
    // The marker on doc still has a version behind it, and no rule for doc asks for markers: it stays.
    expect((await versionsOf(b, 'doc')).markers).toHaveLength(1);
  });

  it('noncurrent versions expire, keeping NewerNoncurrentVersions', async () => {
    const b = await versionedBucket('lcnc');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await put(b, 'k', `v${i}`)).VersionId!);
    await putRules(b, [
      {
        ID: 'nc',
        Status: 'Enabled',
        Filter: {},
        NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 },
      },
    ]);
    await eventually('two oldest versions expired', async () => (await versionsOf(b, 'k')).versions.length === 2);
    expect((await versionsOf(b, 'k')).versions.map((v) => v.VersionId)).toEqual([ids[3], ids[2]]);
    const cur = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    expect(await cur.Body?.transformToString()).toBe('v3');
  });

  it('aborts incomplete multipart uploads once DaysAfterInitiation has passed', async () => {
    const b = await createBucket(s3, 'lcmpu');
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'big/file' }));
    await s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'big/file', UploadId: up.UploadId, PartNumber: 1, Body: 'part' }),
    );
    const kept = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'other/file' }));
    await putRules(b, [
      {
        ID: 'mpu',
        Status: 'Enabled',
        Filter: { Prefix: 'big/' },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ]);
    const uploads = async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? [];
    await eventually('the upload aborted', async () => (await uploads()).length === 1);
    expect((await uploads()).map((u) => u.UploadId)).toEqual([kept.UploadId]);
  });

  it('never removes a locked version', async () => {
    const b = bucketName('lclock');
    await s3.send(new CreateBucketCommand({ Bucket: b, ObjectLockEnabledForBucket: true }));
    const until = new Date(Date.now() + 3600_000);
    const locked = (await put(b, 'a-locked', 'v1', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }))
      .VersionId!;
    await put(b, 'a-locked', 'v2');
    const held = (await put(b, 'b-held', 'v1', { ObjectLockLegalHoldStatus: 'ON' })).VersionId!;
    await put(b, 'b-held', 'v2');
    const free = (await put(b, 'c-free', 'v1')).VersionId!;
    await put(b, 'c-free', 'v2');
    await putRules(b, [
      { ID: 'nc', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
    ]);
    // Keys are handled in order: once c-free's old version is gone, a- and b- were judged in the same pass.
    await eventually('the unlocked noncurrent version expired', async () =>
      (await versionsOf(b, 'c-free')).versions.every((v) => v.VersionId !== free),
    );
    const all = (await versionsOf(b)).versions.map((v) => v.VersionId);
    expect(all).toContain(locked);
    expect(all).toContain(held);
  });
});
