/**
 * The background healer of a server on four drives (2+2): shards deleted,
 * corrupted, or a whole drive swapped for an empty directory under the running
 * server come back on disk byte for byte, by the heal queue (a read found them)
 * or by the periodic scrub (nobody read them). GET /health?detail=1 shows the
 * drives to a signed admin request and refuses an unsigned one.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointOf, errorBody, send, signedRequest } from '../../helpers/rawS3.js';
import { bodyBytes, createBucket, filesUnder } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

let root: string;
let drives: string[];
let gw: TestGateway;
let s3: S3Client;
let bucket: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'coffer-healing-'));
  drives = [0, 1, 2, 3].map((i) => join(root, `disk${i}`));
  gw = await startTestGateway({ config: { drives, parity: 2, scrubIntervalSeconds: 1, healRateMiBps: 0 } });
  s3 = gw.client();
  bucket = await createBucket(s3, 'heal');
});
afterAll(async () => {
  await gw?.close();
  await rm(root, { recursive: true, force: true });
});

const shardFiles = async (d: string) => (await filesUnder(d)).filter((p) => /\/[0-9a-f]{32}$/.test(p)).sort();

/** Put an object; return its shard file on each drive with the bytes it had. */
async function putObject(Key: string, size: number) {
  const before = new Set((await Promise.all(drives.map(shardFiles))).flat());
  const body = randomBytes(size);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body }));
  const files = (await Promise.all(drives.map(shardFiles))).map((fs) => fs.find((f) => !before.has(f))!);
  const bytes = await Promise.all(files.map((f) => readFile(f)));
  return { body, files, bytes };
}

/** Passes skip shards written in the last 30 s (a write may still be publishing): make these old. */
async function age(files: string[]) {
  const old = new Date(Date.now() - 3600_000);
  for (const f of files) await utimes(f, old, old).catch(() => undefined);
}

async function corrupt(path: string) {
  const fh = await open(path, 'r+');
  await fh.write(Buffer.from('garbage!'), 0, 8, 200);
  await fh.close();
}

async function until(what: string, ok: () => Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sameBytes = (path: string, want: Buffer) => async () =>
  readFile(path).then(
    (b) => b.equals(want),
    () => false,
  );

const detail = async () => {
  const res = await signedRequest(endpointOf(gw), { method: 'GET', path: '/health?detail=1' });
  expect(res.status, res.text()).toBe(200);
  return JSON.parse(res.text()) as {
    status: string;
    blobStore: string;
    drives: Array<{ index: number; state: string; missing: number; corrupt: number; healed: number }>;
    scrub: { passes: number };
  };
};

describe('background healer', () => {
  it('a read that finds a deleted and a corrupt shard gets both rewritten on disk (the heal queue)', async () => {
    const o = await putObject('read-me', 300_000);
    await rm(o.files[1]);
    await corrupt(o.files[2]);
    const got = await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'read-me' })));
    expect(got.equals(o.body)).toBe(true);
    await until('shard 1 back', sameBytes(o.files[1], o.bytes[1]));
    await until('shard 2 rewritten', sameBytes(o.files[2], o.bytes[2]));
  });

  it('the periodic scrub finds damage nobody read, and a drive swapped for an empty directory is refilled', async () => {
    const a = await putObject('unread', 100_000);
    const b = await putObject('other', 5000);
    await corrupt(a.files[3]);
    await rm(drives[0], { recursive: true, force: true });
    await mkdir(drives[0]);
    await age([...a.files, ...b.files, ...(await Promise.all(drives.map(shardFiles))).flat()]);
    await until('corrupt shard rewritten', sameBytes(a.files[3], a.bytes[3]));
    await until('drive 0 refilled', async () => {
      const files = await shardFiles(drives[0]);
      return (
        files.length === (await shardFiles(drives[1])).length &&
        (await sameBytes(a.files[0], a.bytes[0])()) &&
        sameBytes(b.files[0], b.bytes[0])()
      );
    });
    await until('drive 0 online again', async () => (await detail()).drives[0].state === 'online');
    const d = await detail();
    expect(d.drives[0].missing).toBeGreaterThanOrEqual(3);
    expect(d.drives[0].healed).toBeGreaterThanOrEqual(3);
    expect(d.drives[3].corrupt).toBeGreaterThanOrEqual(1);
  });

  it('a drive gone under the server shows as missing, and the store as degraded', async () => {
    await rm(drives[2], { recursive: true, force: true });
    await until('drive 2 missing', async () => (await detail()).drives[2].state === 'missing');
    expect((await detail()).status).toBe('degraded');
    await mkdir(drives[2]);
    await age((await Promise.all(drives.map(shardFiles))).flat());
    await until('drive 2 back online', async () => (await detail()).drives[2].state === 'online');
    expect((await shardFiles(drives[2])).length).toBe((await shardFiles(drives[1])).length);
  });
});

describe('GET /health?detail=1', () => {
  it('answers a request signed by the root credentials with the drive states', async () => {
    const d = await detail();
    expect(d).toMatchObject({ blobStore: 'erasure', k: 2, m: 2 });
    expect(d.drives.map((x) => x.index)).toEqual([0, 1, 2, 3]);
    for (const x of d.drives) expect(['online', 'missing', 'healing']).toContain(x.state);
    expect(d.scrub.passes).toBeGreaterThan(0);
  });

  it('refuses an unsigned or wrongly signed ?detail=1 with 403 in S3 XML; plain /health stays ok', async () => {
    const ep = endpointOf(gw);
    const unsigned = await send(ep, { method: 'GET', path: '/health?detail=1' });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers['content-type']).toMatch(/xml/);
    expect(errorBody(unsigned).Code).toBe('AccessDenied');
    const wrong = await signedRequest(ep, { method: 'GET', path: '/health?detail=1', secretAccessKey: 'x'.repeat(40) });
    expect(wrong.status).toBe(403);
    expect(wrong.text()).not.toMatch(/drives/);
    const plain = await send(ep, { method: 'GET', path: '/health' });
    expect(plain.status).toBe(200);
    expect(JSON.parse(plain.text())).toEqual({ status: 'ok' });
  });
});
