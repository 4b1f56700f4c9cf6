/**
 * The key event feed: every key lifecycle change (rotate, disable, enable,
 * delete, restore, purge) and every service-to-service authorization granted or
 * revoked gets one feed event with a sequence number that only grows. Split-mode
 * gateways follow the feed over the push channel (api/eventStream.ts) and resume
 * from the last sequence they saw; webhooks (webhooks.ts) deliver it to other
 * registered services.
 *
 * IBM's adopter semantics ride on top: a lifecycle event on a key with
 * registrations gives each registration one outstanding delivery with its own
 * `eventId`, which stays outstanding until that resource's service acknowledges
 * it with POST /api/v2/event_ack (key-protect.md 1.6).
 *
 * This file is the seam: the interface a store implements. The LevelDB one is
 * keyEventStore.ts (in the KMS key store, written in the state change's batch);
 * a PostgreSQL one can implement the same interface.
 */
import type { LifecycleEventType } from './records.js';

export type AuthorizationEventType = 'authorization_granted' | 'authorization_revoked';
export type FeedEventType = LifecycleEventType | AuthorizationEventType;

/** What a state change appends; the feed assigns `seq`. */
export interface FeedEventInput {
  type: FeedEventType;
  /** Epoch ms. */
  at: number;
  /** Absent for an authorization on every KMS instance of an account (no serviceInstance). */
  instanceId?: string;
  /** Absent for an authorization on a whole instance. */
  keyId?: string;
  /** CRN of the key (lifecycle events). */
  keyCrn?: string;
  /** Newest key version after the event. */
  keyVersion?: string;
  /** The source account of an authorization event. */
  account?: string;
  /** A re-send by actions/sync of the key's last lifecycle event. */
  resent?: boolean;
}

export interface FeedEvent extends FeedEventInput {
  seq: number;
}

/** Where a registered service wants lifecycle events POSTed (registrations.ts); the secret signs them. */
export interface WebhookTarget {
  url: string;
  secret: string;
}

/** One registration's copy of a lifecycle event, outstanding until acknowledged. */
export interface Delivery {
  eventId: string;
  /** The feed event it belongs to. */
  seq: number;
  type: LifecycleEventType;
  at: number;
  instanceId: string;
  keyId: string;
  keyCrn: string;
  keyVersion?: string;
  resourceCrn: string;
  webhook?: WebhookTarget;
  /** Webhook attempts so far. */
  attempts: number;
  /** Epoch ms of the next webhook attempt (absent: none scheduled). */
  nextAttemptAt?: number;
  /** Epoch ms when the webhook answered 2xx. */
  deliveredAt?: number;
}

export type FeedListener = (event: FeedEvent, deliveries: readonly Delivery[]) => void;

export interface KeyEventFeed {
  /** Sequence of the newest event (0 when none yet). */
  readonly lastSeq: number;
  /** Sequence of the oldest event still kept (older ones were trimmed); lastSeq + 1 when empty. */
  readonly firstSeq: number;
  /** Appends on its own (authorization events); resolves once durable, after listeners ran. */
  append(event: FeedEventInput, deliveries?: readonly Omit<Delivery, 'seq'>[]): Promise<FeedEvent>;
  /** Events with seq > `after`, oldest first, at most `limit`. */
  listAfter(after: number, limit?: number): Promise<FeedEvent[]>;
  /** Called in sequence order after each append commits; returns the unsubscribe. */
  subscribe(listener: FeedListener): () => void;
  /** Outstanding deliveries of one key, oldest first; or of every key. */
  listOutstanding(instanceId?: string, keyId?: string): Promise<Delivery[]>;
  getDelivery(eventId: string): Promise<Delivery | undefined>;
  /** Stores new webhook bookkeeping for a delivery (attempts, next attempt, delivered). */
  updateDelivery(d: Delivery): Promise<void>;
  /** event_ack: the delivery is no longer outstanding. */
  acknowledge(eventId: string): Promise<void>;
}

/** Sequence numbers as sortable LevelDB keys. */
export function seqKey(seq: number): string {
  return seq.toString(16).padStart(13, '0');
}
