import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, deprecatedSettings, loadClientConfig, loadConfig, type Config } from '../../src/config.js';

const KEY32 = randomBytes(32).toString('base64');

/** The ConfigError `f` throws. */
function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no ConfigError');
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

describe('loadConfig: defaults', () => {
  it('come from config/default.json, with nothing in the environment', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      s3Port: 9000,
      kmsPort: 9001,
      dataDir: resolve('./data'),
      region: 'us-east-1',
      baseDomain: '',
      rootUser: '',
      rootPassword: '',
      rootApiKey: '',
      masterKey: '',
      segmentLog2: 16,
      dekCacheTtlSeconds: 30,
      logLevel: 'info',
      maxHeaderBytes: 16384,
      maxXmlBytes: 1048576,
      idleTimeoutSeconds: 120,
      kmsUrl: '',
      lifecycleDaySeconds: 86400,
      lifecycleScanSeconds: 3600,
      lifecycleRate: 200,
    } satisfies Config);
  });

  it('does not read process.env when an env object is given', () => {
    const saved = process.env.COFFER_S3_PORT;
    process.env.COFFER_S3_PORT = '1234';
    try {
      expect(loadConfig({}).s3Port).toBe(9000);
    } finally {
      if (saved === undefined) delete process.env.COFFER_S3_PORT;
      else process.env.COFFER_S3_PORT = saved;
    }
  });

  it('the result is frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { s3Port: number }).s3Port = 1;
    }).toThrow(TypeError);
  });
});

describe('loadConfig: environment overrides', () => {
  it('every COFFER_* variable sets its setting', () => {
    const c = loadConfig({
      COFFER_HOST: '0.0.0.0',
      COFFER_S3_PORT: '19000',
      COFFER_KMS_PORT: '19001',
      COFFER_DATA_DIR: '/var/lib/coffer',
      COFFER_REGION: 'eu-de',
      COFFER_BASE_DOMAIN: 'S3.Example.COM',
      COFFER_ROOT_USER: 'admin123',
      COFFER_ROOT_PASSWORD: 'correct horse',
      COFFER_API_KEY: 'kp-root-apikey-0123456789',
      COFFER_MASTER_KEY: KEY32,
      COFFER_SEGMENT_LOG2: '20',
      COFFER_DEK_CACHE_TTL_SECONDS: '0',
      COFFER_LOG_LEVEL: 'debug',
      COFFER_IDLE_TIMEOUT_SECONDS: '30',
      COFFER_KMS_URL: 'https://kms.example.com:9001',
      COFFER_LIFECYCLE_DAY_SECONDS: '2',
      COFFER_LIFECYCLE_SCAN_SECONDS: '0',
      COFFER_LIFECYCLE_RATE: '50',
    });
    expect(c).toEqual({
      host: '0.0.0.0',
      s3Port: 19000,
      kmsPort: 19001,
      dataDir: '/var/lib/coffer',
      region: 'eu-de',
      baseDomain: 's3.example.com',
      rootUser: 'admin123',
      rootPassword: 'correct horse',
      rootApiKey: 'kp-root-apikey-0123456789',
      masterKey: KEY32,
      segmentLog2: 20,
      dekCacheTtlSeconds: 0,
      logLevel: 'debug',
      maxHeaderBytes: 16384,
      maxXmlBytes: 1048576,
      idleTimeoutSeconds: 30,
      kmsUrl: 'https://kms.example.com:9001',
      lifecycleDaySeconds: 2,
      lifecycleScanSeconds: 0,
      lifecycleRate: 50,
    } satisfies Config);
  });

  it('lifecycle settings are range-checked and named by their variable', () => {
    expect(() => loadConfig({ COFFER_LIFECYCLE_DAY_SECONDS: '0' })).toThrow(/COFFER_LIFECYCLE_DAY_SECONDS/);
    expect(() => loadConfig({ COFFER_LIFECYCLE_DAY_SECONDS: '86401' })).toThrow(/COFFER_LIFECYCLE_DAY_SECONDS/);
    expect(() => loadConfig({ COFFER_LIFECYCLE_SCAN_SECONDS: 'soon' })).toThrow(/COFFER_LIFECYCLE_SCAN_SECONDS/);
    expect(() => loadConfig({ COFFER_LIFECYCLE_RATE: '-1' })).toThrow(/COFFER_LIFECYCLE_RATE/);
  });

  it('an empty variable counts as unset', () => {
    expect(loadConfig({ COFFER_S3_PORT: '', COFFER_REGION: '' })).toMatchObject({ s3Port: 9000, region: 'us-east-1' });
  });

  it('integers may carry surrounding whitespace', () => {
    expect(loadConfig({ COFFER_S3_PORT: ' 8080 ' }).s3Port).toBe(8080);
  });

  it('ports 0 and 65535 are accepted', () => {
    expect(loadConfig({ COFFER_S3_PORT: '0', COFFER_KMS_PORT: '65535' })).toMatchObject({ s3Port: 0, kmsPort: 65535 });
  });

  it('a relative data dir is resolved against the working directory', () => {
    expect(loadConfig({ COFFER_DATA_DIR: 'rel/dir' }).dataDir).toBe(resolve('rel/dir'));
  });

  it('explicit overrides beat the environment', () => {
    expect(loadConfig({ COFFER_S3_PORT: '1' }, { s3Port: 2 }).s3Port).toBe(2);
  });

  it('unknown variables are ignored', () => {
    expect(loadConfig({ COFFER_NOPE: 'x', PATH: '/bin' })).toEqual(loadConfig({}));
  });
});

describe('loadConfig: invalid values name the environment variable', () => {
  const cases: Array<[string, string]> = [
    ['COFFER_S3_PORT', 'abc'],
    ['COFFER_S3_PORT', '65536'],
    ['COFFER_S3_PORT', '-1'],
    ['COFFER_S3_PORT', '80.5'],
    ['COFFER_S3_PORT', '0x50'],
    ['COFFER_KMS_PORT', '1e3'],
    ['COFFER_SEGMENT_LOG2', '11'],
    ['COFFER_SEGMENT_LOG2', '25'],
    ['COFFER_DEK_CACHE_TTL_SECONDS', '14401'],
    ['COFFER_LOG_LEVEL', 'verbose'],
    ['COFFER_LOG_LEVEL', 'INFO'],
    ['COFFER_REGION', 'US East'],
    ['COFFER_REGION', 'x'.repeat(33)],
    ['COFFER_ROOT_USER', 'ab'],
    ['COFFER_ROOT_USER', 'admin-user'],
    ['COFFER_ROOT_PASSWORD', 'short'],
    ['COFFER_API_KEY', 'too-short'],
    ['COFFER_API_KEY', 'has a space in it, sixteen+'],
    ['COFFER_ROOT_APIKEY', 'too-short'],
    ['COFFER_KMS_URL', 'kms.example.com'],
    ['COFFER_KMS_URL', 'ftp://kms'],
    ['COFFER_MASTER_KEY', 'too-short'],
  ];
  for (const [name, value] of cases) {
    it(`${name}=${value.length > 20 ? value.slice(0, 20) + '…' : value}`, () => {
      const e = configError(() => loadConfig({ [name]: value }));
      expect(e.setting).toBe(name);
      expect(e.message.startsWith(`${name}: `)).toBe(true);
      expect(e.name).toBe('ConfigError');
    });
  }

  it('the message says what is allowed and what was given', () => {
    const e = configError(() => loadConfig({ COFFER_S3_PORT: 'abc' }));
    expect(e.message).toBe('COFFER_S3_PORT: must be an integer from 0 to 65535, got "abc"');
  });
});

describe('loadConfig: masterKey', () => {
  it('accepts base64 of exactly 32 bytes', () => {
    expect(loadConfig({ COFFER_MASTER_KEY: KEY32 }).masterKey).toBe(KEY32);
  });

  it('refuses 31 and 33 bytes, hex, and text that is not base64', () => {
    const bad = [
      randomBytes(31).toString('base64'),
      randomBytes(33).toString('base64'),
      randomBytes(32).toString('hex'),
      '#'.repeat(44),
      'not a key',
    ];
    for (const k of bad)
      expect(configError(() => loadConfig({ COFFER_MASTER_KEY: k })).setting, k).toBe('COFFER_MASTER_KEY');
  });

  it('empty means "use the key file"', () => {
    expect(loadConfig({ COFFER_MASTER_KEY: '' }).masterKey).toBe('');
  });
});

describe('loadConfig: COFFER_CONFIG file', () => {
  it('overrides the defaults; unset settings keep them', async () => {
    const p = await file(
      'a.json',
      JSON.stringify({ s3Port: 7000, region: 'eu-gb', baseDomain: 'Files.Local', logLevel: 'warn' }),
    );
    expect(loadConfig({ COFFER_CONFIG: p })).toMatchObject({
      s3Port: 7000,
      kmsPort: 9001,
      region: 'eu-gb',
      baseDomain: 'files.local',
      logLevel: 'warn',
    });
  });

  it('the environment beats the file', async () => {
    const p = await file('b.json', JSON.stringify({ s3Port: 7000, region: 'eu-gb' }));
    expect(loadConfig({ COFFER_CONFIG: p, COFFER_S3_PORT: '7100' })).toMatchObject({ s3Port: 7100, region: 'eu-gb' });
  });

  it('numbers may be JSON numbers or digit strings', async () => {
    const p = await file(
      'c.json',
      JSON.stringify({ s3Port: '7001', segmentLog2: 12, maxXmlBytes: 2048, maxHeaderBytes: 1024 }),
    );
    expect(loadConfig({ COFFER_CONFIG: p })).toMatchObject({
      s3Port: 7001,
      segmentLog2: 12,
      maxXmlBytes: 2048,
      maxHeaderBytes: 1024,
    });
  });

  it('an invalid value from the file names the setting', async () => {
    const p = await file('d.json', JSON.stringify({ s3Port: 70000 }));
    expect(configError(() => loadConfig({ COFFER_CONFIG: p })).setting).toBe('s3Port');
    const q = await file('e.json', JSON.stringify({ host: 5 }));
    expect(configError(() => loadConfig({ COFFER_CONFIG: q })).setting).toBe('host');
    const r = await file('f.json', JSON.stringify({ maxXmlBytes: 10 }));
    expect(configError(() => loadConfig({ COFFER_CONFIG: r })).setting).toBe('maxXmlBytes');
    const s = await file('g.json', JSON.stringify({ segmentLog2: 16.5 }));
    expect(configError(() => loadConfig({ COFFER_CONFIG: s })).setting).toBe('segmentLog2');
  });

  it('a bad value in the file is forgiven when the environment overrides it', async () => {
    const p = await file('h.json', JSON.stringify({ s3Port: 'nope' }));
    expect(loadConfig({ COFFER_CONFIG: p, COFFER_S3_PORT: '7002' }).s3Port).toBe(7002);
  });

  it('a missing file is a ConfigError naming COFFER_CONFIG and the path', () => {
    const missing = join(dir, 'missing.json');
    const e = configError(() => loadConfig({ COFFER_CONFIG: missing }));
    expect(e.setting).toBe('COFFER_CONFIG');
    expect(e.message).toContain(missing);
  });

  it('invalid JSON, or JSON that is not an object, is a ConfigError naming COFFER_CONFIG', async () => {
    for (const [name, content] of [
      ['i.json', '{ s3Port: 1 }'],
      ['j.json', '[1, 2]'],
      ['k.json', '42'],
      ['l.json', 'null'],
      ['m.json', ''],
    ]) {
      const p = await file(name, content);
      const e = configError(() => loadConfig({ COFFER_CONFIG: p }));
      expect(e.setting, content).toBe('COFFER_CONFIG');
      expect(e.message).toContain('invalid JSON');
    }
  });
});

describe('loadConfig: drives', () => {
  it('COFFER_DRIVES lists the drives (resolved); parity defaults to half of them, at least 1 from two', () => {
    expect(loadConfig({ COFFER_DRIVES: '/d1,/d2,/d3,/d4' })).toMatchObject({
      drives: ['/d1', '/d2', '/d3', '/d4'],
      parity: 2,
    });
    expect(loadConfig({ COFFER_DRIVES: ' /d1 , rel/d2,/d3' })).toMatchObject({
      drives: ['/d1', resolve('rel/d2'), '/d3'],
      parity: 1,
    });
    expect(loadConfig({ COFFER_DRIVES: '/d1,/d2' })).toMatchObject({ parity: 1 });
    expect(loadConfig({ COFFER_DRIVES: '/only' })).toMatchObject({ drives: ['/only'], parity: 0 });
    expect(loadConfig({ COFFER_DRIVES: '/d1,/d2,/d3,/d4,/d5' })).toMatchObject({ parity: 2 });
  });

  it('COFFER_PARITY sets m; unset drives leave both settings out', () => {
    expect(loadConfig({ COFFER_DRIVES: '/d1,/d2,/d3,/d4', COFFER_PARITY: '1' })).toMatchObject({ parity: 1 });
    expect(loadConfig({ COFFER_DRIVES: '/d1,/d2', COFFER_PARITY: '0' })).toMatchObject({ parity: 0 });
    const plain = loadConfig({});
    expect('drives' in plain || 'parity' in plain).toBe(false);
  });

  it('the background healer settings come with drives: defaults 16 MiB/s and a daily pass, 0 turns either off', () => {
    expect(loadConfig({ COFFER_DRIVES: '/d1,/d2' })).toMatchObject({ healRateMiBps: 16, scrubIntervalSeconds: 86400 });
    expect(
      loadConfig({ COFFER_DRIVES: '/d1,/d2', COFFER_HEAL_RATE_MIBPS: '0', COFFER_SCRUB_INTERVAL_SECONDS: '0' }),
    ).toMatchObject({ healRateMiBps: 0, scrubIntervalSeconds: 0 });
    const plain = loadConfig({});
    expect('healRateMiBps' in plain || 'scrubIntervalSeconds' in plain).toBe(false);
    expect(configError(() => loadConfig({ COFFER_HEAL_RATE_MIBPS: '4' })).setting).toBe('COFFER_HEAL_RATE_MIBPS');
    expect(
      configError(() => loadConfig({ COFFER_DRIVES: '/d1,/d2', COFFER_SCRUB_INTERVAL_SECONDS: 'daily' })).setting,
    ).toBe('COFFER_SCRUB_INTERVAL_SECONDS');
  });

  it('the config file may give drives as an array, and the environment wins', async () => {
    const p = await file('drives.json', JSON.stringify({ drives: ['/a', '/b', '/c'], parity: 1 }));
    expect(loadConfig({ COFFER_CONFIG: p })).toMatchObject({ drives: ['/a', '/b', '/c'], parity: 1 });
    expect(loadConfig({ COFFER_CONFIG: p, COFFER_DRIVES: '/x,/y' })).toMatchObject({ drives: ['/x', '/y'], parity: 1 });
  });

  it.each([
    [{ COFFER_DRIVES: '/d1,/d2', COFFER_PARITY: '2' }, 'COFFER_PARITY', /from 0 to 1/],
    [{ COFFER_DRIVES: '/d1', COFFER_PARITY: '1' }, 'COFFER_PARITY', /from 0 to 0/],
    [{ COFFER_PARITY: '1' }, 'COFFER_PARITY', /needs drives/],
    [{ COFFER_DRIVES: '/d1,,/d2' }, 'COFFER_DRIVES', /none empty/],
    [{ COFFER_DRIVES: '/d1,/d1/' }, 'COFFER_DRIVES', /same directory twice/],
  ])('%j is a ConfigError naming %s', (env, setting, message) => {
    const e = configError(() => loadConfig(env));
    expect(e.setting).toBe(setting);
    expect(e.message).toMatch(message);
  });
});

describe('loadConfig: masterKeyFile', () => {
  it('COFFER_MASTER_KEY_FILE names the key file (resolved); absent when not set', () => {
    expect(loadConfig({ COFFER_MASTER_KEY_FILE: 'keys/master.key' }).masterKeyFile).toBe(resolve('keys/master.key'));
    expect(loadConfig({}).masterKeyFile).toBeUndefined();
  });
});

describe('loadConfig: one name for the API key', () => {
  const KEY = 'the-root-api-key-0123456789';
  it('COFFER_API_KEY is the root API key, as the CLI reads it; no warning', () => {
    expect(loadConfig({ COFFER_API_KEY: KEY }).rootApiKey).toBe(KEY);
    expect(loadClientConfig({ COFFER_API_KEY: KEY }).apiKey).toBe(KEY);
    expect(deprecatedSettings({ COFFER_API_KEY: KEY })).toEqual([]);
  });

  it('the old COFFER_ROOT_APIKEY still works for the server and the CLI, with a warning that names the new one', () => {
    expect(loadConfig({ COFFER_ROOT_APIKEY: KEY }).rootApiKey).toBe(KEY);
    expect(loadClientConfig({ COFFER_ROOT_APIKEY: KEY }).apiKey).toBe(KEY);
    const w = deprecatedSettings({ COFFER_ROOT_APIKEY: KEY });
    expect(w).toEqual([expect.stringMatching(/^COFFER_ROOT_APIKEY is deprecated: set COFFER_API_KEY instead/)]);
    expect(w.join()).not.toContain(KEY);
    expect(loadConfig({ COFFER_ROOT_APIKEY: KEY, COFFER_API_KEY: KEY }).rootApiKey).toBe(KEY);
    expect(loadClientConfig({ COFFER_ROOT_APIKEY: 'other', COFFER_API_KEY: KEY }).apiKey).toBe(KEY);
  });

  it('both names with different keys is an error (never a silent pick)', () => {
    const e = configError(() => loadConfig({ COFFER_ROOT_APIKEY: KEY, COFFER_API_KEY: `${KEY}-2` }));
    expect(e.setting).toBe('COFFER_ROOT_APIKEY');
    expect(e.message).not.toContain(KEY);
  });
});

describe('loadConfig: COFFER_AUDIT_MAX_BYTES', () => {
  it('is absent unless set, an integer of at least 4096 when set', () => {
    expect(loadConfig({}).auditMaxBytes).toBeUndefined();
    expect(loadConfig({ COFFER_AUDIT_MAX_BYTES: '1048576' }).auditMaxBytes).toBe(1048576);
    expect(configError(() => loadConfig({ COFFER_AUDIT_MAX_BYTES: '100' })).setting).toBe('COFFER_AUDIT_MAX_BYTES');
    expect(configError(() => loadConfig({ COFFER_AUDIT_MAX_BYTES: '64MiB' })).setting).toBe('COFFER_AUDIT_MAX_BYTES');
  });
});
