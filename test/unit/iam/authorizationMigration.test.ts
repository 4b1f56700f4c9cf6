import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateAuthorizations } from '../../../src/iam/authorizationMigration.js';
import type { LegacyAuthorizationRecord } from '../../../src/iam/records.js';
import { openTestIam, ROOT_ACCOUNT, type TestIam } from './iamTestKit.js';

let t: TestIam;
let tenantB: string;

beforeEach(async () => {
  t = await openTestIam();
  tenantB = (await t.iam.service.createAccount({ name: 'tenant-b' })).account.id;
});
afterEach(async () => t.close());

describe('migrating account -> instance authorizations to source service instances', () => {
  it('converts stored account grants, grants each existing instance to its own account, once', async () => {
    const legacy: LegacyAuthorizationRecord = {
      id: 'authz-old',
      sourceAccount: tenantB,
      target: { instanceId: 'inst-a', keyId: 'k1' },
      role: 'Reader',
      createdAt: 5,
      createdBy: 'someone',
    };
    // A store written before the model changed holds rows of the old shape.
    await t.iam.store.write([{ type: 'put', table: 'authz', id: legacy.id, value: legacy as never }]);
    const instances = [
      { id: 'inst-a', account: ROOT_ACCOUNT },
      { id: 'inst-b', account: tenantB },
      { id: 'provider-default', account: 'not-an-iam-account' },
    ];

    expect(await migrateAuthorizations(t.iam.store, instances, () => 9)).toEqual({ converted: 1, granted: 2 });
    const iam = await t.reopen();
    const a = iam.access.getAuthorization('authz-old')!;
    expect(a).toMatchObject({ source: { accountId: tenantB, serviceName: 'cloud-object-storage' }, createdAt: 5 });
    expect('sourceAccount' in a).toBe(false);
    expect(iam.access.tenantHasRole(tenantB, { id: 'inst-a', account: ROOT_ACCOUNT }, 'k1', 'Reader')).toBe(true);
    expect(iam.access.tenantHasRole(tenantB, { id: 'inst-a', account: ROOT_ACCOUNT }, 'k2', 'Reader')).toBe(false);
    expect(iam.access.tenantHasRole(ROOT_ACCOUNT, { id: 'inst-a', account: ROOT_ACCOUNT }, 'k2', 'Reader')).toBe(true);
    expect(iam.access.tenantHasRole(tenantB, { id: 'inst-b', account: tenantB }, 'k', 'Reader')).toBe(true);
    expect(iam.access.tenantHasRole(tenantB, { id: 'inst-b', account: tenantB }, 'k', 'Writer')).toBe(false);
    expect(iam.access.listAuthorizations()).toHaveLength(3);

    // Once: a revoked own-instance grant stays revoked, and a later instance gets none.
    const own = iam.access
      .listAuthorizations({ sourceAccount: tenantB })
      .find((x) => x.target.instanceId === 'inst-b')!;
    await iam.access.deleteAuthorization(own.id);
    expect(
      await migrateAuthorizations(iam.store, [...instances, { id: 'inst-c', account: tenantB }], () => 10),
    ).toEqual({ converted: 0, granted: 0 });
    expect(iam.access.listAuthorizations()).toHaveLength(2);
  });

  it('an interrupted migration redone grants nothing twice', async () => {
    const instances = [{ id: 'inst-a', account: ROOT_ACCOUNT }];
    await migrateAuthorizations(t.iam.store, instances);
    // As if the marker had not been written.
    await t.iam.store.putMeta('authorizationModel', 0);
    expect(await migrateAuthorizations(t.iam.store, instances)).toEqual({ converted: 0, granted: 0 });
    expect(t.iam.access.listAuthorizations()).toHaveLength(1);
  });
});
