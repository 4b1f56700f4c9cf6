/** LevelJsonKv: the JsonKv contract, and the LevelDB layout the stores wrote before the seam. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { describe, expect, it } from 'vitest';
import { LevelJsonKv } from '../../../../src/meta/kv/levelJsonKv.js';
import { jsonKvContract } from '../../../contract/jsonKv.contract.js';

jsonKvContract('LevelJsonKv', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'coffer-kv-'));
  const kv = await LevelJsonKv.open(dir);
  return {
    kv,
    cleanup: async () => {
      await kv.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('LevelJsonKv layout', () => {
  it('reads and writes the sublevels of a database written without it (JSON, and UTF-8 spaces)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'coffer-kv-'));
    try {
      const db = new Level<string, unknown>(join(dir, 'db'), { valueEncoding: 'json' });
      await db.sublevel<string, { id: string }>('key', { valueEncoding: 'json' }).put('i!k', { id: 'k' });
      await db.sublevel('alias', { valueEncoding: 'utf8' }).put('i!a', 'k');
      await db.close();
      const kv = await LevelJsonKv.open(join(dir, 'db'), { utf8Spaces: ['alias'] });
      expect(await kv.get('key', 'i!k')).toEqual({ id: 'k' });
      expect(await kv.get('alias', 'i!a')).toBe('k');
      await kv.write([{ type: 'put', space: 'alias', key: 'i!b', value: 'k2' }]);
      await kv.close();
      const again = new Level<string, string>(join(dir, 'db'), { valueEncoding: 'utf8' });
      expect(await again.get('!alias!i!b')).toBe('k2');
      expect(await again.get('!key!i!k')).toBe('{"id":"k"}');
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
