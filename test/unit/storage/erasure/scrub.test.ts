import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MARKER_FILE } from '../../../../src/storage/erasure/driveMarker.js';
import { ErasureBlobStore } from '../../../../src/storage/erasure/erasureBlobStore.js';
import { hasUnrecoverable, scrubStore, type ScrubSummary } from '../../../../src/storage/erasure/scrub.js';
import { CHECKSUM_SIZE, HEADER_SIZE } from '../../../../src/storage/erasure/shardFormat.js';
import { chunked, collect, newId } from '../../../contract/blobStore.contract.js';

const BLOCK = 4096;
const SIZE = 50_000;

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

async function setup(drives = 4, parity = 2, blobs = 3) {
  root = await mkdtemp(join(tmpdir(), 'coffer-scrub-'));
  const paths = Array.from({ length: drives }, (_, i) => join(root!, `d${i}`));
  const open_ = () => ErasureBlobStore.open({ drives: paths, parity, blockSize: BLOCK });
  const store = await open_();
  const data = new Map<string, Buffer>();
  for (let i = 0; i < blobs; i++) {
    const id = newId();
    const body = randomBytes(SIZE + i * 1000);
    await store.put(id, chunked(body, 3000));
    data.set(id, body);
  }
  const shardFile = (drive: number, id: string) => join(paths[drive], id.slice(0, 2), id.slice(2, 4), id);
  const readsBack = async (s: ErasureBlobStore = store) => {
    for (const [id, body] of data) expect((await collect(s.get(id))).equals(body), id).toBe(true);
  };
  const shardBytes = async (drive: number) => Promise.all([...data.keys()].map((id) => readFile(shardFile(drive, id))));
  return { store, paths, data, shardFile, readsBack, shardBytes, reopen: open_ };
}

async function flipByte(path: string, offset: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0] ^= 0x5a;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

const blockAt = (s: number) => HEADER_SIZE + s * (CHECKSUM_SIZE + BLOCK) + CHECKSUM_SIZE;
const drive = (s: ScrubSummary, i: number) => s.drives[i];

describe('scrubStore: scrub reports, heal rebuilds', () => {
  it('a clean set: every shard ok on every drive', async () => {
    const { store } = await setup();
    const s = await scrubStore(store, { repair: false });
    expect(s.complete).toBe(true);
    expect(s.blobs).toMatchObject({ checked: 3, ok: 3, degraded: 0, unrecoverable: 0 });
    for (let i = 0; i < 4; i++) expect(drive(s, i)).toMatchObject({ checked: 3, ok: 3, missing: 0, corrupt: 0 });
    expect(s.bytesRead).toBeGreaterThan(3 * SIZE);
    expect(hasUnrecoverable(s)).toBe(false);
  });

  it('finds a deleted shard and a corrupted block per drive; heal rewrites exactly those', async () => {
    const { store, data, shardFile, readsBack, shardBytes } = await setup();
    const [a, b] = [...data.keys()];
    const before = await shardBytes(1);
    await rm(shardFile(1, a));
    await flipByte(shardFile(3, b), blockAt(2) + 10);

    const scrub = await scrubStore(store, { repair: false });
    expect(scrub.blobs).toMatchObject({ checked: 3, ok: 1, degraded: 2, unrecoverable: 0 });
    expect(drive(scrub, 1)).toMatchObject({ ok: 2, missing: 1, corrupt: 0, healed: 0, unrecoverable: 0 });
    expect(drive(scrub, 3)).toMatchObject({ ok: 2, missing: 0, corrupt: 1, healed: 0 });
    expect(hasUnrecoverable(scrub)).toBe(false);

    const heal = await scrubStore(store, { repair: true });
    expect(heal.blobs).toMatchObject({ checked: 3, ok: 1, healed: 2, degraded: 0 });
    expect(drive(heal, 1)).toMatchObject({ missing: 1, healed: 1 });
    expect(drive(heal, 3)).toMatchObject({ corrupt: 1, healed: 1 });
    // Rebuilt byte for byte: the shard files are what the put wrote.
    expect(await shardBytes(1)).toEqual(before);

    const again = await scrubStore(store, { repair: false });
    expect(again.blobs).toMatchObject({ checked: 3, ok: 3 });
    await readsBack();
  });

  it('refills an emptied drive and a drive replaced by an empty directory (no marker)', async () => {
    const { store, paths, readsBack, shardBytes, reopen } = await setup();
    const original = [await shardBytes(0), await shardBytes(2)];
    for (const e of await readdir(paths[0])) await rm(join(paths[0], e), { recursive: true, force: true });
    await rm(paths[2], { recursive: true, force: true });
    await mkdir(paths[2]);

    // The running store notices the replaced drives (no marker) and marks them again.
    const probed = await store.probeDrives();
    expect(probed.map((d) => d.replaced)).toEqual([true, false, true, false]);
    expect((await store.probeDrives()).some((d) => d.replaced)).toBe(false);
    for (const p of paths)
      expect(JSON.parse(await readFile(join(p, MARKER_FILE), 'utf8'))).toMatchObject({ format: 1 });

    const heal = await scrubStore(store, { repair: true });
    expect(drive(heal, 0)).toMatchObject({ missing: 3, healed: 3 });
    expect(drive(heal, 2)).toMatchObject({ missing: 3, healed: 3 });
    expect([await shardBytes(0), await shardBytes(2)]).toEqual(original);
    await readsBack();

    // A store opened over a swapped disk says so at open.
    await rm(paths[1], { recursive: true, force: true });
    await mkdir(paths[1]);
    const reopened = await reopen();
    expect(reopened.openedDrives.map((d) => d.replaced)).toEqual([false, true, false, false]);
    expect(reopened.setId).toBe(store.setId);
  });

  it('with more than m drives gone: unrecoverable, counted per drive, and heal leaves the rest alone', async () => {
    const { store, paths } = await setup();
    await rm(paths[0], { recursive: true, force: true });
    await rm(paths[1], { recursive: true, force: true });
    await rm(paths[2], { recursive: true, force: true });
    const s = await scrubStore(store, { repair: true });
    expect(s.blobs).toMatchObject({ checked: 3, unrecoverable: 3 });
    expect(drive(s, 0)).toMatchObject({ missing: 3, unrecoverable: 3 });
    expect(drive(s, 3)).toMatchObject({ ok: 3, unrecoverable: 0 });
    expect(hasUnrecoverable(s)).toBe(true);
  });

  it('a drive still gone during heal: its shards are counted unrecoverable, the others healed', async () => {
    const { store, paths, data, shardFile } = await setup();
    const [a] = [...data.keys()];
    await rm(shardFile(3, a));
    await rm(paths[0], { recursive: true, force: true });
    const s = await scrubStore(store, { repair: true });
    expect(drive(s, 0)).toMatchObject({ missing: 3, healed: 0, unrecoverable: 3 });
    expect(drive(s, 3)).toMatchObject({ missing: 1, healed: 1, unrecoverable: 0 });
    expect(s.blobs).toMatchObject({ degraded: 3, unrecoverable: 0 });
    expect(hasUnrecoverable(s)).toBe(true);
  });

  it('rebuilds a blob whose bad blocks lie on different shards in different stripes', async () => {
    // 2+1: each shard has one bad stripe, so no shard is whole, yet every stripe has k good blocks.
    const { store, data, shardFile, readsBack } = await setup(3, 1, 1);
    const [a] = [...data.keys()];
    await flipByte(shardFile(0, a), blockAt(1));
    await flipByte(shardFile(1, a), blockAt(3));
    const scrub = await scrubStore(store, { repair: false });
    expect(scrub.blobs).toMatchObject({ degraded: 1, unrecoverable: 0 });
    const heal = await scrubStore(store, { repair: true });
    expect(heal.blobs).toMatchObject({ healed: 1 });
    expect((await scrubStore(store, { repair: false })).blobs.ok).toBe(1);
    await readsBack();
  });

  it('with the referenced set: skips unreferenced blobs and reports referenced ones no drive holds', async () => {
    const { store, data } = await setup();
    const [a, b, c] = [...data.keys()];
    const gone = newId();
    const s = await scrubStore(store, { repair: true, referenced: new Set([a, b, gone]) });
    expect(s.blobs).toMatchObject({ checked: 3, ok: 2, unreferenced: 1, unrecoverable: 1 });
    expect(drive(s, 0)).toMatchObject({ checked: 3, ok: 2, missing: 1, unrecoverable: 1 });
    expect(await store.stat(c)).toBeDefined(); // left for the garbage sweep, never deleted here
  });

  it('interrupted heal (between blobs, or inside a paced wait) leaves no partial shard; a rerun completes', async () => {
    const { store, paths, readsBack } = await setup(4, 2, 4);
    await rm(paths[1], { recursive: true, force: true });
    await mkdir(paths[1]);
    const ac = new AbortController();
    const first = await scrubStore(store, {
      repair: true,
      signal: ac.signal,
      onProgress: (p) => p.done === 1 && ac.abort(),
    });
    expect(first.complete).toBe(false);
    expect(drive(first, 1).healed).toBe(1);

    const ac2 = new AbortController();
    const second = await scrubStore(store, {
      repair: true,
      signal: ac2.signal,
      pace: async (_bytes, signal) => {
        ac2.abort();
        signal?.throwIfAborted();
      },
    });
    expect(second.complete).toBe(false);
    expect(await readdir(join(paths[1], 'tmp'))).toEqual([]);

    const rerun = await scrubStore(store, { repair: true, count: true });
    expect(rerun.complete).toBe(true);
    expect(drive(rerun, 1)).toMatchObject({ checked: 4, ok: 1, missing: 3, healed: 3 });
    expect((await scrubStore(store, { repair: false })).blobs.ok).toBe(4);
    await readsBack();
  });

  it('reports progress with a total, and skips blobs written moments ago when asked', async () => {
    const { store } = await setup();
    const seen: Array<[number, number | undefined]> = [];
    await scrubStore(store, { repair: false, count: true, onProgress: (p) => seen.push([p.done, p.total]) });
    expect(seen).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    const s = await scrubStore(store, { repair: false, minAgeMs: 60_000 });
    expect(s.blobs).toMatchObject({ checked: 0, recent: 3 });
  });
});
