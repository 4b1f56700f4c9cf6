/**
 * What the key event suites observe the KMS with: the push channel read as a
 * gateway would (GET /iam/v1/key-events, server-sent events), and a webhook
 * receiver on 127.0.0.1 that checks each delivery's HMAC-SHA256 signature the
 * way the README tells a receiver to, and answers what the test scripts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface StreamMessage {
  event: string;
  id?: string;
  data: Record<string, unknown>;
}

/** Follows the key event stream; `messages` fills as they arrive (heartbeats left out). */
export class KeyEventFollower {
  readonly messages: StreamMessage[] = [];
  private readonly abort = new AbortController();
  private done?: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  /** Resolves once the stream answered (its first message, hello or a replay, is then in `messages` soon). */
  async open(lastEventId?: number): Promise<number> {
    const res = await fetch(`${this.url}/iam/v1/key-events?heartbeatMs=200`, {
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {}),
      },
      signal: this.abort.signal,
    });
    if (res.status !== 200 || !res.body) return res.status;
    this.done = (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            this.take(buf.slice(0, end));
            buf = buf.slice(end + 2);
          }
        }
      } catch {
        // aborted by close()
      }
    })();
    return res.status;
  }

  private take(block: string): void {
    const m: StreamMessage = { event: 'message', data: {} };
    for (const line of block.split('\n')) {
      const i = line.indexOf(':');
      const field = line.slice(0, i);
      const value = line.slice(i + 1).trim();
      if (field === 'event') m.event = value;
      else if (field === 'id') m.id = value;
      else if (field === 'data') m.data = JSON.parse(value) as Record<string, unknown>;
    }
    if (m.event !== 'heartbeat') this.messages.push(m);
  }

  /** Waits until a message satisfies `match` (at most `ms`); returns it. */
  async next(match: (m: StreamMessage) => boolean, ms = 10_000): Promise<StreamMessage> {
    const t0 = Date.now();
    for (;;) {
      const m = this.messages.find(match);
      if (m) return m;
      if (Date.now() - t0 > ms) throw new Error(`no such key event within ${ms} ms: ${JSON.stringify(this.messages)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}

/** The check a webhook receiver makes: X-Coffer-Signature is sha256=<hex HMAC-SHA256 of the raw body under the secret>. */
export function signatureValid(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  const want = Buffer.from('sha256=' + createHmac('sha256', secret).update(rawBody).digest('hex'));
  const got = Buffer.from(header ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}

export interface Received {
  at: number;
  attempt: string | undefined;
  eventId: string | undefined;
  signed: boolean;
  body: Record<string, unknown>;
  answered: number;
}

/** A webhook receiver: answers each POST with the next status of `script` (then 200), after checking the signature. */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private server?: Server;
  url = '';

  /** `script`: the statuses of the next answers, in order (the test may change it meanwhile); 200 once empty. */
  constructor(
    private readonly secret: string,
    readonly script: number[] = [],
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const signed = signatureValid(this.secret, raw, req.headers['x-coffer-signature'] as string | undefined);
        // A receiver refuses what it cannot verify; the script decides the rest.
        const answered = !signed ? 401 : (this.script.shift() ?? 200);
        this.received.push({
          at: performance.now(),
          attempt: req.headers['x-coffer-delivery-attempt'] as string | undefined,
          eventId: req.headers['x-coffer-event-id'] as string | undefined,
          signed,
          body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>,
          answered,
        });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/hooks/coffer`;
    return this.url;
  }

  /** Waits until `n` deliveries arrived (at most `ms`). */
  async count(n: number, ms = 15_000): Promise<Received[]> {
    const t0 = Date.now();
    while (this.received.length < n) {
      if (Date.now() - t0 > ms) throw new Error(`${this.received.length} of ${n} webhook deliveries within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.received.slice(0, n);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
