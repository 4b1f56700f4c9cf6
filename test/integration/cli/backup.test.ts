/**
 * `coffer backup` / `coffer restore` round trip: a server with buckets, objects
 * (some PUT while the backup runs), KMS keys and IAM accounts is backed up while
 * it serves, stopped, restored into a fresh data dir with its blob drive copied
 * next to it, and started again: everything the backup saw reads back. The
 * backup never holds the master key or clear key material, and a damaged one
 * is refused.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/run.js';
import type { Io } from '../../../src/cli/output.js';
import { BACKUP_FILE, BackupReader } from '../../../src/server/backup/backupFormat.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

const MASTER = Buffer.alloc(32, 7); // startTestGateway's master key

async function coffer(args: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), env };
  const code = await run(args, io);
  return { code, out, err };
}

describe('coffer backup and restore', () => {
  let root: string;
  let gw: TestGateway;
  const body = (i: number) => `object ${i} `.repeat(200 + i);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'coffer-backup-'));
    gw = await startTestGateway({ dataDir: join(root, 'data') });
  });
  afterAll(async () => {
    await gw?.close().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  it('round trip while the server serves (and PUTs run), then a restore into a fresh dir reads everything back', async () => {
    const s3 = gw.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'busy' }));
    for (let i = 0; i < 20; i++) await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: `o/${i}`, Body: body(i) }));
    const customKey = await gw.createRootKey('backup-test-key');
    const iam = gw.gateway.iam.service;
    const tenant = await iam.createAccount({ name: 'tenant-one' });
    const { apiKey: tenantApiKey } = await iam.createApiKey(tenant.owner.id, 'tenant');
    // A standard key whose clear payload we know: it must appear nowhere in the backup.
    const payload = Buffer.from('standard-key-payload-known-to-the-test-0123456789');
    const instanceId = await gw.gateway.kms.ensureTenant(gw.accountId);
    await gw.gateway.kms.local.service.createKey(instanceId, { name: 'std', extractable: true, payload });

    // PUTs keep running while the backup is taken.
    let stop = false;
    let putsDone = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        await s3.send(new PutObjectCommand({ Bucket: 'busy', Key: `p/${i}`, Body: body(i % 50) }));
        putsDone++;
      }
    })();
    while (putsDone < 5) await new Promise((r) => setTimeout(r, 5));
    const backupDir = join(root, 'backup');
    const b = await coffer(['backup', backupDir, '--url', gw.kmsUrl, '--apikey', gw.rootApiKey]);
    stop = true;
    await writer;
    expect(b.err).toBe('');
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/meta: \d+ entries/);
    // A second backup into the same directory is refused rather than overwriting it.
    expect((await coffer(['backup', backupDir, '--url', gw.kmsUrl, '--apikey', gw.rootApiKey])).code).toBe(1);

    // The backup: well formed, all four stores, and no master key or clear key material in any entry.
    const raw = await readFile(join(backupDir, BACKUP_FILE));
    const reader = new BackupReader();
    const recs = reader.push(raw);
    expect(reader.finish().stores).toEqual(['iam', 'kms', 'kms-instance', 'meta']);
    for (const r of recs) {
      const bytes = r.kind === 'entry' ? Buffer.concat([r.key, r.value]) : r.data;
      expect(bytes.indexOf(MASTER)).toBe(-1);
      expect(bytes.indexOf(payload)).toBe(-1);
      expect(bytes.indexOf(Buffer.from(payload.toString('base64')))).toBe(-1);
    }
    expect(raw.indexOf(MASTER.toString('base64'))).toBe(-1);

    // What the backup holds of the busy bucket is what must come back.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'busy' }));
    expect(listed.KeyCount).toBeGreaterThan(5);
    await gw.close({ keepData: true });

    // Restore refuses the old (non-empty) data dir, and a damaged backup.
    const again = await coffer(['restore', backupDir, '--data-dir', join(root, 'data')]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/not empty/);
    const damaged = join(root, 'damaged');
    const bad = Buffer.from(raw);
    bad[Math.floor(bad.length / 2)] ^= 0x01;
    await cp(backupDir, damaged, { recursive: true });
    await writeFile(join(damaged, BACKUP_FILE), bad);
    const d = await coffer(['restore', damaged, '--data-dir', join(root, 'never')]);
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/not a valid Coffer backup/);

    // Fresh dir: the blob drive copied in first, then the restore.
    const fresh = join(root, 'restored');
    await cp(join(root, 'data', 'blobs'), join(fresh, 'blobs'), { recursive: true });
    const r = await coffer(['restore', backupDir, '--data-dir', fresh]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);

    gw = await startTestGateway({ dataDir: fresh });
    const s3b = gw.client();
    for (let i = 0; i < 20; i++) {
      const got = await s3b.send(new GetObjectCommand({ Bucket: 'kept', Key: `o/${i}` }));
      expect(await got.Body!.transformToString()).toBe(body(i));
    }
    // Every object of the busy bucket in the backup reads back whole.
    const restoredBusy = await s3b.send(new ListObjectsV2Command({ Bucket: 'busy' }));
    expect(restoredBusy.KeyCount).toBeGreaterThan(0);
    for (const o of restoredBusy.Contents ?? []) {
      const i = Number(o.Key!.split('/')[1]);
      const got = await s3b.send(new GetObjectCommand({ Bucket: 'busy', Key: o.Key! }));
      expect(await got.Body!.transformToString()).toBe(body(i % 50));
    }
    // Keys and IAM came back: the custom root key, the tenant and its API key.
    const { keys } = await gw.gateway.kms.local.service.listKeys(instanceId);
    expect(keys.map((k) => k.name)).toEqual(expect.arrayContaining(['backup-test-key', 'std']));
    expect(customKey).toContain(instanceId);
    expect(gw.gateway.iam.service.getAccount(tenant.account.id)?.name).toBe('tenant-one');
    const tokenRes = await fetch(`${gw.kmsUrl}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: tenantApiKey }),
    });
    expect(tokenRes.status).toBe(200);
    const token = ((await tokenRes.json()) as { access_token: string }).access_token;

    // Only the root account's owner may take a backup.
    const denied = await fetch(`${gw.kmsUrl}/admin/v1/backup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(denied.status).toBe(403);
    expect((await fetch(`${gw.kmsUrl}/admin/v1/backup`, { method: 'POST' })).status).toBe(401);
  });
});
