/**
 * Webhook delivery of key lifecycle events to registered services other than
 * the gateways (a database, a cluster): each outstanding delivery whose
 * registration has a webhook (registrations.ts) is POSTed to its URL as JSON:
 *
 *   { "eventId", "eventType", "seq", "keyId", "keyCrn", "resourceCrn",
 *     "keyVersion"?, "timestamp" (RFC 3339), "resent"? }
 *
 * with `X-Coffer-Signature: sha256=<hex HMAC-SHA256 of the body under the
 * webhook's secret>`, `X-Coffer-Event-Id` and `X-Coffer-Delivery-Attempt`.
 * A 2xx answer marks it delivered; anything else (or no answer within the
 * timeout) is retried with exponential backoff and jitter (util/backoff.ts),
 * for as long as the delivery is outstanding. The receiver still acknowledges
 * with event_ack, as every adopter does.
 *
 * Durable: the attempts and the next attempt's time are stored with the
 * delivery in the event feed, and start() reschedules what is outstanding and
 * undelivered, so a restart resumes the retries. actions/sync re-sends the
 * key's outstanding deliveries at once, delivered or not.
 */
import { createHmac } from 'node:crypto';
import { backoffDelay } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import type { Delivery, FeedEvent, KeyEventFeed } from './keyEvents.js';

export const SIGNATURE_HEADER = 'x-coffer-signature';

export interface WebhookOptions {
  feed: KeyEventFeed;
  fetch?: typeof fetch;
  now?: () => number;
  random?: () => number;
  /** First retry after about this long; doubled per attempt (default 1 s). */
  baseMs?: number;
  /** Longest wait between attempts (default 5 min). */
  capMs?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  log?: Logger;
}

/** The signature header's value for `body`. */
export function signWebhook(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

export function webhookBody(d: Delivery, resent = false): string {
  return JSON.stringify({
    eventId: d.eventId,
    eventType: d.type,
    seq: d.seq,
    keyId: d.keyId,
    keyCrn: d.keyCrn,
    resourceCrn: d.resourceCrn,
    ...(d.keyVersion !== undefined ? { keyVersion: d.keyVersion } : {}),
    timestamp: new Date(d.at).toISOString(),
    ...(resent ? { resent: true } : {}),
  });
}

export class WebhookDispatcher {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private unsubscribe?: () => void;
  private closed = false;

  constructor(private readonly o: WebhookOptions) {
    this.fetchFn = o.fetch ?? fetch;
    this.now = o.now ?? Date.now;
  }

  /** Reschedules the stored outstanding deliveries, then follows the feed. */
  async start(): Promise<void> {
    this.unsubscribe = this.o.feed.subscribe((ev, ds) => this.onEvent(ev, ds));
    for (const d of await this.o.feed.listOutstanding())
      if (d.webhook && d.deliveredAt === undefined) this.schedule(d.eventId, d.nextAttemptAt ?? this.now(), false);
  }

  private onEvent(ev: FeedEvent, ds: readonly Delivery[]): void {
    for (const d of ds) if (d.webhook) this.schedule(d.eventId, this.now(), false);
    if (ev.resent && ev.instanceId !== undefined && ev.keyId !== undefined)
      this.track(
        this.o.feed.listOutstanding(ev.instanceId, ev.keyId).then((list) => {
          for (const d of list) if (d.webhook) this.schedule(d.eventId, this.now(), true);
        }),
      );
  }

  private schedule(eventId: string, at: number, resent: boolean): void {
    if (this.closed) return;
    clearTimeout(this.timers.get(eventId));
    const t = setTimeout(
      () => {
        this.timers.delete(eventId);
        this.track(this.attempt(eventId, resent));
      },
      Math.max(0, at - this.now()),
    );
    t.unref();
    this.timers.set(eventId, t);
  }

  private track(p: Promise<unknown>): void {
    const q = p.then(
      () => undefined,
      (e: unknown) => this.o.log?.warn('webhook delivery failed', { err: (e as Error).message }),
    );
    this.running.add(q);
    void q.finally(() => this.running.delete(q));
  }

  private async attempt(eventId: string, resent: boolean): Promise<void> {
    const d = await this.o.feed.getDelivery(eventId);
    if (!d?.webhook || this.closed) return;
    const body = webhookBody(d, resent);
    const attempt = d.attempts + 1;
    let ok = false;
    let status = 'no answer';
    try {
      const res = await this.fetchFn(d.webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(d.webhook.secret, body),
          'x-coffer-event-id': d.eventId,
          'x-coffer-delivery-attempt': String(attempt),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      ok = res.status >= 200 && res.status < 300;
      status = String(res.status);
    } catch {
      ok = false;
    }
    if (this.closed) return;
    const { nextAttemptAt: _n, deliveredAt: _d, ...rest } = d;
    if (ok) {
      await this.o.feed.updateDelivery({ ...rest, attempts: attempt, deliveredAt: this.now() });
      return;
    }
    const next =
      this.now() +
      backoffDelay(d.attempts, {
        baseMs: this.o.baseMs ?? 1000,
        capMs: this.o.capMs ?? 300_000,
        ...(this.o.random ? { random: this.o.random } : {}),
      });
    // The URL names the receiver, not a secret; the signature and secret are never logged.
    this.o.log?.warn('webhook delivery refused; retrying', { eventId, status, attempt });
    await this.o.feed.updateDelivery({ ...rest, attempts: attempt, nextAttemptAt: next });
    this.schedule(eventId, next, resent);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.running]);
  }
}
