/**
 * One dedicated connection that LISTENs (PostgreSQL's NOTIFY) for the shared
 * KMS state, reconnecting after a failure (250 ms, doubling to 5 s). A pooled
 * connection cannot listen: the pool hands it to other queries. Notifications
 * only speed things up; whoever relies on them also polls (a notice sent while
 * the connection was down is gone), and `onReconnect` tells them to catch up.
 */
import pg from 'pg';

type Handler = (payload: string) => void;

export class PgListener {
  private client?: pg.Client;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly reconnectHooks = new Set<() => void>();
  private closed = false;
  private timer?: NodeJS.Timeout;
  private delay = 250;
  private up = false;
  /** The LISTEN of a channel added while connected, until the server has it. */
  private pending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly onError: (e: Error) => void = () => undefined,
  ) {}

  /** True while the LISTEN connection is established. */
  get connected(): boolean {
    return this.up;
  }

  start(): void {
    void this.connect();
  }

  on(channel: string, h: Handler): () => void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      if (this.up && this.client)
        this.pending = this.client.query(`LISTEN ${quoteIdent(channel)}`).catch((e: Error) => this.onError(e));
    }
    set.add(h);
    return () => set.delete(h);
  }

  /** Resolves once connected with every channel added so far listened to (at most `ms`; tests, start-up). */
  async ready(ms = 10_000): Promise<void> {
    const t0 = Date.now();
    while (!this.up && !this.closed && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 20));
    await this.pending;
  }

  onReconnect(h: () => void): () => void {
    this.reconnectHooks.add(h);
    return () => this.reconnectHooks.delete(h);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    this.client = c;
    let failed = false;
    const fail = (e?: Error) => {
      if (failed) return;
      failed = true;
      this.up = false;
      if (e) this.onError(e);
      c.end().catch(() => undefined);
      if (!this.closed) {
        this.timer = setTimeout(() => void this.connect(), this.delay);
        this.timer.unref();
        this.delay = Math.min(5_000, this.delay * 2);
      }
    };
    c.on('error', fail);
    c.on('end', () => fail());
    c.on('notification', (m) => {
      for (const h of this.handlers.get(m.channel) ?? []) {
        try {
          h(m.payload ?? '');
        } catch {
          // One failing handler must not stop the others.
        }
      }
    });
    try {
      await c.connect();
      for (const ch of this.handlers.keys()) await c.query(`LISTEN ${quoteIdent(ch)}`);
      if (this.closed || failed) return;
      this.up = true;
      this.delay = 250;
      for (const h of this.reconnectHooks) h();
    } catch (e) {
      fail(e as Error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up = false;
    if (this.timer) clearTimeout(this.timer);
    await this.client?.end().catch(() => undefined);
  }
}

function quoteIdent(s: string): string {
  return '"' + s.replace(/"/g, '""') + '"';
}
