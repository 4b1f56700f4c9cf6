import { randomBytes } from 'node:crypto';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MASTER_KEY_FILE, keyCheckValue, loadMasterKey, MasterKeyError } from '../../../src/kms/masterKey.js';
import { tempDir } from './kmsTestKit.js';

describe('loadMasterKey', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  it('creates a 32-byte key file with mode 0600 on first start and reuses it', async () => {
    const sub = join(dir, 'data');
    const first = await loadMasterKey({ dataDir: sub });
    expect(first.source).toBe('created');
    expect(first.key).toHaveLength(32);
    const st = await stat(join(sub, DEFAULT_MASTER_KEY_FILE));
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.size).toBe(32);
    expect((await readdir(sub)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const second = await loadMasterKey({ dataDir: sub });
    expect(second.source).toBe('file');
    expect(second.key.equals(first.key)).toBe(true);
  });

  it('gives concurrent first starts the same key', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => loadMasterKey({ dataDir: dir })));
    const k0 = all[0]!.key;
    expect(all.every((r) => r.key.equals(k0))).toBe(true);
    expect((await readFile(join(dir, DEFAULT_MASTER_KEY_FILE))).equals(k0)).toBe(true);
  });

  it('uses the configured base64 key and writes no file', async () => {
    const k = randomBytes(32);
    const r = await loadMasterKey({ dataDir: dir, configured: k.toString('base64') });
    expect(r.source).toBe('config');
    expect(r.key.equals(k)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    randomBytes(16).toString('base64'),
    'not*base64',
    randomBytes(33).toString('base64'),
    `${randomBytes(32).toString('base64')}junk`,
  ])('rejects a configured key that is not base64 of 32 bytes: %s', async (configured) => {
    await expect(loadMasterKey({ dataDir: dir, configured })).rejects.toThrow(MasterKeyError);
  });

  it('refuses a key file group or others can read, unless allowed (then warns)', async () => {
    await loadMasterKey({ dataDir: dir });
    const path = join(dir, DEFAULT_MASTER_KEY_FILE);
    await chmod(path, 0o644);
    await expect(loadMasterKey({ dataDir: dir })).rejects.toThrow(/chmod 600/);
    const warnings: string[] = [];
    const r = await loadMasterKey({ dataDir: dir, allowInsecurePermissions: true, warn: (m) => warnings.push(m) });
    expect(r.key).toHaveLength(32);
    expect(warnings[0]).toMatch(/mode 644/);
  });

  it('refuses a key file that is not exactly 32 bytes', async () => {
    const path = join(dir, DEFAULT_MASTER_KEY_FILE);
    await writeFile(path, randomBytes(31), { mode: 0o600 });
    await expect(loadMasterKey({ dataDir: dir })).rejects.toThrow(/exactly 32 raw bytes, found 31/);
    await writeFile(path, Buffer.from(randomBytes(32).toString('base64')), { mode: 0o600 });
    await expect(loadMasterKey({ dataDir: dir })).rejects.toThrow(/found 44/);
  });

  it('key check values differ per key and are not the key', () => {
    const a = randomBytes(32);
    expect(keyCheckValue(a).equals(keyCheckValue(Buffer.from(a)))).toBe(true);
    expect(keyCheckValue(a).equals(keyCheckValue(randomBytes(32)))).toBe(false);
    expect(keyCheckValue(a).equals(a)).toBe(false);
  });
});
