/**
 * The data dir guard: a fresh dir starts, an interrupted first start starts
 * again, and a store that is missing while the marker (or another store, or blob
 * data) says it should exist is refused with a message naming it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DATA_DIR_MARKER,
  DataDirError,
  guardDataDir,
  openingStore,
  readMarker,
  type StoreName,
} from '../../../src/server/dataDir.js';

const ALL: StoreName[] = ['kms', 'iam', 'kms-instance', 'meta'];

async function makeStore(dir: string): Promise<void> {
  const db = new Level(dir);
  await db.open();
  await db.put('k', 'v');
  await db.close();
}

describe('guardDataDir', () => {
  let root: string;
  let data: string;
  let blobs: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'coffer-datadir-'));
    data = join(root, 'data');
    blobs = join(data, 'blobs');
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  const guard = () => guardDataDir(data, { stores: ALL, blobDirs: [blobs] });
  const createAll = async () => {
    for (const s of ALL) await makeStore(join(data, s));
  };

  it('a fresh dir passes, gets a marker first, and is initialized once ready', async () => {
    const g = await guard();
    expect(g.present.size).toBe(0);
    const before = await readMarker(data);
    expect(before).toMatchObject({ format: 1, initialized: false, stores: [] });
    await createAll();
    await g.ready();
    const after = await readMarker(data);
    expect(after).toMatchObject({ initialized: true, instanceId: before!.instanceId });
    expect(after!.stores).toEqual([...ALL].sort());
    expect((await guard()).present.size).toBe(4);
  });

  it('an interrupted first start (marker not initialized) starts again', async () => {
    await guard();
    await makeStore(join(data, 'kms'));
    const g = await guard();
    expect([...g.present]).toEqual(['kms']);
  });

  it('refuses when the marker lists a store that is gone, naming it and how to restore', async () => {
    await guard();
    await createAll();
    await (await guard()).ready();
    await rm(join(data, 'meta'), { recursive: true });
    const e = await guard().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DataDirError);
    expect((e as Error).message).toContain(join(data, 'meta'));
    expect((e as Error).message).toMatch(/metadata store/);
    expect((e as Error).message).toMatch(/coffer restore/);
  });

  it('a store directory without its CURRENT file counts as missing', async () => {
    await guard();
    await createAll();
    await (await guard()).ready();
    await rm(join(data, 'kms', 'CURRENT'));
    await expect(guard()).rejects.toThrow(/KMS key store/);
  });

  it('an install from before the marker: all stores present passes and gets a marker; meta missing with a key store is refused', async () => {
    await createAll();
    const g = await guard();
    expect(await readMarker(data)).toMatchObject({ initialized: true });
    await g.ready();
    await rm(join(data, DATA_DIR_MARKER));
    await rm(join(data, 'meta'), { recursive: true });
    await expect(guard()).rejects.toThrow(/metadata store .* is missing .*other stores of this data dir exist/);
  });

  it('blob data without any metadata is lost metadata, not a fresh dir', async () => {
    await mkdir(join(blobs, 'ab', 'cd'), { recursive: true });
    await writeFile(join(blobs, 'ab', 'cd', 'abcd1234'), 'x');
    await expect(guard()).rejects.toThrow(/blob drives hold object data/);
  });

  it('an empty blob dir with only tmp/ is still fresh', async () => {
    await mkdir(join(blobs, 'tmp'), { recursive: true });
    await writeFile(join(blobs, 'tmp', 'partial'), 'x');
    await expect(guard()).resolves.toBeDefined();
  });

  it('a damaged marker is refused', async () => {
    await mkdir(data, { recursive: true });
    await writeFile(join(data, DATA_DIR_MARKER), '{nope');
    await expect(guard()).rejects.toThrow(/not valid JSON/);
  });
});

describe('openingStore', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'coffer-datadir-'));
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('a corrupt LevelDB becomes a DataDirError that names the store and says to restore', async () => {
    const dir = join(root, 'meta');
    await makeStore(dir);
    await writeFile(join(dir, 'CURRENT'), 'MANIFEST-999999\n');
    const e = await openingStore(dir, 'meta', async () => {
      const db = new Level(dir);
      await db.open();
      return db;
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DataDirError);
    expect((e as Error).message).toMatch(/metadata store .* cannot be opened, it is damaged/);
    expect((e as Error).message).toMatch(/coffer restore/);
  });

  it('a store held by another process says so', async () => {
    const dir = join(root, 'iam');
    const held = new Level(dir);
    await held.open();
    try {
      await expect(
        openingStore(dir, 'iam', async () => {
          const db = new Level(dir);
          await db.open();
          return db;
        }),
      ).rejects.toThrow(/in use by another process/);
    } finally {
      await held.close();
    }
  });
});
