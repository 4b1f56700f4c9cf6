/**
 * The S3 server with COFFER_DRIVES naming four drives (2+2 erasure coding): PUT
 * and GET through @aws-sdk/client-s3, no drive holding a whole object, and
 * objects still read byte for byte after drive directories are deleted under
 * the running server, up to the two the code tolerates; past that, 503.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { bodyBytes, createBucket, expectSdkError, filesUnder } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

let root: string;
let drives: string[];
let gw: TestGateway;
let s3: S3Client;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'coffer-drives-'));
  drives = [1, 2, 3, 4].map((i) => join(root, `disk${i}`));
  const fromEnv = loadConfig({ COFFER_DRIVES: drives.join(',') });
  expect(fromEnv).toMatchObject({ drives, parity: 2 });
  gw = await startTestGateway({ config: { drives: fromEnv.drives, parity: fromEnv.parity } });
  s3 = gw.client();
});
afterAll(async () => {
  await gw?.close();
  await rm(root, { recursive: true, force: true });
});

const get = async (Bucket: string, Key: string, Range?: string) =>
  bodyBytes(await s3.send(new GetObjectCommand({ Bucket, Key, Range })));

describe('S3 over four erasure-coded drives', () => {
  it('PUTs and GETs, survives deleting drive directories up to m, and then refuses rather than lie', async () => {
    const b = await createBucket(s3, 'ec');
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const small = randomBytes(10);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'big', Body: big }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'small', Body: small }));
    expect((await get(b, 'big')).equals(big)).toBe(true);
    expect((await get(b, 'small')).equals(small)).toBe(true);

    // Blobs live on the drives, not in the data dir, and no drive holds a whole object.
    expect(await filesUnder(join(gw.dataDir, 'blobs'))).toEqual([]);
    for (const d of drives) {
      const shards = (await filesUnder(d)).filter((p) => /\/[0-9a-f]{32}$/.test(p));
      expect(shards.length, d).toBe(2);
      for (const p of shards) expect((await stat(p)).size).toBeLessThan(big.length / 2 + 256 * 1024);
    }

    await rm(drives[1], { recursive: true, force: true });
    expect((await get(b, 'big')).equals(big)).toBe(true);
    expect((await get(b, 'big', 'bytes=131000-1200000')).equals(big.subarray(131000, 1200001))).toBe(true);
    expect((await get(b, 'small')).equals(small)).toBe(true);
    // Three drives left: still a write quorum (k+1).
    const later = randomBytes(200_000);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'later', Body: later }));
    expect((await get(b, 'later')).equals(later)).toBe(true);

    await rm(drives[2], { recursive: true, force: true });
    expect((await get(b, 'big')).equals(big)).toBe(true);
    expect((await get(b, 'later')).equals(later)).toBe(true);
    // Two drives left: below the write quorum, so the PUT is refused.
    const refused = await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'refused', Body: randomBytes(1000) })),
      503,
    );
    expect(refused.name).toBe('ServiceUnavailable');

    await rm(drives[0], { recursive: true, force: true });
    const lost = await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'big' })), 503);
    expect(lost.name).toBe('ServiceUnavailable');
    expect(lost.message).toMatch(/Too few storage drives/);
  });
});
