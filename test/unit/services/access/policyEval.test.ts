import { describe, expect, it } from 'vitest';
import { evaluateBucketPolicy, resourceArn } from '../../../../src/services/access/policyEval.js';
import type { AccessRequest } from '../../../../src/services/access/types.js';

const B = 'bkt';
const ALICE = 'acct-alice';
const BOB = 'acct-bob';

const request = (over: Partial<AccessRequest> = {}): AccessRequest => ({
  principal: { accountId: ALICE },
  action: 's3:GetObject',
  bucket: B,
  key: 'docs/a.txt',
  conditions: { 'aws:SourceIp': ['192.0.2.10'] },
  ...over,
});
const policy = (...Statement: Record<string, unknown>[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const allow = (over: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Principal: { AWS: ALICE },
  Action: 's3:GetObject',
  Resource: `arn:aws:s3:::${B}/*`,
  ...over,
});
const deny = (over: Record<string, unknown> = {}) => ({ ...allow(over), Effect: 'Deny', ...over });

describe('evaluateBucketPolicy', () => {
  it('no policy is None; a matching Allow is Allow; a non-matching one None', () => {
    expect(evaluateBucketPolicy(undefined, request())).toBe('None');
    expect(evaluateBucketPolicy(policy(allow()), request())).toBe('Allow');
    expect(evaluateBucketPolicy(policy(allow()), request({ principal: { accountId: BOB } }))).toBe('None');
    expect(evaluateBucketPolicy(policy(allow()), request({ action: 's3:PutObject' }))).toBe('None');
  });

  it('an explicit Deny wins over an Allow, whatever the order', () => {
    expect(evaluateBucketPolicy(policy(allow(), deny()), request())).toBe('Deny');
    expect(evaluateBucketPolicy(policy(deny(), allow()), request())).toBe('Deny');
  });

  it('Principal "*" includes anonymous requests; an account principal does not', () => {
    expect(evaluateBucketPolicy(policy(allow({ Principal: '*' })), request({ principal: null }))).toBe('Allow');
    expect(evaluateBucketPolicy(policy(allow({ Principal: { AWS: '*' } })), request({ principal: null }))).toBe(
      'Allow',
    );
    expect(evaluateBucketPolicy(policy(allow()), request({ principal: null }))).toBe('None');
    const root = allow({ Principal: { AWS: `arn:aws:iam::${ALICE}:root` } });
    expect(evaluateBucketPolicy(policy(root), request())).toBe('Allow');
  });

  it('NotPrincipal: everyone but the named accounts', () => {
    const st = { Effect: 'Deny', NotPrincipal: { AWS: ALICE }, Action: 's3:*', Resource: `arn:aws:s3:::${B}/*` };
    expect(evaluateBucketPolicy(policy(st), request())).toBe('None');
    expect(evaluateBucketPolicy(policy(st), request({ principal: { accountId: BOB } }))).toBe('Deny');
  });

  it('action wildcards, case-insensitive; NotAction', () => {
    expect(evaluateBucketPolicy(policy(allow({ Action: 's3:Get*' })), request())).toBe('Allow');
    expect(evaluateBucketPolicy(policy(allow({ Action: 'S3:getobject' })), request())).toBe('Allow');
    expect(evaluateBucketPolicy(policy(allow({ Action: '*' })), request())).toBe('Allow');
    expect(evaluateBucketPolicy(policy(allow({ Action: 's3:Get?bject' })), request())).toBe('Allow');
    const notAction = allow({ Action: undefined, NotAction: 's3:Delete*' });
    expect(evaluateBucketPolicy(policy(notAction), request())).toBe('Allow');
    expect(evaluateBucketPolicy(policy(notAction), request({ action: 's3:DeleteObject' }))).toBe('None');
  });

  it('resource wildcards, case-sensitive; the bucket ARN for bucket actions; NotResource', () => {
    expect(evaluateBucketPolicy(policy(allow({ Resource: `arn:aws:s3:::${B}/docs/*` })), request())).toBe('Allow');
    expect(evaluateBucketPolicy(policy(allow({ Resource: `arn:aws:s3:::${B}/Docs/*` })), request())).toBe('None');
    expect(evaluateBucketPolicy(policy(allow({ Resource: `arn:aws:s3:::${B}/docs/?.txt` })), request())).toBe('Allow');
    const list = allow({ Action: 's3:ListBucket', Resource: `arn:aws:s3:::${B}` });
    expect(evaluateBucketPolicy(policy(list), request({ action: 's3:ListBucket', key: undefined }))).toBe('Allow');
    expect(evaluateBucketPolicy(policy(list), request({ action: 's3:ListBucket' }))).toBe('None');
    const notResource = allow({ Resource: undefined, NotResource: `arn:aws:s3:::${B}/secret/*` });
    expect(evaluateBucketPolicy(policy(notResource), request())).toBe('Allow');
    expect(evaluateBucketPolicy(policy(notResource), request({ key: 'secret/x' }))).toBe('None');
    expect(resourceArn(B)).toBe('arn:aws:s3:::bkt');
  });

  it('every condition clause must hold', () => {
    const cond = allow({
      Condition: {
        IpAddress: { 'aws:SourceIp': '192.0.2.0/24' },
        StringEquals: { 's3:ExistingObjectTag/class': 'public' },
      },
    });
    const tagged = { 'aws:SourceIp': ['192.0.2.10'], 's3:ExistingObjectTag/class': ['public'] };
    expect(evaluateBucketPolicy(policy(cond), request({ conditions: tagged }))).toBe('Allow');
    expect(evaluateBucketPolicy(policy(cond), request())).toBe('None');
    expect(
      evaluateBucketPolicy(policy(cond), request({ conditions: { ...tagged, 'aws:SourceIp': ['198.51.100.1'] } })),
    ).toBe('None');
  });

  it('the condition keys a request carries: s3:prefix, s3:max-keys, SSE headers, aws:SecureTransport, aws:PrincipalAccount, aws:CurrentTime, request tags, x-amz-acl', () => {
    const req = (conditions: Record<string, string[]>, action = 's3:ListBucket') =>
      request({ action, key: action === 's3:ListBucket' ? undefined : 'k', conditions });
    const list = (Condition: unknown) =>
      policy(allow({ Action: 's3:ListBucket', Resource: `arn:aws:s3:::${B}`, Condition }));
    const put = (Condition: unknown) => policy(allow({ Action: 's3:PutObject', Condition }));
    expect(evaluateBucketPolicy(list({ StringEquals: { 's3:prefix': 'a/' } }), req({ 's3:prefix': ['a/'] }))).toBe(
      'Allow',
    );
    expect(evaluateBucketPolicy(list({ StringEquals: { 's3:delimiter': '/' } }), req({}))).toBe('None');
    expect(
      evaluateBucketPolicy(list({ NumericLessThanEquals: { 's3:max-keys': '10' } }), req({ 's3:max-keys': ['11'] })),
    ).toBe('None');
    const sse = put({
      StringEquals: {
        's3:x-amz-server-side-encryption': 'aws:kms',
        's3:x-amz-server-side-encryption-aws-kms-key-id': 'k1',
      },
    });
    expect(
      evaluateBucketPolicy(
        sse,
        req(
          { 's3:x-amz-server-side-encryption': ['aws:kms'], 's3:x-amz-server-side-encryption-aws-kms-key-id': ['k1'] },
          's3:PutObject',
        ),
      ),
    ).toBe('Allow');
    expect(evaluateBucketPolicy(sse, req({ 's3:x-amz-server-side-encryption': ['aws:kms'] }, 's3:PutObject'))).toBe(
      'None',
    );
    expect(
      evaluateBucketPolicy(
        put({ Bool: { 'aws:SecureTransport': 'true' } }),
        req({ 'aws:SecureTransport': ['false'] }, 's3:PutObject'),
      ),
    ).toBe('None');
    expect(
      evaluateBucketPolicy(
        put({ StringEquals: { 'aws:PrincipalAccount': ALICE } }),
        req({ 'aws:PrincipalAccount': [ALICE] }, 's3:PutObject'),
      ),
    ).toBe('Allow');
    expect(
      evaluateBucketPolicy(
        put({ DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }),
        req({ 'aws:CurrentTime': ['2026-12-08T01:00:00Z'] }, 's3:PutObject'),
      ),
    ).toBe('Allow');
    expect(
      evaluateBucketPolicy(
        put({ StringEquals: { 's3:RequestObjectTag/team': 'x' } }),
        req({ 's3:RequestObjectTag/team': ['y'] }, 's3:PutObject'),
      ),
    ).toBe('None');
    expect(
      evaluateBucketPolicy(
        put({ StringNotEquals: { 's3:x-amz-acl': 'public-read' } }),
        req({ 's3:x-amz-acl': ['private'] }, 's3:PutObject'),
      ),
    ).toBe('Allow');
  });
});
