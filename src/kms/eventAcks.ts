/**
 * IBM's adopter bookkeeping over the event feed (keyEvents.ts): the outstanding
 * deliveries of a key (GET /api/v2/keys/{id}/events) and their acknowledgement
 * by the registered service (POST /api/v2/event_ack). An acknowledgement may
 * also drop the registration (`deleteRegistration`), in any key state: a
 * service acknowledging a delete or purge is letting go of the key.
 */
import { KmsError } from '../keys/errors.js';
import type { Delivery } from './keyEvents.js';
import { assertAction, getInstanceOr404, loadKey, lockName, type KmsContext } from './kmsContext.js';

export async function listOutstanding(ctx: KmsContext, instanceId: string, idOrAlias: string): Promise<Delivery[]> {
  const k = await loadKey(ctx, instanceId, idOrAlias);
  assertAction(k, 'listRegistrations');
  return ctx.store.events.listOutstanding(k.instance.id, k.key.id);
}

function eventNotFound(eventId: string): KmsError {
  return new KmsError('NOT_FOUND_ERR', `Event ${eventId} could not be found or was already acknowledged`);
}

/** Clears one outstanding delivery of the instance; returns it (for the audit entry). */
export async function acknowledge(
  ctx: KmsContext,
  instanceId: string,
  eventId: string,
  opts: { deleteRegistration?: boolean } = {},
): Promise<Delivery> {
  const inst = await getInstanceOr404(ctx, instanceId);
  const d = await ctx.store.events.getDelivery(eventId);
  // Another instance's event is as unknown as one that never existed.
  if (!d || d.instanceId !== inst.id) throw eventNotFound(eventId);
  await ctx.locks.run(lockName(d.instanceId, d.keyId), async () => {
    await ctx.store.events.acknowledge(eventId);
    if (opts.deleteRegistration && (await ctx.store.getRegistration(d.instanceId, d.keyId, d.resourceCrn)))
      await ctx.store.batch().delRegistration(d.instanceId, d.keyId, d.resourceCrn).write();
  });
  return d;
}
