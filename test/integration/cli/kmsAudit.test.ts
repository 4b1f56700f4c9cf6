/**
 * `coffer kms audit` (the built CLI) against a real embedded gateway: filters
 * by key, action, outcome, time and count; the root owner sees gateway and API
 * entries; another account's owner sees only its own instances' entries and
 * the IAM calls in its account.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/kms/audit.js';
import { bucketName } from '../../helpers/s3Test.js';
import { call, tokenFor } from '../kms/kmsHttp.js';
import { createKpBucket, ROOT_APIKEY, startClockedGateway, type ClockedGateway } from '../kms/lifecycleKit.js';
import { assertBuilt, cli } from './runCli.js';

describe('coffer kms audit', () => {
  let c: ClockedGateway;
  let env: Record<string, string>;
  let key: { id: string; crn: string };

  beforeAll(async () => {
    assertBuilt();
    c = await startClockedGateway();
    env = { COFFER_KMS_URL: c.gw.kmsUrl, COFFER_API_KEY: ROOT_APIKEY };
    key = await c.kp.createRootKey('audited');
    const bucket = bucketName('audit');
    await createKpBucket(c.s3, bucket, key.crn);
    await c.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: 'x' }));
    c.gw.kms.dekCache.clear();
    await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' }));
    await c.kp.req('DELETE', `/keys/${key.id}`); // refused: registered
  });
  afterAll(async () => c?.close());

  const entries = async (...args: string[]) => {
    const r = await cli(['kms', 'audit', ...args, '--json'], env);
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out) as AuditEntry[];
  };

  it('--key shows the API calls and the embedded gateway wrap/unwrap of that key, oldest first', async () => {
    const all = await entries('--key', key.id);
    const actions = all.map((e) => `${e.via}:${e.action}:${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'api:createKey:success',
        'embedded:wrap:success',
        'embedded:createRegistration:success',
        'embedded:unwrap:success',
        'api:deleteKey:failure',
      ]),
    );
    expect(all.map((e) => e.time)).toEqual([...all.map((e) => e.time)].sort());
    expect(all.find((e) => e.action === 'deleteKey')).toMatchObject({ status: 409, reason: 'PROTECTED_RESOURCE_ERR' });
    expect(all.find((e) => e.action === 'unwrap')).toMatchObject({
      identity: `tenant:${c.gw.root.accountId}`,
      version: key.id,
    });
  });

  it('--action, --outcome, --since and --limit filter; the table has one row per entry', async () => {
    expect((await entries('--action', 'deleteKey', '--key', key.id)).map((e) => e.outcome)).toEqual(['failure']);
    expect((await entries('--outcome', 'failure')).every((e) => e.outcome === 'failure')).toBe(true);
    expect(await entries('--limit', '2')).toHaveLength(2);
    expect((await entries('--since', '1h', '--key', key.id)).length).toBeGreaterThan(3);
    expect(await entries('--since', '2999-01-01T00:00:00Z')).toEqual([]);
    const table = await cli(['kms', 'audit', '--key', key.id, '--action', 'deleteKey'], env);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+IDENTITY\s+TENANT\s+ACTION\s+KEY\s+VERSION\s+OUTCOME$/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(/deleteKey\s+\S+\s+-\s+failure 409 PROTECTED_RESOURCE_ERR$/);
    for (const args of [
      ['--since', 'yesterday'],
      ['--outcome', 'maybe'],
      ['--limit', '0'],
    ])
      expect((await cli(['kms', 'audit', ...args], env)).code).toBe(2);
  });

  it("another account's owner sees only its own instances' entries", async () => {
    const admin = await tokenFor(c.gw.kmsUrl, ROOT_APIKEY);
    const acct = await call<{ apikey: string; account: { id: string } }>(
      c.gw.kmsUrl,
      admin,
      'POST',
      '/iam/v1/accounts',
      { body: { name: 'audit tenant' } },
    );
    const own = await call<{ id: string }>(
      c.gw.kmsUrl,
      await tokenFor(c.gw.kmsUrl, acct.json.apikey),
      'POST',
      '/iam/v1/instances',
      { body: {} },
    );
    expect(own.status).toBe(201);
    const tenantEnv = { ...env, COFFER_API_KEY: acct.json.apikey };
    expect((await cli(['kms', 'keys', 'create', 'tenant-key'], tenantEnv)).code).toBe(0);
    const mine = JSON.parse((await cli(['kms', 'audit', '--json'], tenantEnv)).out) as AuditEntry[];
    expect(mine.length).toBeGreaterThan(0);
    // Its instances' entries, and the IAM calls in its account (its token exchanges: no instance).
    expect(new Set(mine.filter((e) => e.instance !== undefined).map((e) => e.instance))).toEqual(
      new Set([own.json.id]),
    );
    expect(mine.filter((e) => e.instance === undefined).every((e) => e.account === acct.json.account.id)).toBe(true);
    expect(mine.some((e) => e.action === 'exchangeApiKey' && e.via === 'iam')).toBe(true);
  });
});
