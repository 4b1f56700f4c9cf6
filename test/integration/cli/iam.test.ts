/**
 * `coffer iam apikeys ...` and `coffer iam authorizations ...` (the built CLI)
 * against a real embedded gateway: API keys shown once, usable, revocable; a
 * service-to-service authorization lets another tenant put a bucket under the
 * owner's root key, and revoking it takes that tenant's access away again.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketName, expectSdkError } from '../../helpers/s3Test.js';
import { call, tokenFor } from '../kms/kmsHttp.js';
import {
  cosClient,
  ROOT_APIKEY,
  s3Client,
  startClockedGateway,
  timeUntil,
  type ClockedGateway,
} from '../kms/lifecycleKit.js';
import { assertBuilt, cli, field } from './runCli.js';

describe('coffer iam', () => {
  let c: ClockedGateway;
  let env: Record<string, string>;

  beforeAll(async () => {
    assertBuilt();
    c = await startClockedGateway({ dekCacheTtlSeconds: 1 });
    env = { COFFER_KMS_URL: c.gw.kmsUrl, COFFER_API_KEY: ROOT_APIKEY };
  });
  afterAll(async () => c?.close());

  it('apikeys create (shown once) works at /identity/token, list shows it without the secret, delete revokes it', async () => {
    const made = await cli(['iam', 'apikeys', 'create', '--name', 'cli key'], env);
    expect(made.code, made.err).toBe(0);
    const apikey = field(made.out, 'API key \\(shown once\\)');
    const id = /created API key (\S+)/.exec(made.out)![1]!;
    expect(made.out).toContain(`for ${c.gw.iam.rootUser.id}`);
    await tokenFor(c.gw.kmsUrl, apikey);
    const list = await cli(['iam', 'apikeys', 'list'], env);
    expect(list.out).toMatch(/^ID\s+IDENTITY\s+NAME\s+CREATED\n/);
    expect(list.out).toMatch(new RegExp(`${id}\\s+${c.gw.iam.rootUser.id}\\s+cli key`));
    expect(list.out).not.toContain(apikey);
    const json = JSON.parse((await cli(['iam', 'apikeys', 'list', '--json'], env)).out) as Array<
      Record<string, unknown>
    >;
    expect(json.find((k) => k.id === id)).toEqual({
      id,
      identityId: c.gw.iam.rootUser.id,
      name: 'cli key',
      createdAt: expect.any(Number),
    });
    // The new key drives the CLI too.
    expect((await cli(['kms', 'keys', 'list', '--json'], { ...env, COFFER_API_KEY: apikey })).code).toBe(0);
    expect((await cli(['iam', 'apikeys', 'delete', id], env)).out).toBe(`deleted API key ${id}\n`);
    await expect(tokenFor(c.gw.kmsUrl, apikey)).rejects.toThrow(/400/);
  });

  it("apikeys create --identity gives the gateway identity a key (split mode's COFFER_GATEWAY_APIKEY)", async () => {
    const gw = c.gw.iam.gatewayIdentity.id;
    const made = await cli(['iam', 'apikeys', 'create', '--identity', gw, '--json'], env);
    const out = JSON.parse(made.out) as { identityId: string; apikey: string };
    expect(out.identityId).toBe(gw);
    const token = await tokenFor(c.gw.kmsUrl, out.apikey);
    const who = await call<{ identity: { gateway?: boolean } }>(c.gw.kmsUrl, token, 'GET', '/iam/v1/identity');
    expect(who.json.identity.gateway).toBe(true);
  });

  it("authorizations grant lets another tenant use the owner's key; list shows it; revoke takes the access away", async () => {
    const admin = await tokenFor(c.gw.kmsUrl, ROOT_APIKEY);
    const acct = await call<{ account: { id: string }; s3: { accessKeyId: string; secretAccessKey: string } }>(
      c.gw.kmsUrl,
      admin,
      'POST',
      '/iam/v1/accounts',
      { body: { name: 'cli tenant' } },
    );
    const tenant = s3Client(c.gw.s3Url, 'us-east-1', acct.json.s3);
    const key = JSON.parse((await cli(['kms', 'keys', 'create', 'shared-key', '--json'], env)).out) as {
      id: string;
      crn: string;
    };
    const tryCreate = (bucket: string) =>
      cosClient(c.gw.s3Url, acct.json.s3)
        .createBucket({ Bucket: bucket, IBMSSEKPEncryptionAlgorithm: 'AES256', IBMSSEKPCustomerRootKeyCrn: key.crn })
        .promise()
        .then(
          () => 200,
          (e: { statusCode?: number }) => e.statusCode,
        );
    expect(await tryCreate(bucketName('tenant-before'))).toBe(400);

    const granted = await cli(
      ['iam', 'authorizations', 'grant', '--source-account', acct.json.account.id, '--key', key.id, '--role', 'Reader'],
      env,
    );
    expect(granted.code, granted.err).toBe(0);
    expect(granted.out).toMatch(/^ID\s+SOURCE_ACCOUNT\s+SOURCE_SERVICE\s+INSTANCE\s+KEY_RING\s+KEY\s+ROLE\s+CREATED\n/);
    // A key ring grant to another source service (IBM's model: any registered service instance).
    const ringGrant = await cli(
      [
        'iam',
        'authorizations',
        'grant',
        '--source-account',
        acct.json.account.id,
        '--source-service',
        'databases-for-postgresql',
        '--source-instance',
        'pg-1',
        '--key-ring',
        'default',
        '--json',
      ],
      env,
    );
    expect(ringGrant.code, ringGrant.err).toBe(0);
    const ring = JSON.parse(ringGrant.out) as { id: string; source: unknown; target: unknown; role: string };
    expect(ring).toMatchObject({
      source: { accountId: acct.json.account.id, serviceName: 'databases-for-postgresql', serviceInstance: 'pg-1' },
      target: { instanceId: c.kp.instanceId, keyRing: 'default' },
      role: 'Reader',
    });
    expect((await cli(['iam', 'authorizations', 'revoke', ring.id], env)).code).toBe(0);
    const listed = JSON.parse((await cli(['iam', 'authorizations', 'list', '--json'], env)).out) as Array<{
      id: string;
      sourceAccount: string;
      target: { instanceId: string; keyId?: string };
      role: string;
    }>;
    const authz = listed.find((a) => a.sourceAccount === acct.json.account.id)!;
    expect(authz).toMatchObject({ target: { instanceId: c.kp.instanceId, keyId: key.id }, role: 'Reader' });

    const bucket = bucketName('tenant-granted');
    expect(await tryCreate(bucket)).toBe(200);
    await tenant.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: 'tenant under a shared key' }));
    expect((await c.kp.registrations(key.id)).some((r) => r.resourceCrn.endsWith(`:bucket:${bucket}`))).toBe(true);

    expect((await cli(['iam', 'authorizations', 'revoke', authz.id], env)).out).toBe(
      `revoked authorization ${authz.id}\n`,
    );
    expect((await cli(['iam', 'authorizations', 'list'], env)).out).not.toContain(authz.id);
    // No event for a revocation: the tenant loses the data within the DEK cache TTL (1 s here).
    const lost = await timeUntil(
      () =>
        tenant.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' })).then(
          () => 200,
          (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
        ),
      (s) => s === 403,
      4000,
    );
    expect(lost.result).toBe(403);
    await expectSdkError(tenant.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' })), 403, 'AccessDenied');
    expect(await tryCreate(bucketName('tenant-after'))).toBe(400);
    await tenant.send(new CreateBucketCommand({ Bucket: bucketName('tenant-default') }));
    tenant.destroy();
  });

  it('usage: a missing family, command or --source-account exits 2', async () => {
    for (const args of [
      ['iam'],
      ['iam', 'groups'],
      ['iam', 'apikeys'],
      ['iam', 'apikeys', 'delete'],
      ['iam', 'authorizations', 'grant'],
    ]) {
      const r = await cli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });
});
