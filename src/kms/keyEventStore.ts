/**
 * The key event feed (keyEvents.ts) in the KMS key store (JsonKv, meta/kv),
 * three spaces next to the key records:
 *
 *   event  <seq, 13 hex digits>            -> FeedEvent   (LevelDB; PostgreSQL: pgKeyEvents.ts)
 *   pend   <instance>!<key>!<eventId>      -> Delivery (outstanding until event_ack)
 *   eid    <eventId>                       -> the pend key
 *
 * LevelDB (one process): appends are serialized here: the sequence number is
 * taken, the batch (with the state change it records, when there is one) is
 * written with sync, and only then is the next append let in. So the feed has
 * no holes a reader could skip over, and listeners see events in sequence
 * order, each after it is durable.
 *
 * Only the newest `retain` feed events are kept (a gateway that fell further
 * behind is told to reset, see api/eventStream.ts); outstanding deliveries are
 * kept until acknowledged.
 */
import type { JsonKv, KvOp } from '../meta/kv/jsonKv.js';
import { prefixRange } from '../meta/kv/jsonKv.js';
import {
  seqKey,
  type Delivery,
  type FeedEvent,
  type FeedEventInput,
  type FeedListener,
  type KeyEventFeed,
} from './keyEvents.js';

const SEP = '!';

export const DEFAULT_RETAINED_EVENTS = 10_000;
/** Spaces whose values are UTF-8 strings rather than JSON (the LevelDB layout). */
export const FEED_UTF8_SPACES = ['eid'] as const;

/** A feed the key store writes through: its state change and the event in one atomic write. */
export interface StoreFeed extends KeyEventFeed {
  load(): Promise<void>;
  commit(ops: readonly KvOp[], input: FeedEventInput, deliveries: readonly Omit<Delivery, 'seq'>[]): Promise<FeedEvent>;
  close(): void | Promise<void>;
}

/** The outstanding deliveries (IBM's event_ack bookkeeping), the same for every backend. */
export abstract class DeliveryBook {
  constructor(protected readonly kv: JsonKv) {}

  /** The ops that record `ds` as outstanding. */
  protected deliveryOps(ds: readonly Delivery[]): KvOp[] {
    const ops: KvOp[] = [];
    for (const d of ds) {
      const k = pendKey(d.instanceId, d.keyId, d.eventId);
      ops.push({ type: 'put', space: 'pend', key: k, value: d });
      ops.push({ type: 'put', space: 'eid', key: d.eventId, value: k });
    }
    return ops;
  }

  async listOutstanding(instanceId?: string, keyId?: string): Promise<Delivery[]> {
    const prefix =
      instanceId === undefined ? '' : keyId === undefined ? instanceId + SEP : instanceId + SEP + keyId + SEP;
    const all = (await this.kv.list<Delivery>('pend', prefix === '' ? {} : prefixRange(prefix))).map(([, v]) => v);
    return all.sort((a, b) => a.seq - b.seq || a.resourceCrn.localeCompare(b.resourceCrn));
  }

  async getDelivery(eventId: string): Promise<Delivery | undefined> {
    const k = await this.kv.get<string>('eid', eventId);
    return k === undefined ? undefined : this.kv.get<Delivery>('pend', k);
  }

  async updateDelivery(d: Delivery): Promise<void> {
    const k = pendKey(d.instanceId, d.keyId, d.eventId);
    // An acknowledged delivery is not brought back by a late webhook result.
    await this.kv.locks.run(`delivery/${d.eventId}`, async () => {
      if ((await this.kv.get('pend', k)) === undefined) return;
      await this.kv.write([{ type: 'put', space: 'pend', key: k, value: d }]);
    });
  }

  async acknowledge(eventId: string): Promise<void> {
    await this.kv.locks.run(`delivery/${eventId}`, async () => {
      const k = await this.kv.get<string>('eid', eventId);
      if (k === undefined) return;
      await this.kv.write([
        { type: 'del', space: 'pend', key: k },
        { type: 'del', space: 'eid', key: eventId },
      ]);
    });
  }
}

export class LevelKeyEvents extends DeliveryBook implements StoreFeed {
  private seq = 0;
  private first = 1;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<FeedListener>();

  constructor(
    kv: JsonKv,
    private readonly retain = DEFAULT_RETAINED_EVENTS,
  ) {
    super(kv);
  }

  /** Reads the sequence range at open. */
  async load(): Promise<void> {
    for (const k of await this.kv.keys('event', { reverse: true, limit: 1 })) this.seq = parseInt(k, 16);
    this.first = this.seq + 1;
    for (const k of await this.kv.keys('event', { limit: 1 })) this.first = parseInt(k, 16);
  }

  get lastSeq(): number {
    return this.seq;
  }

  get firstSeq(): number {
    return this.first;
  }

  append(input: FeedEventInput, deliveries: readonly Omit<Delivery, 'seq'>[] = []): Promise<FeedEvent> {
    return this.commit([], input, deliveries);
  }

  /**
   * @internal KeyStore: one batch holding the state change `ops` and the event.
   * Resolves once written and once the listeners have run.
   */
  commit(
    ops: readonly KvOp[],
    input: FeedEventInput,
    deliveries: readonly Omit<Delivery, 'seq'>[],
  ): Promise<FeedEvent> {
    const run = this.tail.then(async () => {
      const seq = this.seq + 1;
      const ev: FeedEvent = { ...input, seq };
      const ds: Delivery[] = deliveries.map((d) => ({ ...d, seq }));
      const all: KvOp[] = [...ops, { type: 'put', space: 'event', key: seqKey(seq), value: ev }];
      all.push(...this.deliveryOps(ds));
      let first = this.first;
      while (seq - first + 1 > this.retain) all.push({ type: 'del', space: 'event', key: seqKey(first++) });
      // Synced: an event is acknowledged with the state change it records.
      await this.kv.write(all);
      this.seq = seq;
      this.first = Math.min(first, seq);
      for (const l of this.listeners) {
        try {
          l(ev, ds);
        } catch {
          // A failing listener must not fail a committed change.
        }
      }
      return ev;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  async listAfter(after: number, limit = 1000): Promise<FeedEvent[]> {
    return (await this.kv.list<FeedEvent>('event', { gt: seqKey(Math.max(0, after)), limit })).map(([, v]) => v);
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Drops the listeners (store close). */
  close(): void {
    this.listeners.clear();
  }
}

export function pendKey(instanceId: string, keyId: string, eventId: string): string {
  return instanceId + SEP + keyId + SEP + eventId;
}
