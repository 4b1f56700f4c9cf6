/**
 * ErasureBlobStore on failing drives, through the fault-injection file system:
 * every errno on every call a put makes. With parity, one drive failing still
 * writes (quorum k+1) and queues the missing shard for healing; more failures
 * than the quorum allows fail the put and leave no partial object on any drive.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErasureBlobStore } from '../../../../src/storage/erasure/erasureBlobStore.js';
import { InsufficientShardsError } from '../../../../src/storage/erasure/errors.js';
import { toS3Error } from '../../../../src/s3/errors.js';
import { chunked, collect, newId } from '../../../contract/blobStore.contract.js';
import { FaultyFs, type Fault } from '../../../helpers/faultyFs.js';

const BLOCK = 4096;
const SIZE = 50_000;
const ERRNOS = ['ENOSPC', 'EDQUOT', 'EIO', 'EROFS'] as const;

/** Every call a put makes on drive `d`, as the fault that fails it there. */
function callKinds(d: number): Array<[string, Omit<Fault, 'code'>]> {
  const on = (rest: string) => new RegExp(`/d${d}/${rest}`);
  return [
    ['open of the temp file', { op: 'open', path: on('tmp/'), flags: 'w' }],
    ['the first write', { op: 'write', path: on('') }],
    ['a write after 20,000 bytes', { op: 'write', path: on(''), afterBytes: 20_000 }],
    ['fsync of the shard', { op: 'fsync', path: on('tmp/') }],
    ['mkdir of a shard directory', { op: 'mkdir', path: on('') }],
    ['rename into place', { op: 'rename', path: on('tmp/') }],
    ['fsync of the directory', { op: 'fsync', path: on('[0-9a-f]{2}/[0-9a-f]{2}$') }],
  ];
}

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

async function setup(drives: number, parity: number) {
  root = await mkdtemp(join(tmpdir(), 'coffer-ecf-'));
  const paths = Array.from({ length: drives }, (_, i) => join(root!, `d${i}`));
  const fs = new FaultyFs();
  const store = await ErasureBlobStore.open({ drives: paths, parity, blockSize: BLOCK, fs });
  /** Every file under tmp/ of every drive, and every shard file. */
  const leftovers = async () => {
    const tmp = (await Promise.all(paths.map((p) => readdir(join(p, 'tmp'))))).flat();
    const ids: string[] = [];
    for await (const id of store.list()) ids.push(id);
    return { tmp, ids };
  };
  const old = { id: newId(), data: randomBytes(SIZE) };
  await store.put(old.id, chunked(old.data, 3000));
  return { store, fs, paths, leftovers, old };
}

describe('ErasureBlobStore 2+2: one drive failing writes', () => {
  for (const code of ERRNOS) {
    for (const [what] of callKinds(0)) {
      it(`${code} on ${what}: the put succeeds on the quorum and queues the shard for healing`, async () => {
        const { store, fs, leftovers, old } = await setup(4, 2);
        fs.inject({ ...callKinds(1).find(([w]) => w === what)![1], code });
        const id = newId();
        const data = randomBytes(SIZE);
        await store.put(id, chunked(data, 3000));
        expect(fs.raised.length, 'the fault was hit').toBeGreaterThan(0);
        expect(store.healQueue.drain()).toEqual([{ id, shard: 1, reason: `write failed: ${code}` }]);
        fs.clear();
        expect((await collect(store.get(id))).equals(data)).toBe(true);
        expect((await collect(store.get(old.id))).equals(old.data)).toBe(true);
        const { tmp } = await leftovers();
        expect(tmp, 'no temp file on any drive').toEqual([]);
        expect(await store.heal(id)).toEqual([1]);
      });
    }
  }
});

describe('ErasureBlobStore: more failures than the quorum allows', () => {
  for (const code of ERRNOS) {
    for (const [what] of callKinds(0)) {
      it(`2+2, ${code} on ${what} on two drives: the put fails and leaves nothing`, async () => {
        const { store, fs, leftovers, old } = await setup(4, 2);
        for (const d of [0, 3]) fs.inject({ ...callKinds(d).find(([w]) => w === what)![1], code });
        const id = newId();
        const err = await store.put(id, chunked(randomBytes(SIZE), 3000)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InsufficientShardsError);
        expect((err as Error).message).toContain(`shard 0: ${code}; shard 3: ${code}`);
        expect((err as Error).message).not.toContain(root!);
        const full = code === 'ENOSPC' || code === 'EDQUOT';
        expect((err as InsufficientShardsError).storageFull).toBe(full);
        expect(toS3Error(err).status).toBe(full ? 507 : 503);
        fs.clear();
        expect(await leftovers()).toEqual({ tmp: [], ids: [old.id] });
        expect(await store.stat(id)).toBeUndefined();
        expect((await collect(store.get(old.id))).equals(old.data)).toBe(true);
      });
    }
  }

  it('2+2, one drive full and one failing: 503, not 507 (a drive is broken, not only the space gone)', async () => {
    const { store, fs } = await setup(4, 2);
    fs.inject({ op: 'write', path: /\/d0\//, code: 'ENOSPC' });
    fs.inject({ op: 'write', path: /\/d2\//, code: 'EIO' });
    const err = await store.put(newId(), chunked(randomBytes(SIZE), 3000)).catch((e: unknown) => e);
    expect((err as InsufficientShardsError).storageFull).toBe(false);
    expect(toS3Error(err).status).toBe(503);
  });

  it('2+0 (no parity, quorum k): one drive failing fails the put, and nothing is left on the other', async () => {
    const { store, fs, leftovers, old } = await setup(2, 0);
    fs.inject({ op: 'fsync', path: /\/d1\/tmp\//, code: 'ENOSPC' });
    const err = await store.put(newId(), chunked(randomBytes(SIZE), 3000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientShardsError);
    expect(toS3Error(err).code).toBe('InsufficientStorage');
    fs.clear();
    expect(await leftovers()).toEqual({ tmp: [], ids: [old.id] });
  });

  it('delete on a read-only drive fails with the drive named, not its path', async () => {
    const { store, fs, old } = await setup(4, 2);
    fs.inject({ op: 'unlink', path: /\/d2\//, code: 'EROFS' });
    const err = await store.delete(old.id).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'DiskFaultError', kind: 'readonly', drive: 'drive 2 "d2"' });
    expect(toS3Error(err).status).toBe(503);
  });
});
