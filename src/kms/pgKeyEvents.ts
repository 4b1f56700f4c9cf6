/**
 * The key event feed (keyEvents.ts) in the shared PostgreSQL database, for
 * several processes serving one KMS (COFFER_KMS_STORE_URL):
 *
 *   coffer_key_events     (seq, ev)   the feed, newest `retain` kept
 *   coffer_key_event_head (1, seq)    the last sequence number handed out
 *   coffer_kv pend / eid              outstanding deliveries, as with LevelDB
 *
 * A state change and its event are one transaction: it takes the next number
 * by UPDATE ... RETURNING on the head row, whose row lock it keeps until
 * COMMIT, so numbers are committed in order and a reader that sees seq n has
 * every event below n too (no holes to skip over). The transaction also
 * NOTIFYs coffer_key_events (delivered on commit).
 *
 * Every process reads the feed after its cursor when notified and at least
 * every `pollMs` (250 ms) whatever the LISTEN connection is doing, and hands
 * each event to its subscribers in sequence order, its own events included:
 * that is how a disable on one process drops the DEKs cached by all of them.
 * Only the process that committed an event hands its deliveries to its
 * subscribers (the webhook dispatcher), so each webhook is sent once, not once
 * per process; the others get the event alone. (A delivery left undelivered by
 * a process that died is rescheduled by the next one to start, webhooks.ts.)
 * A poll that answered proves the process has seen every event up to then;
 * `isLive()` is false once none has answered for `staleAfterMs` (the DEK
 * cache TTL), and the process then fails closed (FailClosedKeyProvider).
 */
import type pg from 'pg';
import type { KvOp } from '../meta/kv/jsonKv.js';
import type { PgJsonKv } from '../meta/kv/pgJsonKv.js';
import { DEFAULT_RETAINED_EVENTS, DeliveryBook, type StoreFeed } from './keyEventStore.js';
import type { Delivery, FeedEvent, FeedEventInput, FeedListener } from './keyEvents.js';

export const EVENTS_CHANNEL = 'coffer_key_events';

export interface PgKeyEventsOptions {
  retain?: number;
  /** Longest time between two reads of the feed (default 250 ms). */
  pollMs?: number;
  /** How long the last successful read proves the process current (default: forever). */
  staleAfterMs?: number;
  now?: () => number;
  onError?: (e: Error) => void;
}

export class PgKeyEvents extends DeliveryBook implements StoreFeed {
  private cursor = 0;
  private first = 1;
  private readonly listeners = new Set<FeedListener>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private again = false;
  private lastOk = 0;
  private closed = false;
  private unlisten: Array<() => void> = [];
  private readonly now: () => number;
  /** Sequence numbers this process committed, until its subscribers have seen them. */
  private readonly own = new Set<number>();

  constructor(
    private readonly pkv: PgJsonKv,
    private readonly o: PgKeyEventsOptions = {},
  ) {
    super(pkv);
    this.now = o.now ?? Date.now;
  }

  private get pool(): pg.Pool {
    return this.pkv.db.pool;
  }

  /** Start at the current head (older events were for the processes running then), and start following. */
  async load(): Promise<void> {
    const r = await this.pool.query<{ seq: string }>('SELECT seq FROM coffer_key_event_head WHERE id = 1');
    this.cursor = Number(r.rows[0]?.seq ?? 0);
    await this.readFirst();
    this.lastOk = this.now();
    this.unlisten.push(
      this.pkv.db.listener.on(EVENTS_CHANNEL, () => this.kick()),
      this.pkv.db.listener.onReconnect(() => this.kick()),
    );
    const tick = () => {
      if (this.closed) return;
      this.kick();
      this.timer = setTimeout(tick, this.o.pollMs ?? 250);
      this.timer.unref();
    };
    tick();
  }

  private async readFirst(): Promise<void> {
    const r = await this.pool.query<{ s: string | null }>('SELECT min(seq) AS s FROM coffer_key_events');
    this.first = r.rows[0]?.s == null ? this.cursor + 1 : Number(r.rows[0].s);
  }

  /** True while a read of the feed answered within `staleAfterMs`. */
  isLive(): boolean {
    return this.now() - this.lastOk <= (this.o.staleAfterMs ?? Infinity);
  }

  get lastSeq(): number {
    return this.cursor;
  }

  get firstSeq(): number {
    return this.first;
  }

  /** Read now (coalesced: one read at a time, and one more if asked during it). */
  private kick(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      do {
        this.again = false;
        await this.poll();
      } while (this.again && !this.closed);
    })().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    try {
      for (;;) {
        const started = this.now();
        const evs = await this.listAfter(this.cursor, 1000);
        for (const ev of evs) {
          this.cursor = ev.seq;
          // Deliveries go with the event to the webhook dispatcher of the process that made the change.
          const mine = this.own.delete(ev.seq);
          const ds = mine && this.listeners.size ? await this.deliveriesOf(ev) : [];
          for (const l of this.listeners) {
            try {
              l(ev, ds);
            } catch {
              // A failing listener must not stop the feed.
            }
          }
        }
        if (evs.length < 1000) {
          // Proof up to the moment the read began.
          this.lastOk = Math.max(this.lastOk, started);
          break;
        }
      }
      if (this.cursor >= this.first + (this.o.retain ?? DEFAULT_RETAINED_EVENTS)) await this.readFirst();
    } catch (e) {
      this.o.onError?.(e as Error);
    }
  }

  private async deliveriesOf(ev: FeedEvent): Promise<Delivery[]> {
    if (ev.keyId === undefined) return [];
    return (await this.listOutstanding(ev.instanceId, ev.keyId)).filter((d) => d.seq === ev.seq);
  }

  append(input: FeedEventInput, deliveries: readonly Omit<Delivery, 'seq'>[] = []): Promise<FeedEvent> {
    return this.commit([], input, deliveries);
  }

  /** The state change `ops` and its event in one transaction; resolves once this process's subscribers saw it. */
  async commit(
    ops: readonly KvOp[],
    input: FeedEventInput,
    deliveries: readonly Omit<Delivery, 'seq'>[],
  ): Promise<FeedEvent> {
    const retain = this.o.retain ?? DEFAULT_RETAINED_EVENTS;
    // Marked as ours before COMMIT (a poll may read it the moment it commits); an attempt that
    // rolled back gives its number up, another process may take it.
    let attemptSeq: number | undefined;
    const ev = await this.pkv
      .transaction(async (tx) => {
        if (attemptSeq !== undefined) this.own.delete(attemptSeq);
        const r = await tx.client.query<{ seq: string }>(
          'UPDATE coffer_key_event_head SET seq = seq + 1 WHERE id = 1 RETURNING seq',
        );
        const seq = Number(r.rows[0]!.seq);
        attemptSeq = seq;
        this.own.add(seq);
        const e: FeedEvent = { ...input, seq };
        await tx.apply([...ops, ...this.deliveryOps(deliveries.map((d) => ({ ...d, seq })))]);
        await tx.client.query('INSERT INTO coffer_key_events (seq, ev) VALUES ($1, $2)', [seq, JSON.stringify(e)]);
        if (seq > retain) await tx.client.query('DELETE FROM coffer_key_events WHERE seq <= $1', [seq - retain]);
        if (this.pkv.db.canNotify) await tx.client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, String(seq)]);
        return e;
      })
      .catch((err: unknown) => {
        if (attemptSeq !== undefined) this.own.delete(attemptSeq);
        throw err;
      });
    // Our own subscribers hear of it as every other process's do, in order; the change is committed either way.
    if (!this.closed) await this.kick();
    return ev;
  }

  async listAfter(after: number, limit = 1000): Promise<FeedEvent[]> {
    const r = await this.pool.query<{ ev: string }>(
      'SELECT ev FROM coffer_key_events WHERE seq > $1 ORDER BY seq LIMIT $2',
      [Math.max(0, after), limit],
    );
    return r.rows.map((x) => JSON.parse(x.ev) as FeedEvent);
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const u of this.unlisten) u();
    this.listeners.clear();
  }
}
