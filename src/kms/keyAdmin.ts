/**
 * Aliases and key policies (key-protect.md 2.3, 2.4, 2.7): rotation
 * (interval 1-12 months) and dualAuthDelete.
 */
import { invalidField } from './encoding.js';
import { KmsError } from '../keys/errors.js';
import { DEFAULT_ACTOR } from './keyLifecycle.js';
import { iso } from './keyView.js';
import { assertAction, loadKey, withKey, type KmsContext } from './kmsContext.js';
import type { KeyRecord, PolicyMeta } from './records.js';
import { LIMITS, validateAlias } from './validation.js';

export interface PolicyResource {
  type: 'application/vnd.ibm.kms.policy+json';
  createdBy: string;
  creationDate: string;
  updatedBy: string;
  lastUpdateDate: string;
  rotation?: { enabled: boolean; interval_month: number };
  dualAuthDelete?: { enabled: boolean };
}

export interface AliasResource {
  keyId: string;
  alias: string;
  createdBy: string;
  creationDate: string;
}

/** Aliases are unique per instance, at most 1,000 per instance. Call holding the instance's alias lock. */
export async function assertAliasesFree(
  ctx: KmsContext,
  instanceId: string,
  aliases: readonly string[],
): Promise<void> {
  if (aliases.length === 0) return;
  for (const a of aliases) {
    if ((await ctx.store.keyIdForAlias(instanceId, a)) !== undefined)
      throw invalidField('aliases', `an alias not already used in this instance ("${a}" is)`);
  }
  if ((await ctx.store.countAliases(instanceId)) + aliases.length > LIMITS.aliasesPerInstance) {
    throw invalidField('aliases', `within the limit of ${LIMITS.aliasesPerInstance} aliases per instance`);
  }
}

export function aliasLock(instanceId: string): string {
  return `aliases/${instanceId}`;
}

export async function createAlias(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  alias: string,
  by: string = DEFAULT_ACTOR,
): Promise<AliasResource> {
  validateAlias(alias);
  return withKey(ctx, instanceId, idOrAlias, async (k) => {
    assertAction(k, 'alias');
    const now = ctx.now();
    if (!k.key.aliases.includes(alias)) {
      if (k.key.aliases.length >= LIMITS.aliasesPerKey)
        throw invalidField('aliases', `at most ${LIMITS.aliasesPerKey} aliases per key`);
      await ctx.locks.run(aliasLock(k.instance.id), async () => {
        await assertAliasesFree(ctx, k.instance.id, [alias]);
        const key: KeyRecord = { ...k.key, aliases: [...k.key.aliases, alias], lastUpdateDate: now };
        await ctx.store.batch().putKey(key).putAlias(k.instance.id, alias, k.key.id).write();
      });
    }
    return { keyId: k.key.id, alias, createdBy: by, creationDate: iso(now) };
  });
}

export async function deleteAlias(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  alias: string,
): Promise<void> {
  await withKey(ctx, instanceId, idOrAlias, async (k) => {
    assertAction(k, 'alias');
    if (!k.key.aliases.includes(alias))
      throw new KmsError('KEY_NOT_FOUND_ERR', `Alias ${alias} could not be found on this key`);
    const key: KeyRecord = { ...k.key, aliases: k.key.aliases.filter((a) => a !== alias), lastUpdateDate: ctx.now() };
    await ctx.store.batch().putKey(key).delAlias(k.instance.id, alias).write();
  });
}

function policyMeta(p: PolicyMeta): Omit<PolicyResource, 'rotation' | 'dualAuthDelete'> {
  return {
    type: 'application/vnd.ibm.kms.policy+json',
    createdBy: p.createdBy,
    creationDate: iso(p.creationDate),
    updatedBy: p.updatedBy,
    lastUpdateDate: iso(p.lastUpdateDate),
  };
}

export async function getPolicies(ctx: KmsContext, instanceId: string, idOrAlias: string): Promise<PolicyResource[]> {
  const k = await loadKey(ctx, instanceId, idOrAlias);
  assertAction(k, 'get');
  const out: PolicyResource[] = [];
  const { rotation, dualAuthDelete } = k.key.policies;
  if (rotation)
    out.push({
      ...policyMeta(rotation),
      rotation: { enabled: rotation.enabled, interval_month: rotation.intervalMonth },
    });
  if (dualAuthDelete) out.push({ ...policyMeta(dualAuthDelete), dualAuthDelete: { enabled: dualAuthDelete.enabled } });
  return out;
}

function nextMeta(prev: PolicyMeta | undefined, by: string, now: number): PolicyMeta {
  return {
    createdBy: prev?.createdBy ?? by,
    creationDate: prev?.creationDate ?? now,
    updatedBy: by,
    lastUpdateDate: now,
  };
}

export async function setRotationPolicy(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  p: { enabled?: boolean; intervalMonth: number },
  by: string = DEFAULT_ACTOR,
): Promise<PolicyResource[]> {
  if (!Number.isInteger(p.intervalMonth) || p.intervalMonth < 1 || p.intervalMonth > 12)
    throw invalidField('interval_month', 'an integer from 1 to 12');
  await withKey(ctx, instanceId, idOrAlias, async (k) => {
    assertAction(k, 'setPolicy');
    if (k.key.extractable)
      throw new KmsError('KEY_ROOT_REQ_ERR', 'Requested action can only be completed with a root key');
    const now = ctx.now();
    const rotation = {
      ...nextMeta(k.key.policies.rotation, by, now),
      enabled: p.enabled ?? true,
      intervalMonth: p.intervalMonth,
    };
    await ctx.store
      .batch()
      .putKey({ ...k.key, lastUpdateDate: now, policies: { ...k.key.policies, rotation } })
      .write();
  });
  return getPolicies(ctx, instanceId, idOrAlias);
}

export async function setDualAuthDeletePolicy(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  p: { enabled: boolean },
  by: string = DEFAULT_ACTOR,
): Promise<PolicyResource[]> {
  if (typeof p.enabled !== 'boolean') throw invalidField('enabled', 'a boolean');
  await withKey(ctx, instanceId, idOrAlias, async (k) => {
    assertAction(k, 'setPolicy');
    const now = ctx.now();
    const dualAuthDelete = { ...nextMeta(k.key.policies.dualAuthDelete, by, now), enabled: p.enabled };
    // Turning the policy off drops a pending authorization with it.
    const { dualAuthPending: _dropped, ...rest } = k.key;
    const key: KeyRecord = {
      ...(p.enabled ? k.key : rest),
      lastUpdateDate: now,
      policies: { ...k.key.policies, dualAuthDelete },
    };
    await ctx.store.batch().putKey(key).write();
  });
  return getPolicies(ctx, instanceId, idOrAlias);
}

/**
 * Changes a key's ring under the key's lock, so it cannot interleave with a
 * lifecycle change of the same key.
 */
export async function setKeyRing(ctx: KmsContext, instanceId: string, idOrAlias: string, ring: string): Promise<void> {
  await withKey(ctx, instanceId, idOrAlias, async (k) => {
    if (k.key.keyRingID === ring) return;
    await ctx.store
      .batch()
      .putKey({ ...k.key, keyRingID: ring, lastUpdateDate: ctx.now() })
      .write();
  });
}
