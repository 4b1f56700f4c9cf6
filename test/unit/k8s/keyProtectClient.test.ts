/** KeyProtectClient against a scripted HTTP server on loopback: token exchange and renewal, the 401 retry, error shapes. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyProtectClient, KeyProtectError } from '../../../src/k8s/keyProtectClient.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function serve(answer: (req: Seen) => { status: number; body: unknown }): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(s);
      const a = answer(s);
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

function tokens() {
  let n = 0;
  return () => ({ status: 200, body: { access_token: `tok-${++n}`, expires_in: 120 } });
}

describe('KeyProtectClient', () => {
  it('exchanges the API key once for concurrent calls and renews the token a minute before it expires', async () => {
    const token = tokens();
    const { url, seen } = await serve((r) =>
      r.url === '/identity/token'
        ? token()
        : { status: 200, body: { ciphertext: 'c2VjcmV0', keyVersion: { id: 'ver' } } },
    );
    let t = 0;
    const c = new KeyProtectClient({ url, apiKey: 'the-api-key', instanceId: 'inst', now: () => t });
    await Promise.all([c.wrap('k', Buffer.from('a')), c.wrap('k', Buffer.from('b'))]);
    const exchanges = () => seen.filter((s) => s.url === '/identity/token');
    expect(exchanges()).toHaveLength(1);
    expect(new URLSearchParams(exchanges()[0]!.body).get('apikey')).toBe('the-api-key');
    const wrap = seen.find((s) => s.url === '/api/v2/keys/k/actions/wrap')!;
    expect(wrap.headers.authorization).toBe('Bearer tok-1');
    expect(wrap.headers['bluemix-instance']).toBe('inst');
    expect(JSON.parse(wrap.body)).toEqual({ plaintext: Buffer.from('a').toString('base64') });
    t = 59_999;
    await c.wrap('k', Buffer.from('a'));
    expect(exchanges()).toHaveLength(1);
    t = 60_000;
    await c.wrap('k', Buffer.from('a'));
    expect(exchanges()).toHaveLength(2);
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer tok-2');
  });

  it('a 401 to a live token gets one new token and one retry', async () => {
    const token = tokens();
    let refused = 0;
    const { url, seen } = await serve((r) => {
      if (r.url === '/identity/token') return token();
      if (r.headers.authorization === 'Bearer tok-1') {
        refused++;
        return { status: 401, body: { resources: [{ reasons: [{ code: 'UNAUTHORIZED_ERR', message: 'no' }] }] } };
      }
      return { status: 200, body: { plaintext: Buffer.from('pt').toString('base64'), keyVersion: { id: 'v' } } };
    });
    const c = new KeyProtectClient({ url, apiKey: 'k', instanceId: 'i' });
    expect((await c.unwrap('key', 'ct')).plaintext.toString()).toBe('pt');
    expect(refused).toBe(1);
    expect(seen.filter((s) => s.url === '/identity/token')).toHaveLength(2);
  });

  it('Key Protect errors keep status and reason; a refused API key is never echoed; an unreachable KMS is status 0', async () => {
    const { url } = await serve((r) =>
      r.url === '/identity/token'
        ? { status: 200, body: { access_token: 't', expires_in: 3600 } }
        : {
            status: 409,
            body: { resources: [{ reasons: [{ code: 'KEY_ACTION_INVALID_STATE_ERR', message: 'disabled' }] }] },
          },
    );
    const err = (await new KeyProtectClient({ url, apiKey: 'k', instanceId: 'i' })
      .wrap('k', Buffer.from('x'))
      .catch((e: unknown) => e)) as KeyProtectError;
    expect([err.status, err.reason, err.message]).toEqual([
      409,
      'KEY_ACTION_INVALID_STATE_ERR',
      '409 KEY_ACTION_INVALID_STATE_ERR: disabled',
    ]);

    await new Promise<void>((r) => server!.close(() => r()));
    const { url: url2 } = await serve(() => ({
      status: 400,
      body: { errorCode: 'BXNIM0415E', errorMessage: 'Provided API key could not be found.' },
    }));
    const refused = (await new KeyProtectClient({ url: url2, apiKey: 'super-secret-key', instanceId: 'i' })
      .wrap('k', Buffer.from('x'))
      .catch((e: unknown) => e)) as KeyProtectError;
    expect(refused.status).toBe(401);
    expect(refused.message).toBe('the KMS refused the API key (400 BXNIM0415E)');

    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    const gone = (await new KeyProtectClient({ url: url2, apiKey: 'k', instanceId: 'i', timeoutMs: 2_000 })
      .wrap('k', Buffer.from('x'))
      .catch((e: unknown) => e)) as KeyProtectError;
    expect(gone).toBeInstanceOf(KeyProtectError);
    expect(gone.status).toBe(0);
  });
});
