/**
 * root-credentials.json is replaced durably: the file is fsynced before the
 * rename, and the directory after it (without the second fsync a power cut
 * can undo the rename, and the credentials printed once would be lost).
 */
import { mkdtemp, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAtomic, type AtomicWriteIo } from '../../../src/iam/rootIdentity.js';
import { fsyncDir } from '../../../src/storage/durableFs.js';

/** Real file-system calls, recorded in order (the file handle's sync too). */
function recorder(): { io: AtomicWriteIo; calls: string[] } {
  const calls: string[] = [];
  const io: AtomicWriteIo = {
    open: (async (path: string, flags: string, mode: number) => {
      calls.push(`open ${path}`);
      const fh = await open(path, flags, mode);
      const sync = fh.sync.bind(fh);
      fh.sync = async () => {
        calls.push(`fsync ${path}`);
        return sync();
      };
      return fh;
    }) as AtomicWriteIo['open'],
    rename: async (from, to) => {
      calls.push(`rename ${String(from)} ${String(to)}`);
      return rename(from, to);
    },
    fsyncDir: async (dir) => {
      calls.push(`fsync-dir ${dir}`);
      return fsyncDir(dir);
    },
  };
  return { io, calls };
}

describe('rootIdentity writeAtomic', () => {
  it('fsyncs the file before the rename and the directory after it; the file is 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'coffer-rootid-'));
    try {
      const path = join(dir, 'root-credentials.json');
      const { io, calls } = recorder();
      await writeAtomic(path, '{"a":1}', io);
      expect(await readFile(path, 'utf8')).toBe('{"a":1}');
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const tmp = /^open (.*)$/.exec(calls[0] ?? '')?.[1] ?? '';
      expect(calls).toEqual([`open ${tmp}`, `fsync ${tmp}`, `rename ${tmp} ${path}`, `fsync-dir ${dir}`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
