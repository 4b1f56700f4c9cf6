import { describe, expect, it } from 'vitest';
import { parseAuthorizationPolicy, renderPolicy, roleId, roleOf } from '../../../../src/iam/api/policyShape.js';
import type { AuthorizationRecord } from '../../../../src/iam/records.js';

const attrs = (o: Record<string, string>) => [
  { attributes: Object.entries(o).map(([name, value]) => ({ name, value })) },
];
const body = (resource: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  type: 'authorization',
  subjects: attrs({ accountId: 'acct-b', serviceName: 'cloud-object-storage', serviceInstance: 'coffer-s3' }),
  roles: [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Reader' }],
  resources: attrs({ accountId: 'acct-a', serviceName: 'kms', ...resource }),
  ...extra,
});

describe("IBM IAM Policy Management's authorization policy shape", () => {
  it('reads instance, key ring (resourceType or keyRing attribute), key and account-wide resources', () => {
    expect(parseAuthorizationPolicy(body({ serviceInstance: 'i1' }))).toEqual({
      source: { accountId: 'acct-b', serviceName: 'cloud-object-storage', serviceInstance: 'coffer-s3' },
      target: { instanceId: 'i1' },
      role: 'Reader',
      targetAccount: 'acct-a',
    });
    expect(
      parseAuthorizationPolicy(body({ serviceInstance: 'i1', resourceType: 'keyRing', resource: 'r1' })).target,
    ).toEqual({
      instanceId: 'i1',
      keyRing: 'r1',
    });
    expect(parseAuthorizationPolicy(body({ serviceInstance: 'i1', keyRing: 'r1' })).target).toEqual({
      instanceId: 'i1',
      keyRing: 'r1',
    });
    expect(
      parseAuthorizationPolicy(body({ serviceInstance: 'i1', resourceType: 'key', resource: 'k1' })).target,
    ).toEqual({
      instanceId: 'i1',
      keyId: 'k1',
    });
    expect(parseAuthorizationPolicy(body({})).target).toEqual({ accountId: 'acct-a' });
  });

  it('roles: IAM and Key Protect role CRNs; several collapse into the strongest; KeyPurge alone', () => {
    expect(roleOf('crn:v1:bluemix:public:kms::::serviceRole:ReaderPlus')).toBe('ReaderPlus');
    expect(roleId('ReaderPlus')).toBe('crn:v1:bluemix:public:kms::::serviceRole:ReaderPlus');
    expect(roleId('Manager')).toBe('crn:v1:bluemix:public:iam::::serviceRole:Manager');
    const roles = [
      { role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Reader' },
      { role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Writer' },
    ];
    expect(parseAuthorizationPolicy(body({ serviceInstance: 'i1' }, { roles })).role).toBe('Writer');
    expect(() =>
      parseAuthorizationPolicy(body({ serviceInstance: 'i1' }, { roles: [...roles, { role_id: roleId('KeyPurge') }] })),
    ).toThrow(/KeyPurge/);
    expect(() => roleOf('crn:v1:bluemix:public:iam::::role:Administrator')).toThrow(/not a Key Protect service role/);
  });

  it('refuses what it does not serve, with a 400 naming the problem', () => {
    const bad = (b: Record<string, unknown>, msg: RegExp) =>
      expect(() => parseAuthorizationPolicy(b)).toThrow(
        expect.objectContaining({ status: 400, message: expect.stringMatching(msg) }),
      );
    bad(body({ serviceInstance: 'i1' }, { type: 'access' }), /type must be "authorization"/);
    bad(
      { ...body({ serviceInstance: 'i1' }), resources: attrs({ serviceName: 'hs-crypto', serviceInstance: 'i' }) },
      /serviceName must be "kms"/,
    );
    bad(body({ resourceType: 'key', resource: 'k1' }), /needs the serviceInstance/);
    bad(body({ serviceInstance: 'i1', resourceType: 'bucket', resource: 'b' }), /resourceType must be/);
    bad(body({ serviceInstance: 'i1', resourceGroupId: 'g' }), /resourceGroupId is not supported/);
    bad(
      { ...body({ serviceInstance: 'i1' }), subjects: attrs({ serviceName: 'cloud-object-storage' }) },
      /accountId and serviceName/,
    );
    bad(body({ serviceInstance: 'i1' }, { pattern: 'x' }), /Unknown field 'pattern'/);
  });

  it('renders a record as IBM V1Policy', () => {
    const rec: AuthorizationRecord = {
      id: 'authz-1',
      source: { accountId: 'acct-b', serviceName: 'cloud-object-storage' },
      target: { instanceId: 'i1', keyId: 'k1' },
      role: 'Reader',
      createdAt: Date.UTC(2026, 0, 2),
      createdBy: 'ident-1',
    };
    expect(renderPolicy(rec, 'http://h/v1/policies/authz-1', 'acct-a')).toMatchObject({
      id: 'authz-1',
      type: 'authorization',
      subjects: [
        {
          attributes: [
            { name: 'accountId', value: 'acct-b' },
            { name: 'serviceName', value: 'cloud-object-storage' },
          ],
        },
      ],
      roles: [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Reader', display_name: 'Reader' }],
      resources: [
        {
          attributes: [
            { name: 'accountId', value: 'acct-a' },
            { name: 'serviceName', value: 'kms' },
            { name: 'serviceInstance', value: 'i1' },
            { name: 'resourceType', value: 'key' },
            { name: 'resource', value: 'k1' },
          ],
        },
      ],
      href: 'http://h/v1/policies/authz-1',
      created_at: '2026-01-02T00:00:00.000Z',
      state: 'active',
    });
  });
});
