/**
 * RemoteKeyProvider: the KeyProvider contract against a real KMS listener
 * (startKmsServer, the `coffer kms` composition root, on an ephemeral port with
 * a manual clock), then the HTTP edges with a scripted fetch: status and reason
 * mapping, retries, token reuse and refresh, headers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { ServiceClient } from '../../../src/keys/serviceClient.js';
import { formatKeyCrn } from '../../../src/keys/crn.js';
import { KmsError } from '../../../src/keys/errors.js';
import { RemoteKeyProvider } from '../../../src/keys/remoteKeyProvider.js';
import { startKmsServer, type KmsServer } from '../../../src/server/kmsServer.js';
import { createLogger } from '../../../src/util/logger.js';
import { keyProviderContract } from '../../contract/keyProvider.contract.js';

const GATEWAY_APIKEY = 'unit-gateway-apikey-0123456789';

interface Shared {
  kms: KmsServer;
  dir: string;
  instanceId: string;
  advance(ms: number): void;
}

let shared: Promise<Shared> | undefined;

/** One KMS process-equivalent for the whole contract suite; every test makes its own keys. */
function kmsOnce(): Promise<Shared> {
  shared ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'coffer-remote-kp-'));
    let t = Date.now();
    const config = loadConfig(
      {},
      {
        host: '127.0.0.1',
        s3Port: 0,
        kmsPort: 0,
        dataDir: dir,
        masterKey: Buffer.alloc(32, 9).toString('base64'),
        rootApiKey: 'unit-root-apikey-0123456789',
        gatewayApiKey: GATEWAY_APIKEY,
        logLevel: 'silent',
        region: 'us-south',
      },
    );
    const kms = await startKmsServer(config, createLogger('silent'), { now: () => t });
    const instanceId = await kms.kms.ensureTenant(kms.root.accountId);
    return { kms, dir, instanceId, advance: (ms) => void (t += ms) };
  })();
  return shared;
}

afterAll(async () => {
  if (!shared) return;
  const s = await shared;
  await s.kms.close();
  await rm(s.dir, { recursive: true, force: true });
});

const keyIdOf = (crn: string) => crn.split(':')[9] ?? '';

keyProviderContract('RemoteKeyProvider', async () => {
  const s = await kmsOnce();
  const service = s.kms.kms.local.service;
  const provider = new RemoteKeyProvider(new ServiceClient({ url: s.kms.url, apiKey: GATEWAY_APIKEY }));
  const inst = await service.getInstance(s.instanceId);
  return {
    provider,
    tenant: s.kms.root.accountId,
    otherTenant: 'another-tenant',
    createRootKey: async () => (await service.createKey(s.instanceId, { name: 'contract-root' })).crn,
    unknownKeyCrn: async () =>
      formatKeyCrn({ region: inst.region, account: inst.account, instanceId: inst.id, keyId: randomUUID() }),
    rotate: async (crn) => void (await service.rotate(s.instanceId, keyIdOf(crn))),
    disable: (crn) => service.disable(s.instanceId, keyIdOf(crn)),
    enable: (crn) => service.enable(s.instanceId, keyIdOf(crn)),
    deleteKey: async (crn, o) =>
      void (await service.deleteKey(s.instanceId, keyIdOf(crn), { force: o?.force ?? false })),
    restore: async (crn) => void (await service.restore(s.instanceId, keyIdOf(crn))),
    advanceTime: async (ms) => s.advance(ms),
    close: async () => undefined,
  };
});

describe('RemoteKeyProvider against a real KMS listener', () => {
  it('refuses a CRN that is not exactly the KMS CRN of the key (alias, other region or account) like an unknown key', async () => {
    const s = await kmsOnce();
    const service = s.kms.kms.local.service;
    const key = await service.createKey(s.instanceId, { name: 'exact-crn', aliases: ['exact-alias'] });
    const provider = new RemoteKeyProvider(new ServiceClient({ url: s.kms.url, apiKey: GATEWAY_APIKEY }));
    const me = { tenant: s.kms.root.accountId };
    await provider.generateDataKey(me, key.crn, ['a']);
    for (const crn of [
      key.crn.replace(/key:[^:]+$/, 'key:exact-alias'),
      key.crn.replace(':us-south:', ':eu-de:'),
      key.crn.replace('crn:v1:coffer:local:', 'crn:v1:bluemix:public:'),
    ]) {
      const e = await provider.generateDataKey(me, crn, ['a']).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(KmsError);
      expect(e).toMatchObject({
        status: 404,
        reason: 'KEY_NOT_FOUND_ERR',
        message: `The key ${crn} could not be found`,
      });
    }
  });

  it("findKeyByAlias: the aliased key's exact CRN for a tenant that may use it; otherwise not found", async () => {
    const s = await kmsOnce();
    const service = s.kms.kms.local.service;
    const key = await service.createKey(s.instanceId, { name: 'aliased', aliases: ['remote-alias'] });
    const other = await service.createKey(s.instanceId, { name: 'same-instance' });
    const provider = new RemoteKeyProvider(new ServiceClient({ url: s.kms.url, apiKey: GATEWAY_APIKEY }));
    const me = { tenant: s.kms.root.accountId };
    expect(await provider.findKeyByAlias(me, other.crn, 'remote-alias')).toBe(key.crn);
    const refusals: Array<[{ tenant: string }, string]> = [
      [me, 'no-such-alias'],
      [me, key.id], // an id is not an alias
      [{ tenant: 'another-tenant' }, 'remote-alias'],
    ];
    for (const [caller, alias] of refusals) {
      const e = await provider.findKeyByAlias(caller, other.crn, alias).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toMatchObject({ status: 404, reason: 'KEY_NOT_FOUND_ERR' });
    }
  });

  it('a KMS that is not listening is 503 KMS_UNAVAILABLE after the bounded retries', async () => {
    const provider = new RemoteKeyProvider(
      new ServiceClient({ url: 'http://127.0.0.1:9', apiKey: GATEWAY_APIKEY, retries: 2, retryBaseMs: 1 }),
    );
    const s = await kmsOnce();
    const e = await provider.unwrap({ tenant: 't' }, s.kms.defaultRootKeyCrn, 'x', []).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ status: 503, reason: 'KMS_UNAVAILABLE' });
  });

  it('an API key the KMS does not know is 503 KMS_UNAVAILABLE, not a key error', async () => {
    const s = await kmsOnce();
    const provider = new RemoteKeyProvider(
      new ServiceClient({ url: s.kms.url, apiKey: 'not-the-gateway-apikey-000000' }),
    );
    const e = await provider.generateDataKey({ tenant: s.kms.root.accountId }, s.kms.defaultRootKeyCrn, []).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ status: 503, reason: 'KMS_UNAVAILABLE' });
  });

  it('a user identity cannot act for a tenant: the KMS refuses x-coffer-tenant, which reads as not found', async () => {
    const s = await kmsOnce();
    const provider = new RemoteKeyProvider(
      new ServiceClient({ url: s.kms.url, apiKey: 'unit-root-apikey-0123456789' }),
    );
    const e = await provider.generateDataKey({ tenant: s.kms.root.accountId }, s.kms.defaultRootKeyCrn, []).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ status: 404, reason: 'KEY_NOT_FOUND_ERR' });
  });
});

// ---- HTTP edges with a scripted fetch ------------------------------------------

const CRN = 'crn:v1:coffer:local:kms:us-south:a/acct:inst-1:key:key-1';
const META = { resources: [{ id: 'key-1', crn: CRN, state: 1 }] };

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function scripted(handler: (req: Seen, n: number) => Response | Promise<Response>): {
  fetch: typeof fetch;
  seen: Seen[];
} {
  const seen: Seen[] = [];
  const f = (async (input: string | URL | Request, init?: RequestInit) => {
    const req: Seen = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: { ...(init?.headers as Record<string, string>) },
      body: init?.body as string | undefined,
    };
    seen.push(req);
    return handler(req, seen.length);
  }) as typeof fetch;
  return { fetch: f, seen };
}

const jsonRes = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const token = (exp: number, ttl = 3600) =>
  jsonRes(200, { access_token: `tok-${exp}`, expires_in: ttl, expiration: exp });
const kpError = (status: number, code: string, message = 'why') =>
  jsonRes(status, {
    metadata: { collectionType: 'application/vnd.ibm.kms.error+json', collectionTotal: 1 },
    resources: [{ errorMsg: 'x', reasons: [{ code, message, status }] }],
  });

function provider(f: typeof fetch, now = () => 1_000_000_000_000, retries = 3): RemoteKeyProvider {
  return new RemoteKeyProvider(
    new ServiceClient({
      url: 'http://kms.test',
      apiKey: 'k-0123456789abcdef',
      fetch: f,
      now,
      retries,
      retryBaseMs: 1,
      sleep: async () => undefined,
    }),
  );
}

async function failure(p: Promise<unknown>): Promise<KmsError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(KmsError);
  return e as KmsError;
}

describe('RemoteKeyProvider HTTP edges', () => {
  it('sends the bearer token, bluemix-instance from the CRN, x-coffer-tenant and the correlation id; token exchanged once', async () => {
    const { fetch: f, seen } = scripted((req) => {
      if (req.url.endsWith('/identity/token')) return token(2_000_000_000);
      if (req.url.endsWith('/metadata')) return jsonRes(200, META);
      return jsonRes(200, { plaintext: Buffer.alloc(32, 1).toString('base64'), keyVersion: { id: 'v1' } });
    });
    const p = provider(f);
    await Promise.all([
      p.unwrap({ tenant: 'acct', requestId: 'REQ1' }, CRN, 'wrapped', ['a']),
      p.unwrap({ tenant: 'acct' }, CRN, 'wrapped', ['a']),
    ]);
    expect(seen.filter((s) => s.url.endsWith('/identity/token'))).toHaveLength(1);
    expect(seen[0]!.body).toContain('grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey');
    const unwrap = seen.find((s) => s.url.endsWith('/actions/unwrap'))!;
    expect(unwrap.url).toBe('http://kms.test/api/v2/keys/key-1/actions/unwrap');
    expect(unwrap.headers).toMatchObject({
      authorization: 'Bearer tok-2000000000',
      'bluemix-instance': 'inst-1',
      'x-coffer-tenant': 'acct',
    });
    expect(seen.some((s) => s.headers['correlation-id'] === 'REQ1')).toBe(true);
    expect(JSON.parse(unwrap.body!)).toEqual({ ciphertext: 'wrapped', aad: ['a'] });
  });

  it('refreshes the token before it expires', async () => {
    let now = 1_000_000_000_000;
    let issued = 0;
    const { fetch: f } = scripted((req) => {
      if (req.url.endsWith('/identity/token')) {
        issued++;
        return token(Math.floor(now / 1000) + 3600);
      }
      return jsonRes(200, META);
    });
    const p = provider(f, () => now);
    await p.getKeyState({ tenant: 'acct' }, CRN);
    now += 3000 * 1000;
    await p.getKeyState({ tenant: 'acct' }, CRN);
    expect(issued).toBe(1);
    now += 560 * 1000; // 40 s before expiry: inside the 60 s margin
    await p.getKeyState({ tenant: 'acct' }, CRN);
    expect(issued).toBe(2);
  });

  it('maps 401, 403 and 404 to the uniform not-found error, and passes 409, 410 and 422 reasons through', async () => {
    for (const [status, code] of [
      [401, 'UNAUTHORIZED_ERR'],
      [403, 'SERVICE_ONLY_ERR'],
      [404, 'NOT_FOUND_ERR'],
    ] as const) {
      const { fetch: f } = scripted((req) =>
        req.url.endsWith('/identity/token') ? token(2_000_000_000) : kpError(status, code),
      );
      const e = await failure(provider(f).unwrap({ tenant: 'acct' }, CRN, 'w', []));
      expect([e.status, e.reason, e.message]).toEqual([404, 'KEY_NOT_FOUND_ERR', `The key ${CRN} could not be found`]);
    }
    for (const [status, code] of [
      [409, 'KEY_ACTION_INVALID_STATE_ERR'],
      [409, 'PROTECTED_RESOURCE_ERR'],
      [410, 'KEY_DELETED_ERR'],
      [422, 'UNPROCESSABLE_CIPHERTEXT_ERR'],
      [422, 'KEY_INVALID_STATE_ERR'],
      [400, 'INVALID_FIELD_ERR'],
    ] as const) {
      const { fetch: f } = scripted((req) =>
        req.url.endsWith('/identity/token')
          ? token(2_000_000_000)
          : req.url.endsWith('/metadata')
            ? jsonRes(200, META)
            : kpError(status, code, `msg ${code}`),
      );
      const e = await failure(provider(f).unwrap({ tenant: 'acct' }, CRN, 'w', []));
      expect([e.status, e.reason, e.message]).toEqual([status, code, `msg ${code}`]);
    }
  });

  it('retries 5xx and connection errors a bounded number of times, then 503 KMS_UNAVAILABLE', async () => {
    let calls = 0;
    const flaky = scripted((req) => {
      if (req.url.endsWith('/identity/token')) return token(2_000_000_000);
      if (req.url.endsWith('/metadata')) return jsonRes(200, META);
      calls++;
      if (calls === 1) throw new TypeError('fetch failed');
      if (calls === 2) return jsonRes(503, {});
      return jsonRes(200, { plaintext: Buffer.alloc(32).toString('base64'), keyVersion: { id: 'v1' } });
    });
    await provider(flaky.fetch).unwrap({ tenant: 'acct' }, CRN, 'w', []);
    expect(calls).toBe(3);

    let attempts = 0;
    const down = scripted((req) => {
      if (req.url.endsWith('/identity/token')) return token(2_000_000_000);
      if (req.url.endsWith('/metadata')) return jsonRes(200, META);
      attempts++;
      return jsonRes(500, {});
    });
    const e = await failure(provider(down.fetch, undefined, 2).unwrap({ tenant: 'acct' }, CRN, 'w', []));
    expect([e.status, e.reason]).toEqual([503, 'KMS_UNAVAILABLE']);
    expect(attempts).toBe(3);

    let notImpl = 0;
    const n501 = scripted((req) => {
      if (req.url.endsWith('/identity/token')) return token(2_000_000_000);
      if (req.url.endsWith('/metadata')) return jsonRes(200, META);
      notImpl++;
      return jsonRes(501, {});
    });
    await failure(provider(n501.fetch).unwrap({ tenant: 'acct' }, CRN, 'w', []));
    expect(notImpl).toBe(1);
  });

  it('retries once with a new token when an older token gets 401', async () => {
    let now = 1_000_000_000_000;
    let tokens = 0;
    let revoked = false;
    const { fetch: f } = scripted((req) => {
      if (req.url.endsWith('/identity/token')) {
        tokens++;
        return jsonRes(200, {
          access_token: `tok-${tokens}`,
          expires_in: 3600,
          expiration: Math.floor(now / 1000) + 3600,
        });
      }
      // The first token stops working (e.g. the KMS lost it); a fresh one works.
      if (revoked && req.headers.authorization === 'Bearer tok-1') return kpError(401, 'UNAUTHORIZED_ERR');
      return jsonRes(200, META);
    });
    const p = provider(f, () => now);
    expect(await p.getKeyState({ tenant: 'acct' }, CRN)).toBe(1);
    now += 60_000;
    revoked = true;
    expect(await p.getKeyState({ tenant: 'acct' }, CRN)).toBe(1);
    expect(tokens).toBe(2);
  });

  it('unregister treats a missing registration (404) as done', async () => {
    const { fetch: f, seen } = scripted((req) =>
      req.url.endsWith('/identity/token')
        ? token(2_000_000_000)
        : req.url.endsWith('/metadata')
          ? jsonRes(200, META)
          : kpError(404, 'NOT_FOUND_ERR'),
    );
    await provider(f).unregister(
      { tenant: 'acct' },
      CRN,
      'crn:v1:coffer:local:cloud-object-storage:global:a/acct:coffer-s3:bucket:b',
    );
    const del = seen.find((s) => s.method === 'DELETE')!;
    expect(del.url).toBe(
      `http://kms.test/api/v2/keys/key-1/registrations/${encodeURIComponent('crn:v1:coffer:local:cloud-object-storage:global:a/acct:coffer-s3:bucket:b')}`,
    );
  });
});
