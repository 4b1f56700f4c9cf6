/**
 * `coffer iam whoami | accounts | s3keys | identities | policies |
 * authorization-policies` (the built CLI) against a real embedded gateway:
 * what each creates works where it is meant to (an S3 key signs requests, a
 * service identity's API key gets a token, a KeyPurge policy lets it purge, an
 * IBM-shaped authorization policy lets a tenant put a bucket under a key),
 * secrets are printed once, errors are one line with exit 1 and usage errors
 * exit 2, never a stack trace.
 */
import { CreateBucketCommand, DeleteBucketCommand, HeadBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketName, expectSdkError } from '../../helpers/s3Test.js';
import { tokenFor } from '../kms/kmsHttp.js';
import {
  cosClient,
  ROOT_APIKEY,
  s3Client,
  startClockedGateway,
  type ClockedGateway,
  HOUR,
} from '../kms/lifecycleKit.js';
import { assertBuilt, cli, field } from './runCli.js';

describe('coffer iam (accounts, identities, policies)', () => {
  let c: ClockedGateway;
  let env: Record<string, string>;

  beforeAll(async () => {
    assertBuilt();
    c = await startClockedGateway();
    env = { COFFER_KMS_URL: c.gw.kmsUrl, COFFER_API_KEY: ROOT_APIKEY };
  });
  afterAll(async () => c?.close());

  const ok = async (args: string[], e = env) => {
    const r = await cli(args, e);
    expect(r.code, `coffer ${args.join(' ')}\n${r.err}`).toBe(0);
    return r.out;
  };

  it('whoami names the caller and its account', async () => {
    const out = await ok(['iam', 'whoami']);
    expect(out).toBe(
      `Identity: ${c.gw.iam.rootUser.id} (user owner, account owner)\nAccount:  ${c.gw.root.accountId} (root)\n`,
    );
    const json = JSON.parse(await ok(['iam', 'whoami', '--json'])) as { identity: { id: string } };
    expect(json.identity.id).toBe(c.gw.iam.rootUser.id);
  });

  it('accounts create prints the owner API key and S3 credentials once; both work; list and get show the account', async () => {
    const made = await ok(['iam', 'accounts', 'create', 'cli-tenant']);
    const id = /^created account (\S+) \(cli-tenant\)\n/.exec(made)![1]!;
    const apikey = field(made, 'Owner API key \\(shown once\\)');
    const s3 = {
      accessKeyId: field(made, 'Access key id'),
      secretAccessKey: field(made, 'Secret access key \\(shown once\\)'),
    };
    await tokenFor(c.gw.kmsUrl, apikey);
    const tenant = s3Client(c.gw.s3Url, 'us-east-1', s3);
    expect((await tenant.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    tenant.destroy();

    const list = await ok(['iam', 'accounts', 'list']);
    expect(list).toMatch(/^ID\s+NAME\s+ROOT\s+CREATED\n/);
    expect(list).toMatch(new RegExp(`${id}\\s+cli-tenant\\s+false\\s+\\d{4}-`));
    expect(list).not.toContain(apikey);
    const got = JSON.parse(await ok(['iam', 'accounts', 'get', id, '--json'])) as { id: string; name: string };
    expect(got).toMatchObject({ id, name: 'cli-tenant' });
    const missing = await cli(['iam', 'accounts', 'get', 'no-such-account'], env);
    expect([missing.code, missing.err]).toEqual([1, 'coffer: 404 NOT_FOUND: Account no-such-account not found\n']);
    // Only the root account creates accounts: the tenant's owner is refused, in one line.
    const refused = await cli(['iam', 'accounts', 'create', 'nested'], { ...env, COFFER_API_KEY: apikey });
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^coffer: 403 \S+: .*\n$/);
    expect(refused.err).not.toMatch(/\n\s+at /);
  });

  it('s3keys create signs S3 requests (secret shown once), list shows the id only, delete revokes it', async () => {
    const made = await ok(['iam', 's3keys', 'create']);
    const akid = field(made, 'Access key id');
    const secret = field(made, 'Secret access key \\(shown once\\)');
    const s3 = s3Client(c.gw.s3Url, 'us-east-1', { accessKeyId: akid, secretAccessKey: secret });
    await s3.send(new ListBucketsCommand({}));
    const list = await ok(['iam', 's3keys', 'list']);
    expect(list).toMatch(/^ACCESS_KEY_ID\s+ACCOUNT\s+IDENTITY\s+CREATED\n/);
    expect(list).toContain(akid);
    expect(list).not.toContain(secret);
    expect(await ok(['iam', 's3keys', 'delete', akid])).toBe(`deleted S3 credentials ${akid}\n`);
    await expectSdkError(s3.send(new ListBucketsCommand({})), 403, 'InvalidAccessKeyId');
    s3.destroy();
    const again = await cli(['iam', 's3keys', 'delete', akid], env);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^coffer: 404 NOT_FOUND: /);
  });

  it('identities create a service identity; policies grant it KeyPurge, which lets it purge; revoke and delete undo it', async () => {
    const made = JSON.parse(await ok(['iam', 'identities', 'create', 'purger', '--json'])) as {
      id: string;
      kind: string;
    };
    expect(made.kind).toBe('service');
    expect(await ok(['iam', 'identities', 'list'])).toMatch(new RegExp(`${made.id}\\s+service\\s+purger\\s`));
    const { apikey } = JSON.parse(await ok(['iam', 'apikeys', 'create', '--identity', made.id, '--json'])) as {
      apikey: string;
    };
    const svc = { ...env, COFFER_API_KEY: apikey, COFFER_KMS_INSTANCE: c.kp.instanceId };

    const key = JSON.parse(await ok(['kms', 'keys', 'create', 'to-purge', '--json'])) as { id: string };
    await ok(['kms', 'keys', 'delete', key.id]);
    c.advance(4 * HOUR + 1000);
    // Without a policy the identity cannot even see the key; the owner cannot purge either (KeyPurge stands alone).
    expect((await cli(['kms', 'keys', 'purge', key.id], svc)).code).toBe(1);
    const ownerPurge = await cli(['kms', 'keys', 'purge', key.id], env);
    expect(ownerPurge.code).toBe(1);
    expect(ownerPurge.err).toMatch(/^coffer: 40[13] /);

    const granted = await ok(['iam', 'policies', 'grant', '--subject', made.id, '--role', 'KeyPurge', '--json']);
    const policy = JSON.parse(granted) as { id: string; role: string; target: { instanceId: string } };
    expect(policy).toMatchObject({ role: 'KeyPurge', target: { instanceId: c.kp.instanceId } });
    expect(await ok(['iam', 'policies', 'list', '--subject', made.id])).toMatch(
      new RegExp(`${policy.id}\\s+${made.id}\\s+${c.kp.instanceId}\\s+\\(all\\)\\s+KeyPurge\\s`),
    );
    expect(await ok(['kms', 'keys', 'purge', key.id], svc)).toBe(`purged ${key.id}: it is gone for good\n`);

    expect(await ok(['iam', 'policies', 'revoke', policy.id])).toBe(`revoked policy ${policy.id}\n`);
    expect(await ok(['iam', 'policies', 'list', '--subject', made.id])).toBe('(no policies)\n');
    expect(await ok(['iam', 'identities', 'delete', made.id])).toBe(`deleted identity ${made.id}\n`);
    await expect(tokenFor(c.gw.kmsUrl, apikey)).rejects.toThrow(/400/);

    const badRole = await cli(['iam', 'policies', 'grant', '--subject', c.gw.iam.rootUser.id, '--role', 'Owner'], env);
    expect(badRole.code).toBe(1);
    expect(badRole.err).toMatch(/^coffer: 400 INVALID_INPUT: role must be one of /);
    const noSubject = await cli(['iam', 'policies', 'grant', '--role', 'Reader'], env);
    expect(noSubject.code).toBe(2);
    expect(noSubject.err).toMatch(/^coffer: --subject is required\nusage: coffer iam policies grant /);
  });

  it("authorization-policies create (IBM's /v1/policies) lets a tenant put a bucket under the key; get, list, delete", async () => {
    const tenant = JSON.parse(await ok(['iam', 'accounts', 'create', 'ibm-style', '--json'])) as {
      account: { id: string };
      s3: { accessKeyId: string; secretAccessKey: string };
    };
    const key = JSON.parse(await ok(['kms', 'keys', 'create', 'ibm-shared', '--json'])) as { id: string; crn: string };
    const cos = cosClient(c.gw.s3Url, tenant.s3);
    const create = (bucket: string) =>
      cos
        .createBucket({ Bucket: bucket, IBMSSEKPEncryptionAlgorithm: 'AES256', IBMSSEKPCustomerRootKeyCrn: key.crn })
        .promise()
        .then(
          () => 200,
          (e: { statusCode?: number }) => e.statusCode,
        );
    expect(await create(bucketName('ibm-before'))).toBe(400);

    const made = JSON.parse(
      await ok([
        'iam',
        'authorization-policies',
        'create',
        '--source-account',
        tenant.account.id,
        '--key',
        key.id,
        '--json',
      ]),
    ) as { id: string; type: string; roles: Array<{ role_id: string }>; resources: Array<{ attributes: unknown[] }> };
    expect(made.type).toBe('authorization');
    expect(made.roles[0]!.role_id).toBe('crn:v1:bluemix:public:iam::::serviceRole:Reader');
    expect(made.resources[0]!.attributes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'resourceType', value: 'key' }),
        expect.objectContaining({ name: 'resource', value: key.id }),
      ]),
    );
    const bucket = bucketName('ibm-granted');
    expect(await create(bucket)).toBe(200);
    const s3 = s3Client(c.gw.s3Url, 'us-east-1', tenant.s3);
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));

    const shown = await ok(['iam', 'authorization-policies', 'get', made.id]);
    expect(shown).toMatch(/^ID\s+SOURCE\s+TARGET\s+ROLE\s+CREATED\n/);
    expect(shown).toContain(`${tenant.account.id}/cloud-object-storage`);
    expect(shown).toContain(`${c.kp.instanceId} key ${key.id}`);
    const listed = await ok(['iam', 'authorization-policies', 'list', '--source-account', tenant.account.id]);
    expect(listed.trimEnd().split('\n')).toHaveLength(2);
    expect(await ok(['iam', 'authorization-policies', 'delete', made.id])).toBe(
      `deleted authorization policy ${made.id}\n`,
    );
    expect(await create(bucketName('ibm-after'))).toBe(400);
    const gone = await cli(['iam', 'authorization-policies', 'get', made.id], env);
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/^coffer: 404 policy_not_found: /);
    s3.destroy();
  });
  it('accounts delete: refused while the account has a bucket or a live key, then removes it with its credentials and grants', async () => {
    const made = JSON.parse(
      await ok(['iam', 'accounts', 'create', 'short-lived', '--id', 'short-lived', '--json']),
    ) as {
      apikey: string;
      s3: { accessKeyId: string; secretAccessKey: string };
    };
    const tenantEnv = { ...env, COFFER_API_KEY: made.apikey };
    await ok(['kms', 'instances', 'create', '--name', 'short-kms'], tenantEnv);
    const key = JSON.parse(await ok(['kms', 'keys', 'create', 'short-key', '--json'], tenantEnv)) as {
      id: string;
      crn: string;
    };
    await ok(['iam', 'authorizations', 'grant', '--source-account', 'short-lived'], tenantEnv);
    const s3 = s3Client(c.gw.s3Url, 'us-east-1', made.s3);
    const bucket = bucketName('short-lived');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));

    const withBucket = await cli(['iam', 'accounts', 'delete', 'short-lived'], env);
    expect(withBucket.code).toBe(1);
    expect(withBucket.err).toBe(
      `coffer: 409 CONFLICT: Account short-lived still holds 1 bucket(s) (${bucket}) and 1 key(s) not deleted: delete them first\n`,
    );
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    const withKey = await cli(['iam', 'accounts', 'delete', 'short-lived'], env);
    expect(withKey.err).toBe(
      'coffer: 409 CONFLICT: Account short-lived still holds 1 key(s) not deleted: delete them first\n',
    );
    // Only the root account deletes accounts, and never itself.
    const bySelf = await cli(['iam', 'accounts', 'delete', 'short-lived'], tenantEnv);
    expect(bySelf.err).toMatch(/^coffer: 403 /);
    const root = await cli(['iam', 'accounts', 'delete', c.gw.root.accountId], env);
    expect(root.err).toBe('coffer: 409 CONFLICT: the root account cannot be deleted\n');

    await ok(['kms', 'keys', 'delete', key.id], tenantEnv);
    expect(await ok(['iam', 'accounts', 'delete', 'short-lived'])).toBe('deleted account short-lived\n');
    expect((await cli(['iam', 'accounts', 'get', 'short-lived'], env)).code).toBe(1);
    await expect(tokenFor(c.gw.kmsUrl, made.apikey)).rejects.toThrow(/400/);
    await expectSdkError(s3.send(new ListBucketsCommand({})), 403, 'InvalidAccessKeyId');
    s3.destroy();
    const grants = JSON.parse(await ok(['iam', 'authorizations', 'list', '--json'])) as Array<{
      sourceAccount: string;
    }>;
    expect(grants.filter((g) => g.sourceAccount === 'short-lived')).toEqual([]);
    // An account made again under the id starts with nothing.
    const again = JSON.parse(
      await ok(['iam', 'accounts', 'create', 'short-lived', '--id', 'short-lived', '--json']),
    ) as {
      apikey: string;
    };
    expect(await ok(['iam', 'authorizations', 'list'], { ...env, COFFER_API_KEY: again.apikey })).toBe(
      '(no authorizations)\n',
    );
    const missing = await cli(['iam', 'accounts', 'delete', 'never-was'], env);
    expect(missing.err).toMatch(/^coffer: 404 NOT_FOUND: Account never-was/);
  });
});
