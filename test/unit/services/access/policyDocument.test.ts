import { describe, expect, it } from 'vitest';
import { MAX_POLICY_BYTES, parsePolicy, policyPrincipals } from '../../../../src/services/access/policyDocument.js';
import { DomainError } from '../../../../src/services/errors.js';

const B = 'my-bucket';
const ok = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${B}/*` };
const policy = (statement: unknown, top: Record<string, unknown> = {}) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statement, ...top });

function malformed(text: string): string {
  try {
    parsePolicy(text, B);
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).code).toBe('MalformedPolicy');
    return (e as DomainError).message;
  }
  throw new Error('accepted');
}

describe('parsePolicy accepts', () => {
  it('a single statement object as a list of one, with defaults', () => {
    const p = parsePolicy(policy(ok), B);
    expect(p.statements).toEqual([
      { effect: 'Allow', principal: '*', action: ['s3:GetObject'], resource: [`arn:aws:s3:::${B}/*`], conditions: [] },
    ]);
  });

  it('principals as account ids, root ARNs, CanonicalUser and {"AWS": "*"}', () => {
    const p = parsePolicy(
      policy([
        { ...ok, Principal: { AWS: ['acct-1', 'arn:aws:iam::acct-2:root'] } },
        { ...ok, Principal: { CanonicalUser: 'acct-3' } },
        { ...ok, Principal: { AWS: '*' } },
      ]),
      B,
    );
    expect(p.statements.map((s) => s.principal)).toEqual([
      { accounts: ['acct-1', 'acct-2'] },
      { accounts: ['acct-3'] },
      '*',
    ]);
    expect(policyPrincipals(p)).toEqual(['acct-1', 'acct-2', 'acct-3']);
  });

  it('NotAction, NotResource, wildcards in actions and in the bucket part of a resource, conditions', () => {
    const p = parsePolicy(
      policy({
        Sid: 'Deny all but reads',
        Effect: 'Deny',
        Principal: '*',
        NotAction: ['s3:Get*', 's3:List?ucket'],
        NotResource: [`arn:aws:s3:::my-*`, `arn:aws:s3:::${B}/public/*`],
        Condition: {
          'ForAnyValue:StringLike': { 's3:RequestObjectTag/team': ['a*', 'b'] },
          Bool: { 'aws:SecureTransport': false },
        },
      }),
      B,
    );
    const s = p.statements[0]!;
    expect(s.notAction).toEqual(['s3:Get*', 's3:List?ucket']);
    expect(s.conditions).toEqual([
      { operator: 'ForAnyValue:StringLike', key: 's3:RequestObjectTag/team', values: ['a*', 'b'] },
      { operator: 'Bool', key: 'aws:SecureTransport', values: ['false'] },
    ]);
  });

  it('the 2008-10-17 version, and none (read as 2008-10-17)', () => {
    expect(parsePolicy(policy(ok, { Version: '2008-10-17' }), B).version).toBe('2008-10-17');
    expect(parsePolicy(JSON.stringify({ Statement: [ok] }), B).version).toBe('2008-10-17');
  });
});

describe('parsePolicy refuses with S3 messages', () => {
  it.each([
    ['not JSON', '{', "Policies must be valid JSON and the first byte must be '{'"],
    ['a JSON array', '[]', "Policies must be valid JSON and the first byte must be '{'"],
    ['a bad version', policy(ok, { Version: '2020-01-01' }), 'The policy must contain a valid version string'],
    ['an unknown top-level field', policy(ok, { Extra: 1 }), 'Unknown field Extra'],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), 'Missing required field Statement'],
    ['an empty Statement', policy([]), 'Statement is empty'],
    ['no Effect', policy({ ...ok, Effect: undefined }), 'Missing required field Effect'],
    ['a bad Effect', policy({ ...ok, Effect: 'Permit' }), 'Invalid effect: Permit'],
    ['no Principal', policy({ ...ok, Principal: undefined }), 'Missing required field Principal'],
    [
      'a Service principal',
      policy({ ...ok, Principal: { Service: 's3.amazonaws.com' } }),
      'Invalid principal in policy',
    ],
    ['a user ARN', policy({ ...ok, Principal: { AWS: 'arn:aws:iam::123:user/bob' } }), 'Invalid principal in policy'],
    ['no Action', policy({ ...ok, Action: undefined }), 'Missing required field Action'],
    ['Action and NotAction', policy({ ...ok, NotAction: 's3:PutObject' }), 'one of Action or NotAction'],
    ['a non-S3 action', policy({ ...ok, Action: 'iam:CreateUser' }), 'Policy has invalid action'],
    ['an unknown S3 action', policy({ ...ok, Action: 's3:GetObjekt' }), 'Policy has invalid action'],
    ['no Resource', policy({ ...ok, Resource: undefined }), 'Missing required field Resource'],
    ['another bucket', policy({ ...ok, Resource: 'arn:aws:s3:::other-bucket/*' }), 'Policy has invalid resource'],
    [
      'a pattern that is not this bucket',
      policy({ ...ok, Resource: 'arn:aws:s3:::other-*/*' }),
      'Policy has invalid resource',
    ],
    ['a non-S3 resource', policy({ ...ok, Resource: 'arn:aws:sqs:::q' }), 'Policy has invalid resource'],
    [
      'an object action on the bucket ARN only',
      policy({ ...ok, Resource: `arn:aws:s3:::${B}` }),
      'Action does not apply to any resource(s) in statement',
    ],
    [
      'a bucket action on keys only',
      policy({ ...ok, Action: 's3:ListBucket' }),
      'Action does not apply to any resource(s) in statement',
    ],
    [
      'an unknown operator',
      policy({ ...ok, Condition: { StringEq: { 's3:prefix': 'a' } } }),
      'Invalid Condition type : StringEq',
    ],
    [
      'an unknown s3 key',
      policy({ ...ok, Condition: { StringEquals: { 's3:nonsense': 'a' } } }),
      'Policy has an invalid condition key',
    ],
    [
      'a Null value other than true/false',
      policy({ ...ok, Condition: { Null: { 's3:prefix': 'maybe' } } }),
      'Invalid Condition',
    ],
    [
      'duplicate Sids',
      policy([
        { ...ok, Sid: 'a' },
        { ...ok, Sid: 'a' },
      ]),
      'must be unique',
    ],
    ['an unknown statement field', policy({ ...ok, Effects: 'Allow' }), 'Unknown field Effects'],
  ])('%s', (_label, text, message) => {
    expect(malformed(text)).toContain(message);
  });

  it(`a document over ${MAX_POLICY_BYTES} bytes, and not one at the limit`, () => {
    const base = policy({ ...ok, Sid: '' });
    const pad = (n: number) => policy({ ...ok, Sid: 'x'.repeat(n) });
    const atLimit = pad(MAX_POLICY_BYTES - base.length);
    expect(Buffer.byteLength(atLimit)).toBe(MAX_POLICY_BYTES);
    expect(parsePolicy(atLimit, B).statements).toHaveLength(1);
    expect(malformed(pad(MAX_POLICY_BYTES - base.length + 1))).toContain('less than 20 KB');
  });
});
