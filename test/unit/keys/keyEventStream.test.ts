import { describe, expect, it } from 'vitest';
import { KeyEventStream, type KeyEventHandlers } from '../../../src/keys/keyEventStream.js';
import type { ServiceClient } from '../../../src/keys/serviceClient.js';

/** A ServiceClient whose event stream is what the test writes; each open() is recorded with its headers. */
function fakeClient() {
  const opens: Array<Record<string, string>> = [];
  let push: ((s: string) => void) | undefined;
  let end: (() => void) | undefined;
  const client = {
    open: async (_path: string, o: { headers?: Record<string, string>; signal?: AbortSignal }) => {
      opens.push(o.headers ?? {});
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          push = (s) => c.enqueue(new TextEncoder().encode(s));
          end = () => c.close();
          o.signal?.addEventListener('abort', () => c.error(new Error('aborted')));
        },
      });
      return new Response(body, { status: 200 });
    },
  } as unknown as ServiceClient;
  return { client, opens, send: (s: string) => push!(s), drop: () => end!() };
}

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(ok()).toBe(true);
};

describe('KeyEventStream', () => {
  it('routes lifecycle events, revokes (instance, key, account-wide) and resets to their handlers', async () => {
    const { client, send } = fakeClient();
    const seen: string[] = [];
    const handlers: KeyEventHandlers = {
      key: (crn, e) => seen.push(`key ${e.type} ${crn}`),
      revoked: (instanceId, keyId) => seen.push(`revoked ${instanceId ?? '*'} ${keyId ?? '*'}`),
      reset: () => seen.push('reset'),
    };
    const s = new KeyEventStream({ client, staleAfterMs: 60_000, reconnectBaseMs: 1 }, handlers);
    s.start();
    const msg = (seq: number, data: object) => `id: ${seq}\nevent: key\ndata: ${JSON.stringify(data)}\n\n`;
    send('id: 0\nevent: hello\ndata: {"seq":0}\n\n');
    send(msg(1, { seq: 1, type: 'disable', at: 1, instanceId: 'i1', keyId: 'k1', keyCrn: 'crn-k1' }));
    send(msg(2, { seq: 2, type: 'authorization_revoked', at: 2, instanceId: 'i1' }));
    send(msg(3, { seq: 3, type: 'authorization_revoked', at: 3, instanceId: 'i1', keyId: 'k2' }));
    // An account-wide grant names no instance.
    send(msg(4, { seq: 4, type: 'authorization_revoked', at: 4, account: 'a1' }));
    send(msg(5, { seq: 5, type: 'authorization_granted', at: 5, instanceId: 'i1' }));
    send('event: heartbeat\ndata: {"seq":5}\n\n');
    send('id: 9\nevent: reset\ndata: {"seq":9}\n\n');
    await until(() => seen.length === 5);
    expect(seen).toEqual(['key disable crn-k1', 'revoked i1 *', 'revoked i1 k2', 'revoked * *', 'reset']);
    expect(s.sequence).toBe(9);
    await s.close();
  });

  it('reconnects after the stream ends, resuming from the last sequence (Last-Event-ID)', async () => {
    const f = fakeClient();
    const s = new KeyEventStream({ client: f.client, staleAfterMs: 60_000, reconnectBaseMs: 1, reconnectCapMs: 2 });
    s.start();
    f.send('id: 0\nevent: hello\ndata: {"seq":0}\n\n');
    f.send(
      `id: 7\nevent: key\ndata: ${JSON.stringify({ seq: 7, type: 'rotate', at: 1, instanceId: 'i', keyCrn: 'c' })}\n\n`,
    );
    await until(() => s.sequence === 7);
    f.drop();
    await until(() => f.opens.length === 2);
    expect(f.opens[0]!['last-event-id']).toBeUndefined();
    expect(f.opens[1]!['last-event-id']).toBe('7');
    await s.close();
  });

  it('is live while heard from within staleAfterMs, not after', async () => {
    let t = 0;
    const f = fakeClient();
    const s = new KeyEventStream({ client: f.client, staleAfterMs: 1000, now: () => t });
    s.start();
    f.send('id: 0\nevent: hello\ndata: {"seq":0}\n\n');
    await s.connected;
    t = 1000;
    expect(s.isLive()).toBe(true);
    t = 1001;
    expect(s.isLive()).toBe(false);
    f.send('event: heartbeat\ndata: {"seq":0}\n\n');
    await until(() => s.isLive());
    await s.close();
  });
});
