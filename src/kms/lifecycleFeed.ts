/**
 * The feed entry of a key lifecycle change (keyEvents.ts): the event, and one
 * outstanding delivery per registration on the key, each with its own eventId
 * (what the registered service acknowledges with event_ack) and the
 * registration's webhook when it has one. Read under the key's lock, so the
 * registrations are those the change saw.
 */
import type { Delivery, FeedEventInput } from './keyEvents.js';
import { formatKeyCrn } from '../keys/crn.js';
import type { KeyStore } from './keyStore.js';
import type { InstanceRecord, LifecycleEventType } from './records.js';

export interface FeedEntry {
  input: FeedEventInput;
  deliveries: Omit<Delivery, 'seq'>[];
}

/** What the entry needs of the KMS context (kmsContext.ts imports this file: no import back). */
interface EntryContext {
  store: KeyStore;
  newId(): string;
}

export async function lifecycleEntry(
  ctx: EntryContext,
  instance: InstanceRecord,
  keyId: string,
  type: LifecycleEventType,
  keyVersion: string | undefined,
  at: number,
): Promise<FeedEntry> {
  const keyCrn = formatKeyCrn({ region: instance.region, account: instance.account, instanceId: instance.id, keyId });
  const input: FeedEventInput = { type, at, instanceId: instance.id, keyId, keyCrn };
  if (keyVersion !== undefined) input.keyVersion = keyVersion;
  const regs = await ctx.store.listRegistrations(instance.id, keyId);
  const deliveries = regs.map((r) => {
    const d: Omit<Delivery, 'seq'> = {
      eventId: ctx.newId(),
      type,
      at,
      instanceId: instance.id,
      keyId,
      keyCrn,
      resourceCrn: r.resourceCrn,
      attempts: 0,
    };
    if (keyVersion !== undefined) d.keyVersion = keyVersion;
    if (r.webhook) d.webhook = r.webhook;
    return d;
  });
  return { input, deliveries };
}
