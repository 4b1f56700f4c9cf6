import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErasureBlobStore } from '../../../src/storage/erasure/erasureBlobStore.js';
import { FsBlobStore } from '../../../src/storage/fsBlobStore.js';
import { openBlobStore } from '../../../src/storage/openBlobStore.js';
import { collect } from '../../contract/blobStore.contract.js';

describe('openBlobStore', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'coffer-open-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('one drive is a plain FsBlobStore: the blob is the file, as before drives existed', async () => {
    const store = await openBlobStore([join(root, 'only')], 0);
    expect(store).toBeInstanceOf(FsBlobStore);
    const id = 'abcdef0123456789abcdef0123456789';
    await store.put(id, Readable.from([Buffer.from('plain')]));
    expect((await stat(join(root, 'only', 'ab', 'cd', id))).size).toBe(5);
  });

  it('two or more drives are erasure-coded with the given parity', async () => {
    const store = await openBlobStore(
      [1, 2, 3].map((i) => join(root, `d${i}`)),
      1,
    );
    expect(store).toBeInstanceOf(ErasureBlobStore);
    expect([(store as ErasureBlobStore).k, (store as ErasureBlobStore).m]).toEqual([2, 1]);
    const id = 'abcdef0123456789abcdef0123456789';
    await store.put(id, Readable.from([Buffer.from('striped')]));
    expect((await collect(store.get(id))).toString()).toBe('striped');
  });

  it('refuses no drives, and parity on one drive', async () => {
    await expect(openBlobStore([], 0)).rejects.toThrow(RangeError);
    await expect(openBlobStore([join(root, 'x')], 1)).rejects.toThrow(/one drive cannot hold parity/);
  });
});
