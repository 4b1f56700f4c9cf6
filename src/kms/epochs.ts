/**
 * The KMS's in-memory state epoch. Every key state change bumps it right after
 * its batch commits and before its event is emitted. A wrap/unwrap/rewrap notes
 * the epoch before it reads anything and checks it again after its last await;
 * if it moved, the operation is redone against the new state.
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
import type { KmsContext } from './kmsContext.js';

const epochs = new WeakMap<KmsContext, number>();

export function currentEpoch(ctx: KmsContext): number {
  return epochs.get(ctx) ?? 0;
}

export function bumpEpoch(ctx: KmsContext): void {
  epochs.set(ctx, currentEpoch(ctx) + 1);
}
