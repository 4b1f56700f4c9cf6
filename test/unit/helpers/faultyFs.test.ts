/** The fault-injection file system itself: the disk-fault tests are only as good as its faults. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFully } from '../../../src/storage/durableFs.js';
import { collect } from '../../contract/blobStore.contract.js';
import { FaultyFs } from '../../helpers/faultyFs.js';

describe('FaultyFs', () => {
  let dir: string;
  let fs: FaultyFs;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-faultyfs-'));
    fs = new FaultyFs();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails a matching call with an error shaped like node: code, negative errno, syscall, path', async () => {
    // The whole path: a fault's path matches as a substring, and mkdtemp's random suffix may hold an 'x'.
    fs.inject({ op: 'mkdir', code: 'EROFS', path: join(dir, 'x') });
    const err = await fs.mkdir(join(dir, 'x'), {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EROFS', syscall: 'mkdir', path: join(dir, 'x') });
    expect((err as NodeJS.ErrnoException).errno).toBeLessThan(0);
    // Another path is not touched by the fault.
    await fs.mkdir(join(dir, 'y'), {});
  });

  it('afterBytes: the write crossing the limit is cut short, the next fails; only that many bytes land', async () => {
    fs.inject({ op: 'write', code: 'ENOSPC', afterBytes: 1000 });
    const path = join(dir, 'f');
    const fh = await fs.open(path, 'w');
    const first = await fh.writev([Buffer.alloc(600, 1), Buffer.alloc(600, 2)], 0);
    expect(first.bytesWritten).toBe(1000);
    await expect(fh.write(Buffer.alloc(10), 0, 10, 1000)).rejects.toMatchObject({ code: 'ENOSPC', syscall: 'write' });
    await expect(writeFully(fh, [Buffer.alloc(5)], 1000)).rejects.toMatchObject({ code: 'ENOSPC' });
    await fh.close();
    expect((await readFile(path)).length).toBe(1000);
  });

  it('afterCalls and times: lets N calls through, then fails only as often as told', async () => {
    fs.inject({ op: 'fsync', code: 'EIO', afterCalls: 1, times: 1 });
    const fh = await fs.open(join(dir, 'f'), 'w');
    await fh.sync();
    await expect(fh.sync()).rejects.toMatchObject({ code: 'EIO', syscall: 'fsync' });
    await fh.sync();
    await fh.close();
    expect(fs.raised).toHaveLength(1);
  });

  it('open faults can be limited to writes; read streams fail on a read fault; clear() heals the disk', async () => {
    const path = join(dir, 'f');
    await writeFile(path, 'hello');
    fs.inject({ op: 'open', code: 'EROFS', flags: 'w' });
    await (await fs.open(path, 'r')).close();
    await expect(fs.open(join(dir, 'g'), 'wx')).rejects.toMatchObject({ code: 'EROFS' });
    fs.inject({ op: 'read', code: 'EIO' });
    await expect(collect(fs.createReadStream(path, {}))).rejects.toMatchObject({ code: 'EIO' });
    fs.clear();
    expect((await collect(fs.createReadStream(path, {}))).toString()).toBe('hello');
  });

  it('rename matches the source or the target path', async () => {
    await writeFile(join(dir, 'a'), '1');
    fs.inject({ op: 'rename', code: 'ENOSPC', path: /\/b$/ });
    await expect(fs.rename(join(dir, 'a'), join(dir, 'b'))).rejects.toMatchObject({ code: 'ENOSPC' });
    await fs.rename(join(dir, 'a'), join(dir, 'c'));
  });
});
