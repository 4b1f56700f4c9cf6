/**
 * Scale-out: three gateway processes (`coffer server --kms-url`, the built CLI)
 * share one KMS process, one PostgreSQL metadata database and one S3 data tier
 * (s3rver). No gateway keeps state of its own, so a multipart upload started on
 * one takes its parts on the others and is completed on a third, and every
 * gateway then serves and lists the same objects.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_APIKEY, ROOT_APIKEY, ROOT_SECRET, ROOT_USER, s3Client } from '../kms/lifecycleKit.js';
import { bodyBytes } from '../../helpers/s3Test.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { startS3Backend, type TestS3Backend } from '../../helpers/s3rver.js';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const MiB = 1024 * 1024;

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [CLI, ...args], {
    // The master key file next to the data dir, in the test's temp dir: never the developer's home.
    env: {
      PATH: process.env.PATH ?? '',
      ...(env.COFFER_DATA_DIR ? { COFFER_MASTER_KEY_FILE: `${env.COFFER_DATA_DIR}-master.key` } : {}),
      COFFER_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function banner(p: Proc, pattern: RegExp, what: string, ms = 30_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const m = pattern.exec(p.out());
    if (m?.[1]) return m[1];
    if (p.child.exitCode !== null || Date.now() - t0 > ms)
      throw new Error(`${what} did not start: ${p.err() || p.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(p: Proc | undefined): Promise<number | null | undefined> {
  if (!p) return undefined;
  if (p.child.exitCode === null) p.child.kill('SIGTERM');
  const code = await Promise.race([p.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
  if (code === 'hung') {
    p.child.kill('SIGKILL');
    return p.exited;
  }
  return code;
}

describe('three gateways on one PostgreSQL + one S3 data tier + one KMS', () => {
  let dir: string;
  let pgServer: TestPostgres;
  let backend: TestS3Backend;
  let kms: Proc | undefined;
  const gateways: Proc[] = [];
  const clients: S3Client[] = [];

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
    dir = await mkdtemp(join(tmpdir(), 'coffer-multi-'));
    [pgServer, backend] = await Promise.all([startPostgres(), startS3Backend()]);
    const metaUrl = await pgServer.createDatabase();
    kms = start(['kms'], {
      COFFER_DATA_DIR: join(dir, 'kms'),
      COFFER_KMS_PORT: '0',
      COFFER_ROOT_USER: ROOT_USER,
      COFFER_ROOT_PASSWORD: ROOT_SECRET,
      COFFER_ROOT_APIKEY: ROOT_APIKEY,
      COFFER_GATEWAY_APIKEY: GATEWAY_APIKEY,
    });
    const kmsUrl = await banner(kms, /KMS API:\s+(http:\/\/127\.0\.0\.1:\d+)/, 'coffer kms');
    const o = backend.options();
    const shared = {
      COFFER_S3_PORT: '0',
      COFFER_GATEWAY_APIKEY: GATEWAY_APIKEY,
      COFFER_META_URL: metaUrl,
      COFFER_DATA_S3_ENDPOINT: o.endpoint,
      COFFER_DATA_S3_BUCKET: o.bucket,
      COFFER_DATA_S3_ACCESS_KEY: o.accessKeyId,
      COFFER_DATA_S3_SECRET_KEY: o.secretAccessKey,
    };
    // Started together: they also race to migrate the empty database.
    for (const n of [1, 2, 3])
      gateways.push(start(['server', '--kms-url', kmsUrl], { ...shared, COFFER_DATA_DIR: join(dir, `gw${n}`) }));
    for (const [i, g] of gateways.entries())
      clients.push(s3Client(await banner(g, /S3 endpoint:\s+(http:\/\/127\.0\.0\.1:\d+)/, `gateway ${i + 1}`)));
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    const codes = [];
    for (const g of gateways) codes.push(await stop(g));
    codes.push(await stop(kms));
    await backend?.stop();
    await pgServer?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    // Every process shut down cleanly on SIGTERM.
    expect(codes).toEqual([0, 0, 0, 0]);
  });

  it('a multipart upload started on gateway 1 takes parts on gateways 2 and 3 and completes on gateway 3', async () => {
    const [g1, g2, g3] = clients as [S3Client, S3Client, S3Client];
    const Bucket = 'scale-out';
    const Key = 'big/upload.bin';
    await g1.send(new CreateBucketCommand({ Bucket }));
    const { UploadId } = await g1.send(
      new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'application/x-test' }),
    );
    const bodies = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(123)];
    const via = [g2, g3, g2];
    const parts = [];
    for (const [i, body] of bodies.entries()) {
      const r = await via[i]!.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: body }));
      parts.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    // Each gateway sees the upload and all its parts.
    for (const g of clients) {
      const ups = await g.send(new ListMultipartUploadsCommand({ Bucket }));
      expect(ups.Uploads?.map((u) => u.UploadId)).toEqual([UploadId]);
      const listed = await g.send(new ListPartsCommand({ Bucket, Key, UploadId }));
      expect(listed.Parts?.map((p) => [p.PartNumber, p.ETag])).toEqual(parts.map((p) => [p.PartNumber, p.ETag]));
    }
    const done = await g3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
    );
    expect(done.ETag).toMatch(/-3"$/);
    const whole = Buffer.concat(bodies);
    for (const g of clients) {
      const got = await g.send(new GetObjectCommand({ Bucket, Key }));
      expect(got.ContentType).toBe('application/x-test');
      expect(got.ETag).toBe(done.ETag);
      expect((await bodyBytes(got)).equals(whole)).toBe(true);
      expect((await g.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).toEqual([]);
    }
    // A range that spans the part 1 / part 2 boundary, served by the gateway that took neither.
    const range = await g1.send(new GetObjectCommand({ Bucket, Key, Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` }));
    expect((await bodyBytes(range)).equals(whole.subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
  });

  it('objects written on one gateway are listed and read on the others at once', async () => {
    const Bucket = 'scale-out';
    await Promise.all(
      clients.map((g, i) =>
        g.send(new PutObjectCommand({ Bucket, Key: `from/gw${i + 1}`, Body: `written via gateway ${i + 1}` })),
      ),
    );
    for (const g of clients) {
      const list = await g.send(new ListObjectsV2Command({ Bucket, Prefix: 'from/' }));
      expect(list.Contents?.map((c) => c.Key)).toEqual(['from/gw1', 'from/gw2', 'from/gw3']);
      const top = await g.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }));
      expect(top.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['big/', 'from/']);
      for (const n of [1, 2, 3]) {
        const got = await g.send(new GetObjectCommand({ Bucket, Key: `from/gw${n}` }));
        expect(await got.Body!.transformToString()).toBe(`written via gateway ${n}`);
      }
    }
  });
});
