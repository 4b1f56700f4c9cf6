/**
 * `coffer scrub --json` and `coffer heal --json`, spawned from the built CLI on a
 * stopped server's data dir and four drives (2+2): the JSON lines they print,
 * the per-drive counts, exit codes, and the drive lock that keeps them and a
 * server apart.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, createBucket, filesUnder } from '../../helpers/s3Test.js';
import { startTestGateway } from '../../helpers/startGateway.js';
import { assertBuilt, cli } from './runCli.js';

let root: string;
let dataDir: string;
let drives: string[];
let bucket: string;
const objects = new Map<string, Buffer>([
  ['big', randomBytes(1024 * 1024 + 5)],
  ['small', randomBytes(100)],
  ['mid', randomBytes(200_000)],
]);

const env = () => ({ COFFER_DATA_DIR: dataDir, COFFER_DRIVES: drives.join(','), COFFER_PARITY: '2' });
const start = () => startTestGateway({ dataDir, config: { drives, parity: 2 } });

interface Line {
  type: string;
  [k: string]: unknown;
}
const lines = (out: string): Line[] =>
  out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
const summaryOf = (out: string) => {
  const all = lines(out);
  const s = all.at(-1) as Line & {
    complete: boolean;
    blobs: Record<string, number>;
    drives: Array<Record<string, number | string>>;
  };
  expect(s.type).toBe('summary');
  return s;
};
const shards = async (d: string) => (await filesUnder(d)).filter((p) => /\/[0-9a-f]{32}$/.test(p)).sort();

beforeAll(async () => {
  assertBuilt();
  root = await mkdtemp(join(tmpdir(), 'coffer-heal-cli-'));
  dataDir = join(root, 'data');
  drives = [0, 1, 2, 3].map((i) => join(root, `disk${i}`));
  const gw = await start();
  const s3 = gw.client();
  bucket = await createBucket(s3, 'heal');
  for (const [Key, Body] of objects) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));

  // While the server holds the drives, both commands refuse.
  const refused = await cli(['scrub', '--json'], env());
  expect(refused.code, refused.err).toBe(1);
  expect(refused.err).toMatch(/drives are in use: .*held by server/);
  await gw.close({ keepData: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function flip(path: string, offset: number) {
  const fh = await open(path, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, offset);
  b[0] ^= 0xff;
  await fh.write(b, 0, 1, offset);
  await fh.close();
}

describe('coffer scrub / heal on a stopped server', () => {
  it('a clean set scrubs clean with exit 0', async () => {
    const r = await cli(['scrub', '--json'], env());
    expect(r.code, r.err).toBe(0);
    const s = summaryOf(r.out);
    expect(s).toMatchObject({ complete: true, repair: false, k: 2, m: 2 });
    expect(s.blobs).toMatchObject({ checked: 3, ok: 3, unreferenced: 0, unrecoverable: 0 });
    for (const d of s.drives) expect(d).toMatchObject({ checked: 3, ok: 3, missing: 0, corrupt: 0 });
    expect(
      lines(r.out)
        .filter((l) => l.type === 'progress')
        .at(-1),
    ).toMatchObject({ done: 3, total: 3 });
  });

  it('finds a deleted shard, a corrupt shard and a replaced drive; heal rebuilds them; the server reads it all', async () => {
    const on1 = await shards(drives[1]);
    const on3 = await shards(drives[3]);
    await rm(on1[0]);
    await flip(on3[1], 64 + 16 + 3);
    await rm(drives[0], { recursive: true, force: true });
    await mkdir(drives[0]);

    const scrub = await cli(['scrub', '--json'], env());
    expect(scrub.code, scrub.err).toBe(0);
    const s = summaryOf(scrub.out);
    expect(s.drives[0]).toMatchObject({ checked: 3, missing: 3, healed: 0, unrecoverable: 0 });
    expect(s.drives[1]).toMatchObject({ checked: 3, ok: 2, missing: 1 });
    expect(s.drives[3]).toMatchObject({ checked: 3, ok: 2, corrupt: 1 });
    expect(s.blobs).toMatchObject({ checked: 3, degraded: 3 });
    const damaged = lines(scrub.out).filter((l) => l.type === 'blob');
    expect(damaged).toHaveLength(3);
    expect(lines(scrub.out).find((l) => l.type === 'drive')).toMatchObject({ index: 0, note: /replaced/ });

    const heal = await cli(['heal', '--json'], env());
    expect(heal.code, heal.err).toBe(0);
    const h = summaryOf(heal.out);
    expect(h).toMatchObject({ complete: true, repair: true });
    expect(h.drives[0]).toMatchObject({ missing: 3, healed: 3, unrecoverable: 0 });
    expect(h.drives[1]).toMatchObject({ missing: 1, healed: 1 });
    expect(h.drives[3]).toMatchObject({ corrupt: 1, healed: 1 });
    expect(h.blobs).toMatchObject({ healed: 3 });
    expect(await shards(drives[0])).toHaveLength(3);

    const again = await cli(['scrub', '--json'], env());
    expect(summaryOf(again.out).blobs).toMatchObject({ checked: 3, ok: 3 });

    // The lock is released: the server starts, and reads every object from the healed drives alone.
    await rm(drives[2], { recursive: true, force: true });
    await rm(drives[3], { recursive: true, force: true });
    const gw = await start();
    try {
      const s3 = gw.client();
      for (const [Key, body] of objects) {
        expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: bucket, Key })))).equals(body)).toBe(true);
      }
    } finally {
      await gw.close({ keepData: true });
    }
    // heal puts the two lost drives back; a plain (non-JSON) run prints a per-drive table.
    const plain = await cli(['heal'], env());
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out).toMatch(/heal finished: 3 blobs checked, 0 ok, 3 healed/);
    expect(plain.out).toMatch(/DRIVE\s+PATH\s+CHECKED\s+OK\s+MISSING\s+CORRUPT\s+HEALED\s+UNRECOVERABLE/);
    expect(plain.err).toMatch(/heal: 3\/3 blobs/);
  });

  it('exits 1 when a blob is unrecoverable, and skips blobs no record names', async () => {
    const orphan = join(drives[0], 'ab', 'cd', 'abcd' + '0'.repeat(28));
    await mkdir(join(drives[0], 'ab', 'cd'), { recursive: true });
    await writeFile(orphan, 'not a shard');
    const victim = (await shards(drives[1]))[0];
    const id = victim.slice(-32);
    for (const d of [1, 2, 3]) await rm(join(drives[d], id.slice(0, 2), id.slice(2, 4), id));

    const heal = await cli(['heal', '--json'], env());
    expect(heal.code).toBe(1);
    const h = summaryOf(heal.out);
    expect(h.blobs).toMatchObject({ unrecoverable: 1, unreferenced: 1, ok: 2 });
    expect(h.drives[1]).toMatchObject({ missing: 1, unrecoverable: 1 });
    expect(lines(heal.out).find((l) => l.type === 'blob')).toMatchObject({ id, unrecoverable: true });

    // --all-blobs reads no metadata: the orphan is checked too (and is beyond repair as well).
    const all = await cli(['scrub', '--json', '--all-blobs'], env());
    expect(all.code).toBe(1);
    expect(summaryOf(all.out).blobs).toMatchObject({ checked: 4, unreferenced: 0, unrecoverable: 2 });
    await rm(orphan);
  });

  it('refuses a wrong data dir, and a server will not start while a heal holds the drives', async () => {
    const wrong = await cli(['scrub'], { ...env(), COFFER_DATA_DIR: join(root, 'nope') });
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/no metadata in/);

    const lockFile = join(drives[2], 'coffer.lock');
    const holder = { pid: process.pid, host: hostname(), owner: 'heal', since: new Date().toISOString(), token: 'x' };
    await writeFile(lockFile, JSON.stringify(holder));
    await expect(start()).rejects.toThrow(/held by heal/);
    // A lock whose process is gone is taken over.
    await writeFile(lockFile, JSON.stringify({ ...holder, pid: 2 ** 22 + 17 }));
    const gw = await start();
    await gw.close({ keepData: true });
    expect(await readdir(drives[2])).not.toContain('coffer.lock');
  });
});
