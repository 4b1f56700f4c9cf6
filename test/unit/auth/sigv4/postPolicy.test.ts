import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StaticCredentialStore } from '../../../../src/auth/credentials.js';
import { checkPolicy, decodePolicy, verifyPostSignature } from '../../../../src/auth/sigv4/postPolicy.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const creds = new StaticCredentialStore([
  {
    accessKeyId: 'AKIDPOST',
    secretAccessKey: SECRET,
    principal: { accountId: 'acct', accessKeyId: 'AKIDPOST', displayName: 'p' },
  },
]);
const opts = { region: 'us-east-1', service: 's3' };

/** The signing key and signature computed independently of the code under test. */
function sign(policyB64: string, date = '20261207', secret = SECRET): string {
  const h = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
  const k = h(h(h(h('AWS4' + secret, date), 'us-east-1'), 's3'), 'aws4_request');
  return createHmac('sha256', k).update(policyB64).digest('hex');
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');

function fields(policy: string, extra: Record<string, string> = {}): Map<string, string> {
  return new Map(
    Object.entries({
      key: 'k',
      policy,
      'x-amz-algorithm': 'AWS4-HMAC-SHA256',
      'x-amz-credential': 'AKIDPOST/20261207/us-east-1/s3/aws4_request',
      'x-amz-date': '20261207T120000Z',
      'x-amz-signature': sign(policy),
      ...extra,
    }),
  );
}

describe('verifyPostSignature', () => {
  const policy = b64({ expiration: '2026-12-08T00:00:00Z', conditions: [] });

  it('accepts the HMAC of the base64 policy under the SigV4 signing key', async () => {
    const r = await verifyPostSignature(fields(policy), creds, opts);
    expect(r.principal.accountId).toBe('acct');
  });

  it('refuses a wrong signature, key, scope or a missing field', async () => {
    await expect(
      verifyPostSignature(fields(policy, { 'x-amz-signature': sign(policy, '20261207', 'other') }), creds, opts),
    ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
    await expect(
      verifyPostSignature(
        fields(policy, { 'x-amz-credential': 'NOPE/20261207/us-east-1/s3/aws4_request' }),
        creds,
        opts,
      ),
    ).rejects.toMatchObject({ code: 'InvalidAccessKeyId' });
    await expect(
      verifyPostSignature(
        fields(policy, { 'x-amz-credential': 'AKIDPOST/20261207/eu-west-1/s3/aws4_request' }),
        creds,
        opts,
      ),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(
      verifyPostSignature(fields(policy, { 'x-amz-date': '20261206T120000Z' }), creds, opts),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(
      verifyPostSignature(fields(policy, { 'x-amz-algorithm': 'AWS4-HMAC-SHA1' }), creds, opts),
    ).rejects.toMatchObject({ code: 'InvalidArgument' });
    const f = fields(policy);
    f.delete('x-amz-credential');
    await expect(verifyPostSignature(f, creds, opts)).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: expect.stringContaining("field named 'x-amz-credential'"),
    });
    // The signature covers the policy: a changed policy with the old signature fails.
    const other = b64({ expiration: '2030-01-01T00:00:00Z', conditions: [] });
    await expect(
      verifyPostSignature(fields(other, { 'x-amz-signature': sign(policy) }), creds, opts),
    ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });
});

describe('decodePolicy and checkPolicy', () => {
  const now = new Date('2026-12-07T12:00:00Z');
  const base = [
    { bucket: 'photos' },
    ['starts-with', '$key', 'user/'],
    ['eq', '$x-amz-algorithm', 'AWS4-HMAC-SHA256'],
    ['starts-with', '$x-amz-credential', ''],
    ['starts-with', '$x-amz-date', ''],
  ];
  const form = (extra: Record<string, string> = {}) =>
    new Map(
      Object.entries({
        key: 'user/a.jpg',
        policy: 'p',
        'x-amz-algorithm': 'AWS4-HMAC-SHA256',
        'x-amz-credential': 'c',
        'x-amz-date': 'd',
        'x-amz-signature': 's',
        'x-ignore-me': 'anything',
        ...extra,
      }),
    );
  const policy = (conditions: unknown[], expiration = '2026-12-07T13:00:00.000Z') =>
    decodePolicy(b64({ expiration, conditions }));

  it('passes a form that meets every condition and returns the length range', () => {
    const p = policy([...base, ['content-length-range', 10, 1000], ['starts-with', '$Content-Type', 'image/']]);
    expect(checkPolicy(p, form({ 'content-type': 'image/png, image/jpeg' }), 'photos', now)).toEqual({
      lengthRange: { min: 10, max: 1000 },
    });
  });

  it('refuses an expired policy, a failed condition and extra fields, as AWS words them', () => {
    expect(() => checkPolicy(policy(base, '2026-12-07T11:59:59Z'), form(), 'photos', now)).toThrow(
      'Invalid according to Policy: Policy expired.',
    );
    expect(() => checkPolicy(policy(base), form(), 'other', now)).toThrow(
      'Invalid according to Policy: Policy Condition failed: {"bucket":"photos"}',
    );
    expect(() => checkPolicy(policy(base), form({ key: 'admin/x' }), 'photos', now)).toThrow(
      'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/"]',
    );
    expect(() => checkPolicy(policy(base), form({ 'x-amz-meta-a': '1', acl: 'private' }), 'photos', now)).toThrow(
      'Invalid according to Policy: Extra input fields: x-amz-meta-a, acl',
    );
    const eq = policy([...base, ['eq', '$x-amz-meta-a', '1']]);
    expect(() => checkPolicy(eq, form({ 'x-amz-meta-a': '2' }), 'photos', now)).toThrow(/Condition failed/);
    expect(() => checkPolicy(eq, form(), 'photos', now)).toThrow(/Condition failed/);
    expect(checkPolicy(eq, form({ 'x-amz-meta-a': '1' }), 'photos', now)).toEqual({});
  });

  it('refuses malformed policies with InvalidPolicyDocument', () => {
    const bad = [
      'not base64 !',
      b64([]),
      b64({ conditions: [] }),
      b64({ expiration: 'tomorrow', conditions: [] }),
      b64({ expiration: '2026-12-07T13:00:00Z' }),
      b64({ expiration: '2026-12-07T13:00:00Z', conditions: [['gt', '$key', 'a']] }),
      b64({ expiration: '2026-12-07T13:00:00Z', conditions: [['eq', 'key', 'a']] }),
      b64({ expiration: '2026-12-07T13:00:00Z', conditions: [['content-length-range', 'a', 5]] }),
      b64({ expiration: '2026-12-07T13:00:00Z', conditions: [{ key: 5 }] }),
    ];
    for (const p of bad)
      expect(() => decodePolicy(p), p).toThrow(expect.objectContaining({ code: 'InvalidPolicyDocument' }));
  });
});
