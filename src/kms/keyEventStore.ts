/**
 * The key event feed (keyEvents.ts) in the KMS key store's LevelDB, three
 * sublevels next to the key records:
 *
 *   event  <seq, 13 hex digits>            -> FeedEvent
 *   pend   <instance>!<key>!<eventId>      -> Delivery (outstanding until event_ack)
 *   eid    <eventId>                       -> the pend key
 *
 * Appends are serialized: the sequence number is taken, the batch (with the
 * state change it records, when there is one) is written with sync, and only
 * then is the next append let in. So the feed has no holes a reader could skip
 * over, and listeners see events in sequence order, each after it is durable.
 *
 * Only the newest `retain` feed events are kept (a gateway that fell further
 * behind is told to reset, see api/eventStream.ts); outstanding deliveries are
 * kept until acknowledged.
 */
import type { Level } from 'level';
import {
  seqKey,
  type Delivery,
  type FeedEvent,
  type FeedEventInput,
  type FeedListener,
  type KeyEventFeed,
} from './keyEvents.js';

type Db = Level<string, unknown>;
type Chain = ReturnType<Db['batch']>;

const SEP = '!';
const HIGH = '\uffff';

export const DEFAULT_RETAINED_EVENTS = 10_000;

export class LevelKeyEvents implements KeyEventFeed {
  private readonly event;
  private readonly pend;
  private readonly eid;
  private seq = 0;
  private first = 1;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<FeedListener>();

  constructor(
    private readonly db: Db,
    private readonly retain = DEFAULT_RETAINED_EVENTS,
  ) {
    this.event = db.sublevel<string, FeedEvent>('event', { valueEncoding: 'json' });
    this.pend = db.sublevel<string, Delivery>('pend', { valueEncoding: 'json' });
    this.eid = db.sublevel<string, string>('eid', { valueEncoding: 'utf8' });
  }

  /** Reads the sequence range at open. */
  async load(): Promise<void> {
    for await (const k of this.event.keys({ reverse: true, limit: 1 })) this.seq = parseInt(k, 16);
    this.first = this.seq + 1;
    for await (const k of this.event.keys({ limit: 1 })) this.first = parseInt(k, 16);
  }

  get lastSeq(): number {
    return this.seq;
  }

  get firstSeq(): number {
    return this.first;
  }

  append(input: FeedEventInput, deliveries: readonly Omit<Delivery, 'seq'>[] = []): Promise<FeedEvent> {
    return this.commit(undefined, input, deliveries);
  }

  /**
   * @internal KeyStore: one batch holding `fill`'s state change and the event.
   * Resolves once written and once the listeners have run.
   */
  commit(
    fill: ((chain: Chain) => void) | undefined,
    input: FeedEventInput,
    deliveries: readonly Omit<Delivery, 'seq'>[],
  ): Promise<FeedEvent> {
    const run = this.tail.then(async () => {
      const seq = this.seq + 1;
      const ev: FeedEvent = { ...input, seq };
      const ds: Delivery[] = deliveries.map((d) => ({ ...d, seq }));
      const chain = this.db.batch();
      fill?.(chain);
      chain.put(seqKey(seq), ev, { sublevel: this.event });
      for (const d of ds) {
        const k = pendKey(d.instanceId, d.keyId, d.eventId);
        chain.put(k, d, { sublevel: this.pend });
        chain.put(d.eventId, k, { sublevel: this.eid });
      }
      let first = this.first;
      while (seq - first + 1 > this.retain) chain.del(seqKey(first++), { sublevel: this.event });
      // sync: an event is acknowledged with the state change it records.
      await chain.write({ sync: true });
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
    return this.event.values({ gt: seqKey(Math.max(0, after)), limit }).all();
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async listOutstanding(instanceId?: string, keyId?: string): Promise<Delivery[]> {
    const prefix =
      instanceId === undefined ? '' : keyId === undefined ? instanceId + SEP : instanceId + SEP + keyId + SEP;
    const all = await this.pend.values(prefix === '' ? {} : { gt: prefix, lt: prefix + HIGH }).all();
    return all.sort((a, b) => a.seq - b.seq || a.resourceCrn.localeCompare(b.resourceCrn));
  }

  async getDelivery(eventId: string): Promise<Delivery | undefined> {
    const k = await this.eid.get(eventId);
    return k === undefined ? undefined : this.pend.get(k);
  }

  async updateDelivery(d: Delivery): Promise<void> {
    const k = pendKey(d.instanceId, d.keyId, d.eventId);
    // An acknowledged delivery is not brought back by a late webhook result.
    if ((await this.pend.get(k)) === undefined) return;
    await this.db.batch().put(k, d, { sublevel: this.pend }).write({ sync: true });
  }

  async acknowledge(eventId: string): Promise<void> {
    const k = await this.eid.get(eventId);
    if (k === undefined) return;
    await this.db.batch().del(k, { sublevel: this.pend }).del(eventId, { sublevel: this.eid }).write({ sync: true });
  }

  /** Drops the listeners (store close). */
  close(): void {
    this.listeners.clear();
  }
}

function pendKey(instanceId: string, keyId: string, eventId: string): string {
  return instanceId + SEP + keyId + SEP + eventId;
}
