/**
 * `coffer kms keys ...` (the built CLI) against a real embedded gateway whose
 * KMS runs on a manual clock: the whole lifecycle in tables and --json, the
 * Key Protect errors as one line with exit code 1, and usage errors exit 2.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketName } from '../../helpers/s3Test.js';
import {
  access,
  createKpBucket,
  ROOT_APIKEY,
  SEC,
  startClockedGateway,
  type ClockedGateway,
} from '../kms/lifecycleKit.js';
import { assertBuilt, cli, field } from './runCli.js';

describe('coffer kms keys', () => {
  let c: ClockedGateway;
  let env: Record<string, string>;

  beforeAll(async () => {
    assertBuilt();
    c = await startClockedGateway();
    env = { COFFER_KMS_URL: c.gw.kmsUrl, COFFER_API_KEY: ROOT_APIKEY };
  });
  afterAll(async () => c?.close());

  it('reads its API key from COFFER_API_KEY, or from the old COFFER_ROOT_APIKEY with a deprecation warning', async () => {
    const now = await cli(['kms', 'keys', 'list'], env);
    expect([now.code, now.err]).toEqual([0, '']);
    const old = await cli(['kms', 'keys', 'list'], { COFFER_KMS_URL: c.gw.kmsUrl, COFFER_ROOT_APIKEY: ROOT_APIKEY });
    expect(old.code, old.err).toBe(0);
    expect(old.out).toBe(now.out);
    expect(old.err).toMatch(/^coffer: warning: COFFER_ROOT_APIKEY is deprecated: set COFFER_API_KEY instead/);
    expect(old.err).not.toContain(ROOT_APIKEY);
  });

  it('create, list, show, versions: tables by default, the API resources with --json', async () => {
    const made = await cli(['kms', 'keys', 'create', 'cli-key', '--description', 'made by the CLI'], env);
    expect(made.code, made.err).toBe(0);
    expect(made.out).toMatch(/^created root key [0-9a-f-]{36}\nCRN: crn:v1:coffer:local:kms:/);
    const id = /created root key (\S+)/.exec(made.out)![1]!;
    const crn = field(made.out, 'CRN');

    const list = await cli(['kms', 'keys', 'list'], env);
    expect(list.code).toBe(0);
    const [header, ...rows] = list.out.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+STATE\s+TYPE\s+VERSION\s+CREATED$/);
    expect(rows.find((r) => r.startsWith(id))).toMatch(
      new RegExp(`^${id}\\s+cli-key\\s+Active\\s+root\\s+${id}\\s+\\d{4}-`),
    );

    const asJson = JSON.parse((await cli(['kms', 'keys', 'list', '--json'], env)).out) as Array<{
      id: string;
      crn: string;
      state: number;
      description?: string;
    }>;
    expect(asJson.find((k) => k.id === id)).toMatchObject({ crn, state: 1, description: 'made by the CLI' });

    const show = await cli(['kms', 'keys', 'show', id], env);
    expect(show.out).toContain(`CRN: ${crn}`);
    const standard = await cli(['kms', 'keys', 'create', 'cli-standard', '--standard', '--json'], env);
    expect(JSON.parse(standard.out)).toMatchObject({ name: 'cli-standard', extractable: true });

    // An explicit instance works the same; a wrong one is the KMS's uniform 401.
    const explicit = await cli(['kms', 'keys', 'show', id, '--instance', c.kp.instanceId, '--json'], env);
    expect(JSON.parse(explicit.out)).toMatchObject({ id });
    const wrong = await cli(['kms', 'keys', 'show', id, '--instance', 'no-such-instance'], env);
    expect([wrong.code, wrong.err.trim()]).toEqual([
      1,
      'coffer: 401 UNAUTHORIZED_ERR: The user does not have access to the specified resource',
    ]);
  });

  it('registrations, rotate, disable/enable, delete (refused, then --force), restore: each visible through S3', async () => {
    const made = await cli(['kms', 'keys', 'create', 'cli-lifecycle', '--json'], env);
    const key = JSON.parse(made.out) as { id: string; crn: string };
    const bucket = bucketName('cli');
    await createKpBucket(c.s3, bucket, key.crn);
    await c.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: 'cli data' }));

    const regs = await cli(['kms', 'keys', 'registrations', key.id], env);
    expect(regs.out).toMatch(/^KEY\s+RESOURCE\s+VERSION\s+PREVENT_DELETE\s+CREATED\n/);
    expect(regs.out).toContain(`:coffer-s3:bucket:${bucket}`);
    const all = JSON.parse((await cli(['kms', 'keys', 'registrations', '--json'], env)).out) as Array<{
      keyId: string;
      resourceCrn: string;
    }>;
    expect(all.some((r) => r.keyId === key.id && r.resourceCrn.endsWith(`:bucket:${bucket}`))).toBe(true);

    const rotated = await cli(['kms', 'keys', 'rotate', key.id], env);
    expect(rotated.out).toMatch(new RegExp(`^rotated ${key.id}: new version [0-9a-f-]{36}\\n$`));
    const versions = JSON.parse((await cli(['kms', 'keys', 'versions', key.id, '--json'], env)).out) as unknown[];
    expect(versions).toHaveLength(2);
    const again = await cli(['kms', 'keys', 'rotate', key.id], env);
    expect([again.code, again.err]).toEqual([1, expect.stringMatching(/^coffer: 409 KEY_ROTATION_NOT_PERMITTED: /)]);

    expect((await cli(['kms', 'keys', 'disable', key.id], env)).out).toBe(`disabled ${key.id}\n`);
    expect((await access(c.s3, bucket)).get).toBe('403 KMS.DisabledException');
    const early = await cli(['kms', 'keys', 'enable', key.id], env);
    expect([early.code, early.err]).toEqual([1, expect.stringMatching(/^coffer: 409 REQ_TOO_EARLY_ERR: /)]);
    c.advance(31 * SEC);
    expect(JSON.parse((await cli(['kms', 'keys', 'enable', key.id, '--json'], env)).out)).toEqual({
      id: key.id,
      action: 'enable',
      ok: true,
    });
    expect(await (await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' }))).Body!.transformToString()).toBe(
      'cli data',
    );

    const refused = await cli(['kms', 'keys', 'delete', key.id], env);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^coffer: 409 PROTECTED_RESOURCE_ERR: /);
    expect(refused.err.trim().split('\n')).toHaveLength(1);
    const deleted = await cli(['kms', 'keys', 'delete', key.id, '--force'], env);
    expect(deleted.out).toBe(
      `deleted ${key.id} (state Destroyed): its data is crypto-shredded; restore within 30 days\n`,
    );
    expect((await access(c.s3, bucket)).get).toBe('403 KMS.KMSInvalidStateException');
    const destroyed = await cli(['kms', 'keys', 'list', '--state', '5'], env);
    expect(destroyed.out).toMatch(new RegExp(`${key.id}\\s+cli-lifecycle\\s+Destroyed`));
    c.advance(31 * SEC);
    expect((await cli(['kms', 'keys', 'restore', key.id], env)).out).toBe(`restored ${key.id} (state Active)\n`);
    expect((await access(c.s3, bucket)).get).toBe('200');
  });

  it('errors: a wrong API key and an unreachable KMS exit 1; no API key, unknown commands and flags exit 2', async () => {
    const badKey = await cli(['kms', 'keys', 'list'], { ...env, COFFER_API_KEY: 'not-an-api-key-0000000000' });
    expect([badKey.code, badKey.err]).toEqual([
      1,
      `coffer: ${c.gw.kmsUrl} refused the API key (--apikey / COFFER_API_KEY)\n`,
    ]);
    const down = await cli(['kms', 'keys', 'list', '--url', 'http://127.0.0.1:9'], env);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^coffer: cannot reach the KMS API: /);
    const noKey = await cli(['kms', 'keys', 'list'], { COFFER_KMS_URL: c.gw.kmsUrl });
    expect([noKey.code, noKey.err]).toEqual([2, 'coffer: an API key is needed: pass --apikey or set COFFER_API_KEY\n']);
    const flagKey = await cli(['kms', 'keys', 'list', '--apikey', ROOT_APIKEY, '--url', c.gw.kmsUrl, '--json']);
    expect(flagKey.code, flagKey.err).toBe(0);
    for (const args of [
      ['kms', 'keys', 'frob'],
      ['kms', 'keys', 'rotate'],
      ['kms', 'keys', 'list', '--bogus'],
      ['kms', 'keys', 'list', '--state', 'one'],
    ]) {
      const r = await cli(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/^coffer: /);
    }
    const help = await cli(['kms', 'keys', 'help'], env);
    expect([help.code, help.out]).toEqual([0, expect.stringContaining('delete <id> [--force]')]);
    for (const secret of [badKey, down, noKey]) expect(secret.err + secret.out).not.toContain(ROOT_APIKEY);
  });
});
