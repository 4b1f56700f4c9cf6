import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Caller, IdentityRecord } from '../../../src/identity/caller.js';
import { AdminScope } from '../../../src/iam/adminScope.js';
import { openTestIam, ROOT_ACCOUNT, type TestIam } from './iamTestKit.js';

let t: TestIam;
let scope: AdminScope;
let acctA: string;
let acctB: string;
let ownerA: IdentityRecord;
let userA: IdentityRecord;
const instances = [
  { id: 'inst-a', account: '' },
  { id: 'inst-b', account: '' },
];

function caller(identity: IdentityRecord): Caller {
  return {
    identity,
    claims: {
      iss: 'coffer-iam',
      sub: identity.id,
      account: identity.accountId,
      kind: identity.kind,
      akid: 'k',
      typ: 'access',
      iat: 0,
      exp: 1,
      jti: 'j',
    },
  };
}

beforeEach(async () => {
  t = await openTestIam();
  const a = await t.iam.service.createAccount({ name: 'tenant-a' });
  const b = await t.iam.service.createAccount({ name: 'tenant-b' });
  acctA = a.account.id;
  acctB = b.account.id;
  ownerA = a.owner;
  userA = await t.iam.service.createIdentity({ accountId: acctA, kind: 'user', name: 'alice' });
  instances[0]!.account = acctA;
  instances[1]!.account = acctB;
  scope = new AdminScope(t.iam.service, t.iam.access, {
    findInstance: async (id) => instances.find((i) => i.id === id),
    listInstances: async () => instances,
  });
});

afterEach(async () => {
  await t.close();
});

describe('AdminScope', () => {
  it('the root owner administers every account; an owner only its own; other users none', () => {
    const root = caller(t.iam.rootUser);
    expect(scope.isSystemAdmin(root)).toBe(true);
    expect(scope.canAdminAccount(root, acctB)).toBe(true);
    expect(scope.isSystemAdmin(caller(ownerA))).toBe(false);
    expect(scope.canAdminAccount(caller(ownerA), acctA)).toBe(true);
    expect(() => scope.requireAdmin(caller(ownerA), acctB)).toThrow(
      expect.objectContaining({ status: 403, code: 'FORBIDDEN' }),
    );
    expect(scope.canAdminAccount(caller(userA), acctA)).toBe(false);
  });

  it('grants on an instance are for whoever administers its account; an unknown instance is forbidden too', async () => {
    await expect(scope.requireInstanceAdmin(caller(ownerA), { instanceId: 'inst-a' })).resolves.toBeUndefined();
    await expect(scope.requireInstanceAdmin(caller(ownerA), { instanceId: 'inst-b' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(scope.requireInstanceAdmin(caller(ownerA), { instanceId: 'nope' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(scope.requireInstanceAdmin(caller(ownerA), 'inst-a')).rejects.toMatchObject({ status: 403 });
  });

  it('each caller sees its own account and instances, the grants it administers, and the grants naming it', async () => {
    const root = caller(t.iam.rootUser);
    expect(
      scope
        .visibleAccounts(root)
        .map((a) => a.id)
        .sort(),
    ).toEqual([ROOT_ACCOUNT, acctA, acctB].sort());
    expect(scope.visibleAccounts(caller(userA)).map((a) => a.id)).toEqual([acctA]);
    expect((await scope.visibleInstances(caller(userA))).map((i) => i.id)).toEqual(['inst-a']);
    expect((await scope.visibleInstances(root)).map((i) => i.id)).toEqual(['inst-a', 'inst-b']);

    const onB = await t.iam.access.createPolicy({
      subjectId: userA.id,
      target: { instanceId: 'inst-b' },
      role: 'Reader',
      by: 'x',
    });
    const onA = await t.iam.access.createPolicy({
      subjectId: ownerA.id,
      target: { instanceId: 'inst-a' },
      role: 'Writer',
      by: 'x',
    });
    expect((await scope.visiblePolicies(caller(userA))).map((p) => p.id)).toEqual([onB.id]);
    expect((await scope.visiblePolicies(caller(ownerA))).map((p) => p.id)).toEqual([onA.id]);
    expect((await scope.visiblePolicies(root, userA.id)).map((p) => p.id)).toEqual([onB.id]);

    const fromA = await t.iam.access.createAuthorization({
      sourceAccount: acctA,
      target: { instanceId: 'inst-b' },
      role: 'Reader',
      by: 'x',
    });
    const fromB = await t.iam.access.createAuthorization({
      sourceAccount: acctB,
      target: { instanceId: 'inst-a' },
      role: 'Reader',
      by: 'x',
    });
    expect((await scope.visibleAuthorizations(caller(userA))).map((a) => a.id)).toEqual([fromA.id]);
    expect((await scope.visibleAuthorizations(caller(ownerA))).map((a) => a.id).sort()).toEqual(
      [fromA.id, fromB.id].sort(),
    );
  });
});
