/**
 * Where the master key file lives: apart from the data dir (COFFER_MASTER_KEY_FILE
 * or its default), with the key of older installs (<data>/kms-master.key) still
 * used - never replaced by a new key - and loud warnings whenever a key sits in
 * the data dir.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultMasterKeyFile } from '../../../src/config.js';
import { LEGACY_MASTER_KEY_FILE, loadMasterKey, MasterKeyError } from '../../../src/kms/masterKey.js';
import { tempDir } from './kmsTestKit.js';

describe('loadMasterKey with a key file apart from the data dir', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let data: string;
  let file: string;
  let warnings: string[];
  const warn = (m: string) => warnings.push(m);
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    data = join(dir, 'data');
    file = join(dir, 'config', 'coffer', 'master.key');
    warnings = [];
  });
  afterEach(async () => cleanup());

  it('creates the key at the given path (0600, directory 0700), nothing in the data dir, no warning', async () => {
    const first = await loadMasterKey({ dataDir: data, file, warn });
    expect(first.source).toBe('created');
    expect(first.path).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'config', 'coffer'))).mode & 0o777).toBe(0o700);
    await expect(stat(join(data, LEGACY_MASTER_KEY_FILE))).rejects.toThrow(/ENOENT/);
    const again = await loadMasterKey({ dataDir: data, file, warn });
    expect(again.source).toBe('file');
    expect(again.key.equals(first.key)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('keeps using the key of an older install in the data dir, with a loud warning, and creates no new key', async () => {
    await mkdir(data, { recursive: true });
    const old = randomBytes(32);
    await writeFile(join(data, LEGACY_MASTER_KEY_FILE), old, { mode: 0o600 });
    const r = await loadMasterKey({ dataDir: data, file, warn });
    expect(r.source).toBe('legacy');
    expect(r.key.equals(old)).toBe(true);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    expect(warnings.join('\n')).toMatch(/WARNING: .*INSIDE the data directory/);
    expect(warnings.join('\n')).toContain(file);
  });

  it('prefers the key at the new path once it is moved there, and warns while a copy stays in the data dir', async () => {
    await mkdir(data, { recursive: true });
    await mkdir(join(dir, 'config', 'coffer'), { recursive: true, mode: 0o700 });
    const k = randomBytes(32);
    await writeFile(file, k, { mode: 0o600 });
    await writeFile(join(data, LEGACY_MASTER_KEY_FILE), randomBytes(32), { mode: 0o600 });
    const r = await loadMasterKey({ dataDir: data, file, warn });
    expect(r.source).toBe('file');
    expect(r.key.equals(k)).toBe(true);
    expect(warnings.join('\n')).toMatch(/still in the data directory/);
  });

  it('warns loudly when the configured path is inside the data dir', async () => {
    const inside = join(data, 'secrets', 'master.key');
    const r = await loadMasterKey({ dataDir: data, file: inside, warn });
    expect(r.source).toBe('created');
    expect(warnings.join('\n')).toMatch(/WARNING: the KMS master key file .* is inside the data directory/);
  });

  it('refuses to make a new key when the data dir already holds a key store', async () => {
    const e = await loadMasterKey({ dataDir: data, file, create: false, warn }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MasterKeyError);
    expect((e as Error).message).toContain(file);
    expect((e as Error).message).toMatch(/restore the key file from its backup/);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('a configured (environment) key still wins and touches no file', async () => {
    const k = randomBytes(32);
    const r = await loadMasterKey({ dataDir: data, file, configured: k.toString('base64') });
    expect(r.source).toBe('config');
    expect(r.key.equals(k)).toBe(true);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });

  it('never reads the key file when the path is the legacy one itself (explicitly configured)', async () => {
    const legacy = join(data, LEGACY_MASTER_KEY_FILE);
    const r = await loadMasterKey({ dataDir: data, file: legacy, warn });
    expect(r.source).toBe('created');
    expect((await readFile(legacy)).equals(r.key)).toBe(true);
    expect(warnings.join('\n')).toMatch(/inside the data directory/);
  });
});

describe('defaultMasterKeyFile', () => {
  it('is $XDG_CONFIG_HOME/coffer/master.key, else ~/.config/coffer/master.key', () => {
    expect(defaultMasterKeyFile({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/u' })).toBe('/x/cfg/coffer/master.key');
    expect(defaultMasterKeyFile({ HOME: '/home/u' })).toBe('/home/u/.config/coffer/master.key');
    // A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
    expect(defaultMasterKeyFile({ XDG_CONFIG_HOME: 'rel', HOME: '/root' })).toBe('/root/.config/coffer/master.key');
  });
});
