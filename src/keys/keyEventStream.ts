/**
 * The split-mode gateway's end of the KMS push channel (GET /iam/v1/key-events,
 * src/iam/api/keyEventsRoute.ts): a server-sent-events connection as the
 * gateway's service identity, resumed from the last sequence received
 * (Last-Event-ID), reconnected with exponential backoff and jitter when it
 * drops, and abandoned (then reconnected) when it stays silent for three
 * heartbeats (a half-open connection).
 *
 * What it feeds: the DEK cache drops a key's DEKs on a lifecycle event, and
 * on a revoked authorization an instance's (or one key's; all of them for an
 * account-wide one); a `reset` (the gateway fell behind what the KMS keeps)
 * drops all. Lifecycle events also reach
 * onKeyEvent listeners (the eager rewrap after a rotation).
 *
 * Liveness: `isLive()` is false once nothing (event or heartbeat) arrived for
 * longer than `staleAfterMs` (the DEK cache TTL): the gateway then fails closed
 * (failClosedKeyProvider.ts) until the stream is back.
 */
import { backoffDelay } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import type { KeyEvent } from './KeyProvider.js';
import type { ServiceClient } from './serviceClient.js';

export const KEY_EVENTS_PATH = '/iam/v1/key-events';

/** A feed event as the KMS sends it (src/kms/keyEvents.ts FeedEvent). */
export interface StreamedEvent {
  seq: number;
  type: string;
  at: number;
  /** Absent for an authorization on every instance of an account. */
  instanceId?: string;
  keyId?: string;
  keyCrn?: string;
  keyVersion?: string;
  account?: string;
  resent?: boolean;
}

export interface KeyEventStreamOptions {
  client: ServiceClient;
  /** No word from the KMS for longer than this: not live (fail closed). Infinity: never stale. */
  staleAfterMs: number;
  /** Heartbeat asked of the KMS (default: a quarter of staleAfterMs, 100..5000 ms). */
  heartbeatMs?: number;
  /** Reconnect backoff (default 200 ms doubling to 5 s). */
  reconnectBaseMs?: number;
  reconnectCapMs?: number;
  now?: () => number;
  log?: Logger;
}

export interface KeyEventHandlers {
  /** A lifecycle event of one key. */
  key?(crn: string, e: StreamedEvent): void;
  /** A revoked authorization on an instance (keyId undefined), one key, or every instance of an account (both undefined). */
  revoked?(instanceId: string | undefined, keyId: string | undefined, e: StreamedEvent): void;
  /** The KMS cannot replay what was missed: drop everything cached. */
  reset?(): void;
}

const LIFECYCLE = new Set(['rotate', 'disable', 'enable', 'delete', 'restore', 'purge']);

export class KeyEventStream {
  private lastSeq?: number;
  private lastHeard: number;
  private closed = false;
  private abort?: AbortController;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly listeners = new Set<(e: KeyEvent) => void>();
  private readonly now: () => number;
  private readonly heartbeatMs: number;
  /** Resolves once the first connection is established (tests, start-up). */
  readonly connected: Promise<void>;
  private markConnected!: () => void;

  constructor(
    private readonly o: KeyEventStreamOptions,
    private readonly handlers: KeyEventHandlers = {},
  ) {
    this.now = o.now ?? Date.now;
    this.lastHeard = this.now();
    const quarter = Number.isFinite(o.staleAfterMs) ? o.staleAfterMs / 4 : 5000;
    this.heartbeatMs = o.heartbeatMs ?? Math.round(Math.min(5000, Math.max(100, quarter)));
    this.connected = new Promise((r) => (this.markConnected = r));
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  /** Heard from the KMS within staleAfterMs. */
  isLive(): boolean {
    return this.now() - this.lastHeard <= this.o.staleAfterMs;
  }

  /** The newest sequence received (what a reconnect resumes from). */
  get sequence(): number | undefined {
    return this.lastSeq;
  }

  onKeyEvent(listener: (e: KeyEvent) => void): void {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      let heard = false;
      try {
        heard = await this.connectOnce();
      } catch (e) {
        if (!this.closed) this.o.log?.warn('key event stream dropped', { err: (e as Error).message });
      }
      if (this.closed) break;
      if (heard) attempt = 0;
      const wait = backoffDelay(attempt++, {
        baseMs: this.o.reconnectBaseMs ?? 200,
        capMs: this.o.reconnectCapMs ?? 5000,
      });
      await new Promise<void>((r) => {
        const t = setTimeout(r, wait);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  /** One connection, read until it ends; true when anything was received. */
  private async connectOnce(): Promise<boolean> {
    const abort = new AbortController();
    this.abort = abort;
    const headers: Record<string, string> = {};
    if (this.lastSeq !== undefined) headers['last-event-id'] = String(this.lastSeq);
    const res = await this.o.client.open(`${KEY_EVENTS_PATH}?heartbeatMs=${this.heartbeatMs}`, {
      headers,
      signal: abort.signal,
    });
    if (res.status !== 200 || !res.body) {
      await res.arrayBuffer().catch(() => undefined);
      throw new Error(`the KMS answered ${res.status} to the key event stream`);
    }
    let heard = false;
    let lastData = this.now();
    // Three heartbeats of silence: the connection is dead even if TCP has not noticed.
    const watchdog = setInterval(() => {
      if (this.now() - lastData > 3 * this.heartbeatMs) abort.abort();
    }, this.heartbeatMs);
    watchdog.unref();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          lastData = this.now();
          this.lastHeard = lastData;
          if (!heard) {
            heard = true;
            this.markConnected();
          }
          this.handle(block);
        }
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
    } finally {
      clearInterval(watchdog);
    }
    return heard;
  }

  private handle(block: string): void {
    let event = 'message';
    let id: string | undefined;
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data += (data ? '\n' : '') + value;
    }
    if (event === 'heartbeat') return;
    if (id !== undefined && /^\d+$/.test(id)) this.lastSeq = Number(id);
    if (event === 'reset') {
      this.handlers.reset?.();
      return;
    }
    if (event !== 'key') return;
    let e: StreamedEvent;
    try {
      e = JSON.parse(data) as StreamedEvent;
    } catch {
      return;
    }
    if (e.type === 'authorization_revoked') {
      this.handlers.revoked?.(e.instanceId, e.keyId, e);
      return;
    }
    if (!LIFECYCLE.has(e.type) || typeof e.keyCrn !== 'string') return;
    this.handlers.key?.(e.keyCrn, e);
    const ke: KeyEvent = { type: e.type as KeyEvent['type'], keyCrn: e.keyCrn };
    if (e.keyVersion !== undefined) ke.keyVersion = e.keyVersion;
    for (const l of this.listeners) {
      try {
        l(ke);
      } catch {
        // one failing listener must not starve the others
      }
    }
  }
}
