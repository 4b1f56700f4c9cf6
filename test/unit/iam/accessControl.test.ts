import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessControl } from '../../../src/iam/accessControl.js';
import { IamKeyAuthorizer } from '../../../src/iam/iamKeyAuthorizer.js';
import type { IdentityRecord } from '../../../src/iam/records.js';
import { openTestIam, ROOT_ACCOUNT, type TestIam } from './iamTestKit.js';

let t: TestIam;
let tenantB: string;
let user: IdentityRecord;
const instA = { id: 'inst-a', account: ROOT_ACCOUNT };

beforeEach(async () => {
  t = await openTestIam();
  tenantB = (await t.iam.service.createAccount({ name: 'tenant-b' })).account.id;
  user = await t.iam.service.createIdentity({ accountId: ROOT_ACCOUNT, kind: 'user', name: 'bob' });
});
afterEach(async () => t.close());

describe('access policies', () => {
  it('the account owner holds Manager on its instances but not KeyPurge; others need a policy', () => {
    const { access, rootUser } = t.iam;
    expect(access.identityHasRole(rootUser, instA, undefined, 'Manager')).toBe(true);
    expect(access.identityHasRole(rootUser, instA, 'k1', 'Manager')).toBe(true);
    expect(access.identityHasRole(rootUser, instA, 'k1', 'KeyPurge')).toBe(false);
    expect(access.identityHasRole(rootUser, { id: 'inst-b', account: tenantB }, undefined, 'Reader')).toBe(false);
    expect(access.identityHasRole(user, instA, undefined, 'Reader')).toBe(false);
  });

  it('instance policies cover every key; key policies only theirs; roles are additive, KeyPurge alone', async () => {
    const { access } = t.iam;
    await access.createPolicy({ subjectId: user.id, target: { instanceId: 'inst-a' }, role: 'Writer', by: 'test' });
    expect(access.identityHasRole(user, instA, 'any-key', 'Reader')).toBe(true);
    expect(access.identityHasRole(user, instA, 'any-key', 'ReaderPlus')).toBe(true);
    expect(access.identityHasRole(user, instA, undefined, 'Writer')).toBe(true);
    expect(access.identityHasRole(user, instA, undefined, 'Manager')).toBe(false);
    expect(access.identityHasRole(user, instA, 'k', 'KeyPurge')).toBe(false);
    expect(access.identityHasRole(user, { id: 'inst-other', account: ROOT_ACCOUNT }, undefined, 'Reader')).toBe(false);

    const other = await t.iam.service.createIdentity({ accountId: ROOT_ACCOUNT, kind: 'service', name: 'svc' });
    const p = await access.createPolicy({
      subjectId: other.id,
      target: { instanceId: 'inst-a', keyId: 'k1' },
      role: 'KeyPurge',
      by: 'test',
    });
    expect(access.identityHasRole(other, instA, 'k1', 'KeyPurge')).toBe(true);
    expect(access.identityHasRole(other, instA, 'k1', 'Reader')).toBe(false);
    expect(access.identityHasRole(other, instA, 'k2', 'KeyPurge')).toBe(false);
    expect(access.identityHasRole(other, instA, undefined, 'KeyPurge')).toBe(false);
    expect(access.hasKeyLevelPolicies(other, 'inst-a')).toBe(true);
    expect([...access.keyLevelKeys(other, 'inst-a', 'KeyPurge')]).toEqual(['k1']);
    await access.deletePolicy(p.id);
    expect(access.identityHasRole(other, instA, 'k1', 'KeyPurge')).toBe(false);
  });

  it('validates subjects, targets and roles', async () => {
    const { access } = t.iam;
    await expect(
      access.createPolicy({ subjectId: 'nobody', target: { instanceId: 'i' }, role: 'Reader', by: 't' }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      access.createPolicy({ subjectId: user.id, target: { instanceId: 'i' }, role: 'Admin', by: 't' }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      access.createPolicy({ subjectId: user.id, target: {}, role: 'Reader', by: 't' }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      access.createPolicy({ subjectId: user.id, target: { instanceId: 'a:b' }, role: 'Reader', by: 't' }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('service-to-service authorizations and IamKeyAuthorizer', () => {
  const keyA = { instanceId: 'inst-a', keyId: 'k1', account: ROOT_ACCOUNT };

  it('the owning tenant needs an authorization too (IBM: COS needs Reader inside one account); another tenant likewise', async () => {
    const authz = new IamKeyAuthorizer(t.iam.access);
    expect(await authz.canUse(ROOT_ACCOUNT, keyA, 'Reader')).toBe(false);
    expect(await authz.canUse(tenantB, keyA, 'Reader')).toBe(false);
    expect(await authz.canUse('', { ...keyA, account: '' }, 'Reader')).toBe(false);
    const own = await t.iam.access.createAuthorization({
      sourceAccount: ROOT_ACCOUNT,
      target: { instanceId: 'inst-a' },
      by: 'test',
    });
    expect(await authz.canUse(ROOT_ACCOUNT, keyA, 'Reader')).toBe(true);
    expect(await authz.canUse(ROOT_ACCOUNT, keyA, 'ReaderPlus')).toBe(false);
    expect(await authz.canUse(tenantB, keyA, 'Reader')).toBe(false);
    const a = await t.iam.access.createAuthorization({
      sourceAccount: tenantB,
      target: { instanceId: 'inst-a' },
      by: 'test',
    });
    expect(a.role).toBe('Reader');
    expect(a.source).toEqual({ accountId: tenantB, serviceName: 'cloud-object-storage' });
    expect(await authz.canUse(tenantB, keyA, 'Reader')).toBe(true);
    expect(await authz.canUse(tenantB, keyA, 'Writer')).toBe(false);
    await expect(
      t.iam.access.createAuthorization({ sourceAccount: tenantB, target: { instanceId: 'inst-a' }, by: 'test' }),
    ).rejects.toMatchObject({ status: 409 });
    await t.iam.access.deleteAuthorization(a.id);
    expect(await authz.canUse(tenantB, keyA, 'Reader')).toBe(false);
    await t.iam.access.deleteAuthorization(own.id);
    expect(await authz.canUse(ROOT_ACCOUNT, keyA, 'Reader')).toBe(false);
  });

  it('the same-account opt-out lets an account use its own instances (never KeyPurge), not another account', async () => {
    const iam = await t.reopen();
    const implicit = new AccessControl(iam.store, () => 0, { implicitSameAccount: true });
    expect(implicit.tenantHasRole(ROOT_ACCOUNT, instA, 'k1', 'Manager')).toBe(true);
    expect(implicit.tenantHasRole(ROOT_ACCOUNT, instA, 'k1', 'KeyPurge')).toBe(false);
    expect(implicit.tenantHasRole(tenantB, instA, 'k1', 'Reader')).toBe(false);
    expect(iam.access.tenantHasRole(ROOT_ACCOUNT, instA, 'k1', 'Reader')).toBe(false);
  });

  it('a ring authorization covers the keys of that ring only, never the instance itself', async () => {
    const rings: Record<string, string> = { k1: 'payments', k2: 'default' };
    const authz = new IamKeyAuthorizer(t.iam.access, { keyRingOf: async (_i, k) => rings[k] });
    await t.iam.access.createAuthorization({
      source: { accountId: tenantB, serviceName: 'cloud-object-storage' },
      target: { instanceId: 'inst-a', keyRing: 'payments' },
      by: 'test',
    });
    expect(await authz.canUse(tenantB, keyA, 'Reader')).toBe(true);
    expect(await authz.canUse(tenantB, { ...keyA, keyId: 'k2' }, 'Reader')).toBe(false);
    expect(await authz.canUse(tenantB, { ...keyA, keyId: 'k2', keyRing: 'payments' }, 'Reader')).toBe(true);
    expect(await authz.canUse(tenantB, { ...keyA, instanceId: 'inst-other' }, 'Reader')).toBe(false);
    expect(t.iam.access.tenantHasRole(tenantB, instA, undefined, 'Reader', 'payments')).toBe(false);
    await expect(
      t.iam.access.createAuthorization({
        sourceAccount: tenantB,
        target: { instanceId: 'inst-a', keyRing: 'payments', keyId: 'k1' },
        by: 'test',
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('a source service instance grant covers that instance only; a service grant every instance of it in the account', async () => {
    const { access } = t.iam;
    await access.createAuthorization({
      source: { accountId: tenantB, serviceName: 'cloud-object-storage', serviceInstance: 'other-cos' },
      target: { instanceId: 'inst-a' },
      by: 'test',
    });
    // The gateway is the account's COS instance coffer-s3: a grant to another COS instance is not its.
    expect(access.tenantHasRole(tenantB, instA, 'k1', 'Reader')).toBe(false);
    expect(
      access.sourceHasRole(
        { accountId: tenantB, serviceName: 'cloud-object-storage', serviceInstance: 'other-cos' },
        instA,
        { keyId: 'k1' },
        'Reader',
      ),
    ).toBe(true);
    await access.createAuthorization({
      source: { accountId: tenantB, serviceName: 'databases-for-postgresql' },
      target: { instanceId: 'inst-a' },
      role: 'ReaderPlus',
      by: 'test',
    });
    expect(access.tenantHasRole(tenantB, instA, 'k1', 'Reader')).toBe(false);
    expect(
      access.sourceHasRole(
        { accountId: tenantB, serviceName: 'databases-for-postgresql', serviceInstance: 'any' },
        instA,
        { keyId: 'k1' },
        'ReaderPlus',
      ),
    ).toBe(true);
    await access.createAuthorization({
      source: { accountId: tenantB, serviceName: 'cloud-object-storage', serviceInstance: 'coffer-s3' },
      target: { instanceId: 'inst-a' },
      by: 'test',
    });
    expect(access.tenantHasRole(tenantB, instA, 'k1', 'Reader')).toBe(true);
    await expect(
      access.createAuthorization({
        source: { accountId: tenantB, serviceName: 'Not A Service' },
        target: { instanceId: 'inst-a' },
        by: 'test',
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('an account-wide authorization covers every instance of the target account and no other', async () => {
    const { access } = t.iam;
    await access.createAuthorization({ sourceAccount: tenantB, target: { accountId: ROOT_ACCOUNT }, by: 'test' });
    expect(access.tenantHasRole(tenantB, instA, 'k1', 'Reader')).toBe(true);
    expect(access.tenantHasRole(tenantB, { id: 'inst-a2', account: ROOT_ACCOUNT }, undefined, 'Reader')).toBe(true);
    expect(access.tenantHasRole(tenantB, { id: 'inst-b', account: tenantB }, 'k1', 'Reader')).toBe(false);
    await expect(
      access.createAuthorization({ sourceAccount: tenantB, target: { accountId: 'nope' }, by: 'test' }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it('a key authorization covers that key only; an unknown source account is refused', async () => {
    const authz = new IamKeyAuthorizer(t.iam.access);
    await t.iam.access.createAuthorization({
      sourceAccount: tenantB,
      target: { instanceId: 'inst-a', keyId: 'k1' },
      role: 'Reader',
      by: 'test',
    });
    expect(await authz.canUse(tenantB, keyA, 'Reader')).toBe(true);
    expect(await authz.canUse(tenantB, { ...keyA, keyId: 'k2' }, 'Reader')).toBe(false);
    await expect(
      t.iam.access.createAuthorization({ sourceAccount: 'nope', target: { instanceId: 'inst-a' }, by: 'x' }),
    ).rejects.toMatchObject({ status: 404 });
    expect(t.iam.access.listAuthorizations({ sourceAccount: tenantB })).toHaveLength(1);
    expect(t.iam.access.listAuthorizations({ instanceIds: new Set(['other']) })).toHaveLength(0);
  });

  it('the default key is usable by every tenant with Reader, nothing more', async () => {
    const def = { instanceId: 'inst-default', keyId: 'kd' };
    const authz = new IamKeyAuthorizer(t.iam.access, { defaultKey: () => def });
    expect(await authz.canUse(tenantB, { ...def, account: 'coffer' }, 'Reader')).toBe(true);
    expect(await authz.canUse(tenantB, { ...def, account: 'coffer' }, 'Writer')).toBe(false);
    expect(await authz.canUse(tenantB, { ...def, keyId: 'other', account: 'coffer' }, 'Reader')).toBe(false);
  });

  it('policies and authorizations survive a restart', async () => {
    await t.iam.access.createPolicy({
      subjectId: user.id,
      target: { instanceId: 'inst-a' },
      role: 'Manager',
      by: 'test',
    });
    await t.iam.access.createAuthorization({ sourceAccount: tenantB, target: { instanceId: 'inst-a' }, by: 'test' });
    const again = await t.reopen();
    expect(again.access.identityHasRole(again.service.getIdentity(user.id)!, instA, undefined, 'Manager')).toBe(true);
    expect(again.access.tenantHasRole(tenantB, instA, 'k', 'Reader')).toBe(true);
  });
});
