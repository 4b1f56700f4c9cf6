/**
 * The allowedNetwork, allowedIP and metrics instance policies, enforced: a
 * gateway whose private networks are 10.0.0.0/8 only (so this test's loopback
 * client is "public") and whose trusted proxy is 127.0.0.1, so a request can
 * speak for a client address through X-Forwarded-For. A second gateway without
 * a trusted proxy shows the header is ignored from anyone else.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, reasonOf, tokenFor } from './kmsHttp.js';
import { createKpBucket, GATEWAY_APIKEY, startClockedGateway, type ClockedGateway } from './lifecycleKit.js';

const POLICY = 'application/vnd.ibm.kms.policy+json';
const PRIVATE = { 'x-forwarded-for': '10.9.8.7' };

function policies(...resources: Array<{ policy_type: string; policy_data: unknown }>) {
  return { metadata: { collectionType: POLICY, collectionTotal: resources.length }, resources };
}

let g: ClockedGateway;
let untrusting: ClockedGateway;
beforeAll(async () => {
  g = await startClockedGateway({ privateNetworks: ['10.0.0.0/8'], trustedProxies: ['127.0.0.1'] });
  untrusting = await startClockedGateway({ privateNetworks: ['10.0.0.0/8'] });
});
afterAll(async () => {
  await g?.close();
  await untrusting?.close();
});

async function put(gw: ClockedGateway, body: unknown, headers: Record<string, string> = PRIVATE) {
  const r = await gw.kp.req('PUT', '/instance/policies', body, headers);
  expect(r.status, JSON.stringify(r.json)).toBe(204);
}

describe('allowedNetwork', () => {
  afterAll(async () => {
    await put(g, policies({ policy_type: 'allowedNetwork', policy_data: { enabled: false } }));
  });

  it('private-only refuses a public client with 401 UNAUTHORIZED_ERR and lets a private one through', async () => {
    expect((await g.kp.req('GET', '/keys')).status).toBe(200);
    await put(
      g,
      policies({
        policy_type: 'allowedNetwork',
        policy_data: { enabled: true, attributes: { allowed_network: 'private-only' } },
      }),
    );
    const denied = await g.kp.req('GET', '/keys');
    expect(denied.status).toBe(401);
    expect(reasonOf(denied.json)).toBe('UNAUTHORIZED_ERR');
    expect((await g.kp.req('GET', '/keys', undefined, PRIVATE)).status).toBe(200);
  });

  it('public-and-private lets everyone through', async () => {
    await put(
      g,
      policies({
        policy_type: 'allowedNetwork',
        policy_data: { enabled: true, attributes: { allowed_network: 'public-and-private' } },
      }),
    );
    expect((await g.kp.req('GET', '/keys')).status).toBe(200);
  });

  it('X-Forwarded-For from a peer that is not a trusted proxy is ignored', async () => {
    await put(
      untrusting,
      policies({
        policy_type: 'allowedNetwork',
        policy_data: { enabled: true, attributes: { allowed_network: 'private-only' } },
      }),
      {},
    );
    expect((await untrusting.kp.req('GET', '/keys', undefined, PRIVATE)).status).toBe(401);
  });
});

describe('allowedIP', () => {
  afterAll(async () => {
    await put(g, policies({ policy_type: 'allowedIP', policy_data: { enabled: false } }), {
      'x-forwarded-for': '203.0.113.5',
    });
  });

  it('allows addresses in the IPv4 and IPv6 ranges and refuses others with 401', async () => {
    await put(
      g,
      policies({
        policy_type: 'allowedIP',
        policy_data: { enabled: true, attributes: { allowed_ip: ['203.0.113.0/24', '2001:db8::/32'] } },
      }),
    );
    const from = (ip: string) => g.kp.req('GET', '/keys', undefined, { 'x-forwarded-for': ip });
    expect((await from('203.0.113.5')).status).toBe(200);
    expect((await from('2001:db8:0:1::9')).status).toBe(200);
    const denied = await from('198.51.100.1');
    expect(denied.status).toBe(401);
    expect(reasonOf(denied.json)).toBe('UNAUTHORIZED_ERR');
    expect((await g.kp.req('GET', '/keys')).status).toBe(401); // the loopback peer itself
    expect((await from('not-an-address')).status).toBe(401);
    // Every instance route is behind it, including reading the policies.
    expect((await g.kp.req('GET', '/instance/policies', undefined, { 'x-forwarded-for': '198.51.100.1' })).status).toBe(
      401,
    );
  });

  it('the embedded gateway (S3) is not an API client and is not refused', async () => {
    // The policy of the previous test is still on; the key is created in process.
    const crn = await g.gw.kms.createRootKey(g.gw.root.accountId, 'allowed-ip-s3');
    expect((await g.kp.req('GET', '/keys')).status).toBe(401);
    await createKpBucket(g.s3, 'allowed-ip-bucket', crn);
    await g.s3.send(new PutObjectCommand({ Bucket: 'allowed-ip-bucket', Key: 'k', Body: 'x' }));
  });

  it("a split-mode gateway's service identity acting for a tenant is not judged by its own address", async () => {
    const token = await tokenFor(g.gw.kmsUrl, GATEWAY_APIKEY);
    const r = await call(g.gw.kmsUrl, token, 'GET', '/api/v2/keys', {
      headers: { 'bluemix-instance': g.kp.instanceId, 'x-coffer-tenant': g.gw.root.accountId },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    // The same call without being the gateway identity is refused.
    expect((await g.kp.req('GET', '/keys')).status).toBe(401);
  });
});

describe('metrics', () => {
  const scrape = async (headers: Record<string, string> = PRIVATE) => {
    const res = await fetch(`${g.gw.kmsUrl}/metrics`, { headers });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const line = (text: string, instance: string, action: string, via = 'api') =>
    text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('coffer_kms_key_operations_total{') &&
          l.includes(`instance="${instance}"`) &&
          l.includes(`action="${action}"`) &&
          l.includes(`via="${via}"`) &&
          l.includes('outcome="success"'),
      );

  it('is served to private networks only', async () => {
    const pub = await scrape({});
    expect(pub.status).toBe(403);
    const priv = await scrape();
    expect(priv.status).toBe(200);
    expect(priv.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(priv.text).toContain('# TYPE coffer_kms_key_operations_total counter');
  });

  it('counts an instance only while its metrics policy is on, from the API and the embedded gateway', async () => {
    const instance = g.kp.instanceId;
    await g.kp.createRootKey('not-counted');
    expect(line((await scrape()).text, instance, 'createKey')).toBeUndefined();

    await put(g, policies({ policy_type: 'metrics', policy_data: { enabled: true } }));
    const { crn } = await g.kp.createRootKey('counted-1');
    await g.kp.createRootKey('counted-2');
    const r = await g.kp.req('POST', `/keys/${crn.split(':').pop()}/actions/wrap`, {});
    expect(r.status).toBe(200);
    await createKpBucket(g.s3, 'metrics-bucket', crn);
    await g.s3.send(new PutObjectCommand({ Bucket: 'metrics-bucket', Key: 'k', Body: 'counted' }));
    const text = (await scrape()).text;
    expect(line(text, instance, 'createKey')).toMatch(/ 2$/);
    // Actions are the audit log's names: the REST wrap is counted as wrap (via api), apart from the gateway's.
    expect(line(text, instance, 'wrap')).toMatch(/ 1$/);
    expect(line(text, instance, 'keyAction')).toBeUndefined();
    expect(line(text, instance, 'wrap', 'embedded')).toMatch(/ 1$/);
    // A failure is counted with its reason.
    await g.kp.req('POST', `/keys/${crn.split(':').pop()}/actions/unwrap`, { ciphertext: 'bm90IGEgY2lwaGVydGV4dA==' });
    expect((await scrape()).text).toMatch(/action="unwrap",outcome="failure",reason="[A-Z_]+",via="api"\} 1/);

    await put(g, policies({ policy_type: 'metrics', policy_data: { enabled: false } }));
    const after = (await scrape()).text;
    expect(after).not.toContain(`instance="${instance}"`);
  });
});
