/**
 * A real full disk: the blob drive is a 2 MiB tmpfs (mounted when the tests run
 * as root and the kernel lets them; otherwise the tests are skipped, saying
 * why). A PUT larger than the space answers 507 InsufficientStorage and leaves
 * the drive as it was; smaller PUTs fit until it is full again, and work again
 * once a DELETE frees space. The metadata stays on the ordinary data dir.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, createBucket, expectSdkError, filesUnder } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

const run = promisify(execFile);
const KIB = 1024;

/** Mount a 2 MiB tmpfs, or say why not. */
async function mountTmpfs(): Promise<{ dir: string } | { why: string }> {
  if (process.platform !== 'linux') return { why: 'tmpfs needs Linux' };
  if (process.getuid?.() !== 0) return { why: 'mounting a tmpfs needs root' };
  const dir = await mkdtemp(join(tmpdir(), 'coffer-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir]);
    return { dir };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    return { why: `mount -t tmpfs failed: ${((e as { stderr?: string }).stderr ?? String(e)).trim()}` };
  }
}

const mounted = await mountTmpfs();
const dir = 'dir' in mounted ? mounted.dir : '';
const skipped = 'why' in mounted ? ` (skipped: ${mounted.why})` : '';

let gw: TestGateway | undefined;
let s3: S3Client;

beforeAll(async () => {
  if (!dir) return;
  gw = await startTestGateway({ config: { drives: [join(dir, 'blobs')], parity: 0 } });
  s3 = gw.client({ maxAttempts: 1 });
});
afterAll(async () => {
  await gw?.close();
  if (dir) {
    await run('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  }
});

const free = async () => {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
};
const put = (Bucket: string, Key: string, Body: Buffer) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));

describe.skipIf(!dir)(`a full tmpfs blob drive${skipped}`, () => {
  it('a PUT larger than the drive is 507 and leaves the drive as it was; a DELETE makes room again', async () => {
    const b = await createBucket(s3, 'tmpfs');
    const first = randomBytes(800 * KIB);
    await put(b, 'first', first);
    const before = await free();
    const files = await filesUnder(join(dir, 'blobs'));

    await expectSdkError(put(b, 'huge', randomBytes(3 * 1024 * KIB)), 507, 'InsufficientStorage');
    expect(await free(), 'the space the failed PUT took is given back').toBe(before);
    expect((await filesUnder(join(dir, 'blobs'))).sort()).toEqual(files.sort());

    // Smaller PUTs still fit, until the drive is full again.
    const second = randomBytes(800 * KIB);
    await put(b, 'second', second);
    await expectSdkError(put(b, 'third', randomBytes(800 * KIB)), 507, 'InsufficientStorage');

    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'first' }));
    const third = randomBytes(800 * KIB);
    await put(b, 'third', third);
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'second' })))).equals(second)).toBe(
      true,
    );
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'third' })))).equals(third)).toBe(
      true,
    );
  });
});
