/**
 * From account -> instance/key authorizations to IBM's model (source service
 * instance -> instance, key ring or key), once per IAM store, at start:
 *
 * - a stored `{sourceAccount, target}` becomes `{source: {accountId:
 *   sourceAccount, serviceName: cloud-object-storage}, target}`: what the
 *   gateway could do for that account before, it can still do (the grant has no
 *   serviceInstance, so it covers the account's COS whatever its instance);
 * - an account used its own instances without any authorization before; now it
 *   needs one, so every instance that exists when the store is migrated gets
 *   the Reader authorization from its own account's COS. Existing buckets keep
 *   working; instances created afterwards need an explicit authorization, as in
 *   IBM Cloud. On a new data dir this is the one authorization the root account
 *   needs for its own instance (what an IBM user creates once).
 *
 * One synced batch, then the marker: a crash in between redoes an idempotent
 * step (converted rows are not converted again, existing grants not duplicated).
 */
import { COS_SERVICE_NAME } from '../identity/serviceSource.js';
import type { InstanceRef } from './accessControl.js';
import type { IamStore, WriteOp } from './iamStore.js';
import type { AuthorizationRecord, LegacyAuthorizationRecord } from './records.js';
import { newId } from './secrets.js';

/** The authorization model the store holds: 2 = source service instance -> target (this one). */
export const AUTHORIZATION_MODEL = 2;

export const MIGRATION_AUTHOR = 'coffer-migration';

export async function migrateAuthorizations(
  store: IamStore,
  instances: readonly InstanceRef[],
  now: () => number = Date.now,
): Promise<{ converted: number; granted: number }> {
  if (((await store.getMeta('authorizationModel')) ?? 0) >= AUTHORIZATION_MODEL) return { converted: 0, granted: 0 };
  const ops: WriteOp[] = [];
  const rows: AuthorizationRecord[] = [];
  for (const row of store.all('authz') as Array<AuthorizationRecord | LegacyAuthorizationRecord>) {
    if (!('sourceAccount' in row)) {
      rows.push(row);
      continue;
    }
    const rec: AuthorizationRecord = {
      id: row.id,
      source: { accountId: row.sourceAccount, serviceName: COS_SERVICE_NAME },
      target: row.target,
      role: row.role,
      createdAt: row.createdAt,
      createdBy: row.createdBy,
    };
    rows.push(rec);
    ops.push({ type: 'put', table: 'authz', id: rec.id, value: rec });
  }
  const converted = ops.length;
  for (const inst of instances) {
    // Instances of accounts IAM does not know (the provider's default instance) have no COS to authorize.
    if (!store.get('acct', inst.account)) continue;
    const has = rows.some(
      (a) =>
        a.source.accountId === inst.account &&
        a.source.serviceName === COS_SERVICE_NAME &&
        a.source.serviceInstance === undefined &&
        a.target.instanceId === inst.id &&
        a.target.keyId === undefined &&
        a.target.keyRing === undefined,
    );
    if (has) continue;
    const rec: AuthorizationRecord = {
      id: newId('authz'),
      source: { accountId: inst.account, serviceName: COS_SERVICE_NAME },
      target: { instanceId: inst.id },
      role: 'Reader',
      description:
        "the account's Cloud Object Storage may use its own KMS instance (granted when authorizations became required inside an account)",
      createdAt: now(),
      createdBy: MIGRATION_AUTHOR,
    };
    rows.push(rec);
    ops.push({ type: 'put', table: 'authz', id: rec.id, value: rec });
  }
  if (ops.length > 0) await store.write(ops);
  await store.putMeta('authorizationModel', AUTHORIZATION_MODEL);
  return { converted, granted: ops.length - converted };
}
