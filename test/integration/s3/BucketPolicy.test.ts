/**
 * Bucket policies, the public access block and anonymous access through
 * @aws-sdk/client-s3, with two Coffer accounts (the root account owns the
 * buckets, a second IAM account asks) and anonymous requests: unsigned fetch
 * and an SDK client whose signer signs nothing.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, bucketName, expectSdkError, useGateway, type GatewayUnderTest } from '../../helpers/s3Test.js';

let t: GatewayUnderTest;
useGateway((g) => (t = g));

let other: S3Client;
let otherId: string;
let anon: S3Client;
beforeAll(async () => {
  const iam = t.gw.gateway.iam.service;
  const { account } = await iam.createAccount({ name: 'policy-grantee' });
  otherId = account.id;
  other = t.gw.client({ credentials: await iam.createS3AccessKey(account.id) });
  // No signature at all: the request goes out as a browser or curl would send it.
  anon = t.gw.client({ signer: { sign: async (request) => request } });
});

interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal: unknown;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const doc = (...Statement: Statement[]) => JSON.stringify({ Version: '2012-10-17', Statement });

async function putPolicy(b: string, ...statements: Statement[]): Promise<void> {
  await t.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: doc(...statements) }));
}

async function bucketWith(keys: string[], ownership?: 'ObjectWriter'): Promise<string> {
  const b = bucketName('pol');
  await t.s3.send(new CreateBucketCommand({ Bucket: b, ...(ownership ? { ObjectOwnership: ownership } : {}) }));
  for (const k of keys) await t.s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: `body of ${k}` }));
  return b;
}

async function read(c: S3Client, b: string, k: string): Promise<string> {
  return (await bodyBytes(await c.send(new GetObjectCommand({ Bucket: b, Key: k })))).toString();
}

async function unsignedGet(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${t.gw.s3Url}${path}`);
  return { status: res.status, text: await res.text() };
}

function expectAccessDeniedXml(r: { status: number; text: string }): void {
  expect(r.status).toBe(403);
  expect(r.text).toContain('<Code>AccessDenied</Code>');
}

describe('a policy grants another account', () => {
  it('GetObject and ListBucket to an account id: allowed exactly for those actions, until the policy is deleted', async () => {
    const b = await bucketWith(['a.txt']);
    await expectSdkError(read(other, b, 'a.txt'), 403, 'AccessDenied');
    await putPolicy(
      b,
      { Effect: 'Allow', Principal: { AWS: [otherId] }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` },
      { Effect: 'Allow', Principal: { AWS: otherId }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}` },
    );
    expect(await read(other, b, 'a.txt')).toBe('body of a.txt');
    const list = await other.send(new ListObjectsV2Command({ Bucket: b }));
    expect(list.Contents?.map((o) => o.Key)).toEqual(['a.txt']);
    await expectSdkError(other.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x' })), 403, 'AccessDenied');
    await expectSdkError(other.send(new GetBucketPolicyCommand({ Bucket: b })), 403, 'AccessDenied');

    const got = await t.s3.send(new GetBucketPolicyCommand({ Bucket: b }));
    expect(JSON.parse(got.Policy ?? '{}').Statement).toHaveLength(2);
    const status = await t.s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }));
    expect(status.PolicyStatus?.IsPublic).toBe(false);

    await t.s3.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    await expectSdkError(read(other, b, 'a.txt'), 403, 'AccessDenied');
    await expectSdkError(t.s3.send(new GetBucketPolicyCommand({ Bucket: b })), 404, 'NoSuchBucketPolicy');
    await expectSdkError(t.s3.send(new GetBucketPolicyStatusCommand({ Bucket: b })), 404, 'NoSuchBucketPolicy');
  });

  it('PutObject to arn:aws:iam::<account>:root: the other account writes, the bucket owner owns and reads it', async () => {
    const b = await bucketWith([]);
    await putPolicy(b, {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${otherId}:root` },
      Action: ['s3:PutObject'],
      Resource: [`arn:aws:s3:::${b}/uploads/*`],
    });
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'uploads/u1', Body: 'from the other account' }));
    await expectSdkError(
      other.send(new PutObjectCommand({ Bucket: b, Key: 'elsewhere', Body: 'x' })),
      403,
      'AccessDenied',
    );
    expect(await read(t.s3, b, 'uploads/u1')).toBe('from the other account');
  });

  it('an object ACL grant (ObjectWriter) lets the other account read that object and no other', async () => {
    const b = await bucketWith([], 'ObjectWriter');
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'shared', Body: 'shared', GrantRead: `id="${otherId}"` }));
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'mine', Body: 'mine' }));
    expect(await read(other, b, 'shared')).toBe('shared');
    await expectSdkError(read(other, b, 'mine'), 403, 'AccessDenied');
  });

  it("CopyObject reads its source under the source bucket's policy: the other account copies into its own bucket", async () => {
    const b = await bucketWith(['src']);
    const mine = bucketName('pol');
    await other.send(new CreateBucketCommand({ Bucket: mine }));
    const copy = () => other.send(new CopyObjectCommand({ Bucket: mine, Key: 'copied', CopySource: `${b}/src` }));
    await expectSdkError(copy(), 403, 'AccessDenied');
    await putPolicy(b, {
      Effect: 'Allow',
      Principal: { AWS: otherId },
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${b}/src`,
    });
    await copy();
    expect(await read(other, mine, 'copied')).toBe('body of src');
    // The other way round the bucket owner has no access to the other account's bucket.
    await expectSdkError(
      t.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'back', CopySource: `${mine}/copied` })),
      403,
      'AccessDenied',
    );
  });

  it('DeleteObjects is judged per key', async () => {
    const b = await bucketWith(['tmp/a', 'keep/b']);
    await putPolicy(b, {
      Effect: 'Allow',
      Principal: { AWS: otherId },
      Action: 's3:DeleteObject',
      Resource: `arn:aws:s3:::${b}/tmp/*`,
    });
    const res = await other.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'tmp/a' }, { Key: 'keep/b' }] } }),
    );
    expect(res.Deleted?.map((d) => d.Key)).toEqual(['tmp/a']);
    expect(res.Errors?.map((e) => [e.Key, e.Code])).toEqual([['keep/b', 'AccessDenied']]);
    const left = await t.s3.send(new ListObjectsV2Command({ Bucket: b }));
    expect(left.Contents?.map((o) => o.Key)).toEqual(['keep/b']);
  });
});

describe('conditions', () => {
  it('aws:SourceIp: an Allow for another network does not apply; one for the loopback network does', async () => {
    const b = await bucketWith(['k']);
    const allowFrom = (cidr: string): Statement => ({
      Effect: 'Allow',
      Principal: { AWS: otherId },
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${b}/*`,
      Condition: { IpAddress: { 'aws:SourceIp': cidr } },
    });
    await putPolicy(b, allowFrom('10.0.0.0/8'));
    await expectSdkError(read(other, b, 'k'), 403, 'AccessDenied');
    await putPolicy(b, allowFrom('127.0.0.0/8'));
    expect(await read(other, b, 'k')).toBe('body of k');
  });

  it('an explicit Deny by aws:SourceIp wins over the owner; the owner may still delete the policy', async () => {
    const b = await bucketWith(['k']);
    await putPolicy(b, {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${b}/*`,
      Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.1/32', '::1/128'] } },
    });
    await expectSdkError(read(t.s3, b, 'k'), 403, 'AccessDenied');
    await expectSdkError(t.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })), 403);
    await t.s3.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    expect(await read(t.s3, b, 'k')).toBe('body of k');
  });

  it('s3:ExistingObjectTag and s3:RequestObjectTag: reads of tagged objects, writes that carry the tag', async () => {
    const b = await bucketWith([]);
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'shared', Body: 'shared', Tagging: 'share=yes' }));
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'kept', Body: 'kept', Tagging: 'share=no' }));
    await putPolicy(
      b,
      {
        Effect: 'Allow',
        Principal: { AWS: otherId },
        Action: 's3:GetObject',
        Resource: `arn:aws:s3:::${b}/*`,
        Condition: { StringEquals: { 's3:ExistingObjectTag/share': 'yes' } },
      },
      {
        Effect: 'Allow',
        Principal: { AWS: otherId },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${b}/*`,
        Condition: { StringEquals: { 's3:RequestObjectTag/from': 'other' } },
      },
    );
    expect(await read(other, b, 'shared')).toBe('shared');
    await expectSdkError(read(other, b, 'kept'), 403, 'AccessDenied');
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'in', Body: 'x', Tagging: 'from=other' }));
    await expectSdkError(other.send(new PutObjectCommand({ Bucket: b, Key: 'in2', Body: 'x' })), 403, 'AccessDenied');
  });

  it('s3:prefix: the other account may list public/ and nothing else', async () => {
    const b = await bucketWith(['public/1', 'private/2']);
    await putPolicy(b, {
      Effect: 'Allow',
      Principal: { AWS: otherId },
      Action: 's3:ListBucket',
      Resource: `arn:aws:s3:::${b}`,
      Condition: { StringLike: { 's3:prefix': 'public/*' } },
    });
    const ok = await other.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'public/' }));
    expect(ok.Contents?.map((o) => o.Key)).toEqual(['public/1']);
    await expectSdkError(other.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'private/' })), 403, 'AccessDenied');
    await expectSdkError(other.send(new ListObjectsV2Command({ Bucket: b })), 403, 'AccessDenied');
  });

  it('a Deny on PutObject without aws:kms server-side encryption (StringNotEquals) refuses plain writes', async () => {
    const b = await bucketWith([]);
    await putPolicy(b, {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${b}/*`,
      Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
    });
    await expectSdkError(t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' })), 403, 'AccessDenied');
    await expectSdkError(
      t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ServerSideEncryption: 'AES256' })),
      403,
      'AccessDenied',
    );
  });
});

describe('anonymous requests', () => {
  it('are refused (403 S3 XML) where nothing allows them', async () => {
    const b = await bucketWith(['k']);
    expectAccessDeniedXml(await unsignedGet(`/${b}/k`));
    expectAccessDeniedXml(await unsignedGet(`/${b}`));
    expectAccessDeniedXml(await unsignedGet('/'));
    await expectSdkError(read(anon, b, 'k'), 403, 'AccessDenied');
  });

  it('public read through a policy with Principal "*": GET by unsigned fetch and by an unsigned SDK client, nothing else', async () => {
    const b = await bucketWith(['pub/k']);
    await putPolicy(b, {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${b}/pub/*`,
    });
    const r = await unsignedGet(`/${b}/pub/k`);
    expect(r).toEqual({ status: 200, text: 'body of pub/k' });
    expect(await read(anon, b, 'pub/k')).toBe('body of pub/k');
    expectAccessDeniedXml(await unsignedGet(`/${b}`));
    await expectSdkError(anon.send(new PutObjectCommand({ Bucket: b, Key: 'pub/w', Body: 'x' })), 403, 'AccessDenied');
    // Another signed account is "*" too.
    expect(await read(other, b, 'pub/k')).toBe('body of pub/k');
    const status = await t.s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }));
    expect(status.PolicyStatus?.IsPublic).toBe(true);
  });

  it('public read and write through ACLs (AllUsers): list, read, write', async () => {
    const b = bucketName('pol');
    await t.s3.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'ObjectWriter', ACL: 'public-read-write' }));
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'open', Body: 'open', ACL: 'public-read' }));
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'closed', Body: 'closed' }));
    const listed = await anon.send(new ListObjectsV2Command({ Bucket: b }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['closed', 'open']);
    expect(await read(anon, b, 'open')).toBe('open');
    await expectSdkError(read(anon, b, 'closed'), 403, 'AccessDenied');
    await anon.send(new PutObjectCommand({ Bucket: b, Key: 'dropped', Body: 'from nobody' }));
    // The anonymous writer owns what it wrote (ObjectWriter); the bucket owner gets no read by default, as in S3.
    await expectSdkError(read(t.s3, b, 'dropped'), 403, 'AccessDenied');
  });
});

describe('public access block', () => {
  it('Put/Get/DeletePublicAccessBlock; NoSuchPublicAccessBlockConfiguration without one', async () => {
    const b = await bucketWith([]);
    await expectSdkError(
      t.s3.send(new GetPublicAccessBlockCommand({ Bucket: b })),
      404,
      'NoSuchPublicAccessBlockConfiguration',
    );
    await t.s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: b,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      }),
    );
    const got = await t.s3.send(new GetPublicAccessBlockCommand({ Bucket: b }));
    expect(got.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    });
    await expectSdkError(other.send(new GetPublicAccessBlockCommand({ Bucket: b })), 403, 'AccessDenied');
    await t.s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    await expectSdkError(
      t.s3.send(new GetPublicAccessBlockCommand({ Bucket: b })),
      404,
      'NoSuchPublicAccessBlockConfiguration',
    );
  });

  const block = (b: string, cfg: Record<string, boolean>) =>
    t.s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: cfg }));

  it('BlockPublicAcls refuses public ACLs on PutBucketAcl, PutObject and PutObjectAcl; private ones pass', async () => {
    const b = await bucketWith(['k'], 'ObjectWriter');
    await block(b, { BlockPublicAcls: true });
    await expectSdkError(t.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })), 403, 'AccessDenied');
    await expectSdkError(
      t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'p', Body: 'x', ACL: 'public-read' })),
      403,
      'AccessDenied',
    );
    await expectSdkError(
      t.s3.send(
        new PutObjectAclCommand({
          Bucket: b,
          Key: 'k',
          GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
        }),
      ),
      403,
      'AccessDenied',
    );
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'p', Body: 'x', ACL: 'private' }));
    await t.s3.send(new PutBucketAclCommand({ Bucket: b, GrantRead: `id="${otherId}"` }));
  });

  it('IgnorePublicAcls: a public-read object is no longer public', async () => {
    const b = await bucketWith([], 'ObjectWriter');
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'open', Body: 'open', ACL: 'public-read' }));
    expect((await unsignedGet(`/${b}/open`)).status).toBe(200);
    await block(b, { IgnorePublicAcls: true });
    expectAccessDeniedXml(await unsignedGet(`/${b}/open`));
    expect(await read(t.s3, b, 'open')).toBe('open');
  });

  it('BlockPublicPolicy refuses a public policy, not one for an account', async () => {
    const b = await bucketWith([]);
    await block(b, { BlockPublicPolicy: true });
    await expectSdkError(
      putPolicy(b, { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }),
      403,
      'AccessDenied',
    );
    // Pinned to a network, "*" is not public.
    await putPolicy(b, {
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${b}/*`,
      Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } },
    });
    await putPolicy(b, {
      Effect: 'Allow',
      Principal: { AWS: otherId },
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${b}/*`,
    });
  });

  it('RestrictPublicBuckets: with a public policy only the owner gets in', async () => {
    const b = await bucketWith(['k']);
    await putPolicy(
      b,
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` },
      { Effect: 'Allow', Principal: { AWS: otherId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` },
    );
    expect((await unsignedGet(`/${b}/k`)).status).toBe(200);
    expect(await read(other, b, 'k')).toBe('body of k');
    await block(b, { RestrictPublicBuckets: true });
    expectAccessDeniedXml(await unsignedGet(`/${b}/k`));
    await expectSdkError(read(other, b, 'k'), 403, 'AccessDenied');
    expect(await read(t.s3, b, 'k')).toBe('body of k');
  });
});

describe('PutBucketPolicy refuses bad documents with MalformedPolicy', () => {
  it.each([
    [
      'a resource outside the bucket',
      (b: string) =>
        doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}-other/*` }),
      'Policy has invalid resource',
    ],
    ['not JSON', () => '{"Version": ', "Policies must be valid JSON and the first byte must be '{'"],
    [
      'an unknown account',
      (b: string) =>
        doc({
          Effect: 'Allow',
          Principal: { AWS: 'no-such-account' },
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${b}/*`,
        }),
      'Invalid principal in policy',
    ],
    [
      'an unknown action',
      (b: string) => doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObjekt', Resource: `arn:aws:s3:::${b}/*` }),
      'Policy has invalid action',
    ],
    [
      'an object action on the bucket',
      (b: string) => doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}` }),
      'Action does not apply to any resource(s) in statement',
    ],
    [
      'an unknown operator',
      (b: string) =>
        doc({
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${b}/*`,
          Condition: { StringEq: { 's3:prefix': 'a' } },
        }),
      'Invalid Condition type : StringEq',
    ],
    [
      'over 20 KB',
      (b: string) =>
        doc(
          ...Array.from({ length: 200 }, (_, i) => ({
            Sid: `S${i}`,
            Effect: 'Allow' as const,
            Principal: { AWS: otherId },
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${b}/${'x'.repeat(80)}${i}`,
          })),
        ),
      'Policies must be less than 20 KB',
    ],
  ])('%s', async (_label, policy, message) => {
    const b = await bucketWith([]);
    const e = await expectSdkError(
      t.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy(b) })),
      400,
      'MalformedPolicy',
    );
    expect(e.message).toContain(message);
    await expectSdkError(t.s3.send(new GetBucketPolicyCommand({ Bucket: b })), 404, 'NoSuchBucketPolicy');
  });
});
