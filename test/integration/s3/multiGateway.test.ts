/**
 * Scale-out: three gateway processes (`coffer server --kms-url`, the built CLI)
 * share one KMS process, one PostgreSQL metadata database and one S3 data tier
 * (s3rver). No gateway keeps state of its own, so a multipart upload started on
 * one takes its parts on the others and is completed on a third, and every
 * gateway then serves and lists the same objects.
 */
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
  S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../../scripts/cluster/topology.js';
import { GATEWAY_APIKEY, ROOT_APIKEY, ROOT_SECRET, ROOT_USER, s3Client } from '../kms/lifecycleKit.js';
import { bodyBytes } from '../../helpers/s3Test.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { startS3Backend, type TestS3Backend } from '../../helpers/s3rver.js';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const MiB = 1024 * 1024;
const GRACE_S = 3;

describe('three gateways on one PostgreSQL + one S3 data tier + one KMS', () => {
  let dir: string;
  let pgServer: TestPostgres;
  let backend: TestS3Backend;
  let cluster: Cluster | undefined;
  const clients: S3Client[] = [];
  /** The data tier itself, to see which blobs it holds. */
  let tier: S3Client;
  let tierBucket: string;

  async function tierBlobs(): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await tier.send(
        new ListObjectsV2Command({ Bucket: tierBucket, Prefix: 'blobs/', ContinuationToken: token }),
      );
      for (const c of r.Contents ?? []) out.push(c.Key!);
      token = r.NextContinuationToken;
    } while (token);
    return out.sort();
  }

  /** Poll until `check` holds (bounded: the grace, a sweep and the collectors' ticks, with room for a loaded machine). */
  async function eventually(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
    const t0 = Date.now();
    while (!(await check())) {
      if (Date.now() - t0 > ms) throw new Error('condition not reached in time');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
    dir = await mkdtemp(join(tmpdir(), 'coffer-multi-'));
    [pgServer, backend] = await Promise.all([startPostgres(), startS3Backend()]);
    const metaUrl = await pgServer.createDatabase();
    const o = backend.options();
    tier = new S3Client({
      endpoint: o.endpoint,
      region: o.region,
      forcePathStyle: true,
      credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
    });
    tierBucket = o.bucket;
    cluster = await startCluster({
      metaUrl,
      tier: o,
      gateways: 3,
      dir,
      rootUser: ROOT_USER,
      rootPassword: ROOT_SECRET,
      rootApiKey: ROOT_APIKEY,
      gatewayApiKey: GATEWAY_APIKEY,
      // Garbage of the shared tier: due 3 s after it is queued, orphans looked for every second.
      gatewayEnv: { COFFER_GC_GRACE_SECONDS: String(GRACE_S), COFFER_GC_SWEEP_SECONDS: '1' },
      cli: CLI,
    });
    for (const url of cluster.gatewayUrls) clients.push(s3Client(url));
  }, 120_000);

  afterAll(async () => {
    tier?.destroy();
    for (const c of clients) c.destroy();
    const codes = (await cluster?.stop()) ?? [];
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
  it('a GET on one gateway finishes reading an object that another gateway overwrites meanwhile; the old blobs go after the grace', async () => {
    const [g1, g2] = clients as [S3Client, S3Client];
    const Bucket = 'scale-out';
    const Key = 'big/upload.bin'; // three parts, one blob each (the multipart test above)
    const before = await g2.send(new GetObjectCommand({ Bucket, Key }));
    const whole = Number(before.ContentLength);
    const body = before.Body as NodeJS.ReadableStream;
    const chunks: Buffer[] = [];
    const first = await new Promise<Buffer>((resolve, reject) => {
      body.once('data', (c: Buffer) => resolve(c));
      body.once('error', reject);
    });
    (body as unknown as { pause(): void }).pause();
    chunks.push(first);
    const blobsBefore = await tierBlobs();
    // The overwrite on gateway 1 replaces all three part blobs; gateway 2 has opened only the first.
    await g1.send(new PutObjectCommand({ Bucket, Key, Body: 'replaced' }));
    for await (const c of body as AsyncIterable<Buffer>) chunks.push(c);
    expect(Buffer.concat(chunks).length).toBe(whole);
    expect((await g1.send(new GetObjectCommand({ Bucket, Key }))).ContentLength).toBe(8);
    // The three replaced blobs are still there right after the overwrite, and gone after the grace.
    const afterPut = await tierBlobs();
    expect(afterPut.length).toBe(blobsBefore.length + 1);
    await eventually(async () => (await tierBlobs()).length === blobsBefore.length - 2);
  });

  it('an orphan blob in the tier (no record names it) is swept by one gateway after the grace; live blobs stay', async () => {
    const live = await tierBlobs();
    const orphan = `blobs/${randomBytes(16).toString('hex')}`;
    await tier.send(new PutObjectCommand({ Bucket: tierBucket, Key: orphan, Body: randomBytes(100) }));
    expect(await tierBlobs()).toContain(orphan);
    await eventually(async () => !(await tierBlobs()).includes(orphan));
    expect(await tierBlobs()).toEqual(live);
    for (const g of clients) {
      const got = await g.send(new GetObjectCommand({ Bucket: 'scale-out', Key: 'from/gw1' }));
      expect(await got.Body!.transformToString()).toBe('written via gateway 1');
    }
  });

  it('concurrent PUTs of one key from two gateways: one winner everywhere, no orphan left', async () => {
    const [g1, g2, g3] = clients as [S3Client, S3Client, S3Client];
    const Bucket = 'scale-out';
    const base = await tierBlobs();
    for (let round = 0; round < 5; round++) {
      const Key = `race/${round}`;
      const bodies = [randomBytes(64 * 1024), randomBytes(64 * 1024)];
      const puts = await Promise.allSettled([
        g1.send(new PutObjectCommand({ Bucket, Key, Body: bodies[0] })),
        g2.send(new PutObjectCommand({ Bucket, Key, Body: bodies[1] })),
      ]);
      expect(puts.map((p) => p.status)).toEqual(['fulfilled', 'fulfilled']);
      const seen: Buffer[] = [];
      for (const g of [g1, g2, g3]) seen.push(await bodyBytes(await g.send(new GetObjectCommand({ Bucket, Key }))));
      expect(bodies.some((b) => b.equals(seen[0]!))).toBe(true);
      for (const b of seen) expect(b.equals(seen[0]!)).toBe(true);
    }
    // Five keys, one blob each: the losers' blobs are collected.
    await eventually(async () => (await tierBlobs()).length === base.length + 5);
  });

  it('If-None-Match: * holds across gateways: of two racing creates exactly one wins', async () => {
    const Bucket = 'scale-out';
    for (let round = 0; round < 5; round++) {
      const Key = `create-once/${round}`;
      const results = await Promise.allSettled(
        clients.map((g, i) => g.send(new PutObjectCommand({ Bucket, Key, Body: `gw${i + 1}`, IfNoneMatch: '*' }))),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected')
          expect([412, 409]).toContain(
            (r.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
          );
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      for (const g of clients) {
        const got = await g.send(new GetObjectCommand({ Bucket, Key }));
        expect(await got.Body!.transformToString()).toBe(`gw${winner + 1}`);
      }
    }
  });
});
