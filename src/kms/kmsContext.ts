/**
 * What the KMS service modules share: the store, the injected clock and
 * randomness, per-key locks, event emission, and key lookup with Key Protect's
 * not-found / purged semantics.
 */
import { KmsError } from '../keys/errors.js';
import { KeyState } from '../keys/KeyProvider.js';
import type { KeyStore } from './keyStore.js';
import { isActionAllowed, requiresRootKey, stateError, type KeyAction } from './keyStates.js';
import type { KvLocks } from '../meta/kv/jsonKv.js';
import { formatKeyCrn } from '../keys/crn.js';
import { lifecycleEntry } from './lifecycleFeed.js';
import type { InstanceRecord, KeyRecord, LifecycleEventType, VersionMeta } from './records.js';

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;

/** Key Protect's clocks (key-protect.md 2.7, 1.5). */
export const TIMING = {
  /** Restore is possible for 30 days after delete (then 400 KEY_RESTORE_EXPIRED). */
  restoreWindowMs: 30 * DAY,
  /** Purge is allowed from 4 h after delete. */
  purgeAfterMs: 4 * HOUR,
  /** Deleted keys are purged automatically after 90 days. */
  autoPurgeAfterMs: 90 * DAY,
  /** One rotation per key per hour (409 KEY_ROTATION_NOT_PERMITTED). */
  rotateMinIntervalMs: HOUR,
  /** Enable/restore within 30 s of the previous action: 409 REQ_TOO_EARLY_ERR. */
  reqTooEarlyMs: 30 * SECOND,
  /** A dual-auth deletion authorization is valid for 7 days. */
  dualAuthWindowMs: 7 * DAY,
  /** actions/sync: at most once an hour, and not within an hour of a lifecycle action. */
  syncIntervalMs: HOUR,
} as const;

export interface KmsEvent {
  type: LifecycleEventType;
  instanceId: string;
  keyId: string;
  crn: string;
  /** Newest version after the event. */
  keyVersion?: string;
  at: number;
}

export type KmsEventListener = (event: KmsEvent) => void;

export interface KmsContext {
  store: KeyStore;
  now(): number;
  randomBytes(n: number): Buffer;
  newId(): string;
  /** Per-key (and per-instance) locks: in-process for LevelDB, across processes on a shared database. */
  locks: KvLocks;
  emit(event: KmsEvent): void;
  /**
   * The in-memory state epoch. Every key state change bumps it right after its
   * batch commits and before its event is emitted (bumpEpoch). A wrap/unwrap/rewrap
   * notes the epoch before it reads anything and checks it again after its last
   * await; if it moved, the operation is redone against the new state.
   *
   * Why: an unwrap that read a key just before a disable committed could otherwise
   * resolve after the disable event was delivered, and the gateway would cache a
   * disabled key's DEK for a whole TTL. With the check, an unwrap that succeeds
   * resolves (in the same macrotask as its check) before the event can fire, so
   * the gateway's invalidation always lands after anything it cached.
   *
   * One counter for all keys: state changes are rare and a spurious retry is cheap,
   * while a per-key counter would need the key id before the (alias) lookup.
   */
  epoch: number;
}

/** Called after a key state change commits, before its event is emitted (see KmsContext.epoch). */
export function bumpEpoch(ctx: KmsContext): void {
  ctx.epoch++;
}

export interface LoadedKey {
  instance: InstanceRecord;
  key: KeyRecord;
  /** State as reported now (Deactivated once expirationDate has passed). */
  state: KeyState;
}

/** KP's 404 carries no reason; KEY_NOT_FOUND_ERR is our name for it. */
export function notFound(message: string): KmsError {
  return new KmsError('KEY_NOT_FOUND_ERR', message);
}

export function effectiveState(key: KeyRecord, now: number): KeyState {
  // Only an Active key turns Deactivated on expiry. A Suspended key stays
  // Suspended: Deactivated allows unwrap, and expiry must never re-open a key a
  // Manager disabled. (Enabling it later is refused because it has expired.)
  if (key.state === KeyState.Active && key.expirationDate !== undefined && now >= key.expirationDate)
    return KeyState.Deactivated;
  return key.state;
}

export function keyCrnOf(instance: InstanceRecord, keyId: string): string {
  return formatKeyCrn({ region: instance.region, account: instance.account, instanceId: instance.id, keyId });
}

export function newestVersion(key: KeyRecord): VersionMeta {
  const v = key.versions[key.versions.length - 1];
  if (!v) throw new KmsError('INTERNAL_ERR', 'Key metadata became corrupted: the key has no version');
  return v;
}

export async function getInstanceOr404(ctx: KmsContext, instanceId: string): Promise<InstanceRecord> {
  const inst =
    typeof instanceId === 'string' && instanceId !== '' ? await ctx.store.getInstance(instanceId) : undefined;
  if (!inst) throw notFound(`Instance ${String(instanceId)} could not be found`);
  return inst;
}

/**
 * Finds a key by id or alias in an instance. Unknown and purged keys are 404.
 * A key deleted more than 90 days ago is purged here, on first touch, and is 404
 * from then on (KP purges it automatically; KmsService.sweep() does the same in bulk).
 */
export async function loadKey(ctx: KmsContext, instanceId: string, idOrAlias: string): Promise<LoadedKey> {
  const instance = await getInstanceOr404(ctx, instanceId);
  if (typeof idOrAlias !== 'string' || idOrAlias === '') throw notFound('Key could not be found');
  let key = await ctx.store.getKey(instance.id, idOrAlias);
  if (!key) {
    const id = await ctx.store.keyIdForAlias(instance.id, idOrAlias);
    if (id !== undefined) key = await ctx.store.getKey(instance.id, id);
  }
  if (!key) throw notFound(`Key ${idOrAlias} could not be found`);
  const now = ctx.now();
  if (key.deletion && now >= key.deletion.deletionDate + TIMING.autoPurgeAfterMs) {
    await purgeNow(ctx, instance, key);
    throw notFound(`Key ${idOrAlias} could not be found`);
  }
  return { instance, key, state: effectiveState(key, now) };
}

/**
 * Runs `fn` holding the key's lock, on a fresh read of the key (a concurrent
 * writer may have changed it between lookup and lock).
 */
export async function withKey<T>(
  ctx: KmsContext,
  instanceId: string,
  idOrAlias: string,
  fn: (k: LoadedKey) => Promise<T>,
): Promise<T> {
  const first = await loadKey(ctx, instanceId, idOrAlias);
  return ctx.locks.run(lockName(first.instance.id, first.key.id), async () =>
    fn(await loadKey(ctx, first.instance.id, first.key.id)),
  );
}

export function lockName(instanceId: string, keyId: string): string {
  return `${instanceId}/${keyId}`;
}

/** Root-key requirement, then the state table. */
export function assertAction(k: LoadedKey, action: KeyAction): void {
  if (requiresRootKey(action) && k.key.extractable) {
    throw new KmsError('KEY_ROOT_REQ_ERR', 'Requested action can only be completed with a root key');
  }
  if (!isActionAllowed(k.state, action)) throw stateError(k.state, action);
}

export async function purgeNow(ctx: KmsContext, instance: InstanceRecord, key: KeyRecord): Promise<void> {
  // The purge's feed entry is in the purge's batch.
  await ctx.store.purgeKey(
    instance.id,
    key.id,
    key.aliases,
    await lifecycleEntry(ctx, instance, key.id, 'purge', undefined, ctx.now()),
  );
  bumpEpoch(ctx);
  ctx.emit({ type: 'purge', instanceId: instance.id, keyId: key.id, crn: keyCrnOf(instance, key.id), at: ctx.now() });
}
