/** src/config.ts: the settings of the shared stores (PostgreSQL metadata, S3 data tier). */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no ConfigError');
}

const S3 = {
  COFFER_DATA_S3_ENDPOINT: 'http://127.0.0.1:9100',
  COFFER_DATA_S3_BUCKET: 'coffer-data',
  COFFER_DATA_S3_ACCESS_KEY: 'AKIDEXAMPLE',
  COFFER_DATA_S3_SECRET_KEY: 'secret-example-key',
};

describe('loadConfig: shared stores', () => {
  it('are absent by default, so an embedded configuration has none of their keys', () => {
    const c = loadConfig({});
    for (const k of [
      'metaUrl',
      'kmsStoreUrl',
      'dataS3Endpoint',
      'dataS3Bucket',
      'dataS3AccessKey',
      'dataS3SecretKey',
      'dataS3Region',
    ])
      expect(c).not.toHaveProperty(k);
  });

  it('COFFER_META_URL selects PostgreSQL; anything but a postgres URL is refused without echoing it', () => {
    expect(loadConfig({ COFFER_META_URL: 'postgres://u:pw@db:5432/coffer' }).metaUrl).toBe(
      'postgres://u:pw@db:5432/coffer',
    );
    expect(loadConfig({ COFFER_META_URL: 'postgresql://db/coffer?sslmode=require' }).metaUrl).toBe(
      'postgresql://db/coffer?sslmode=require',
    );
    const e = configError(() => loadConfig({ COFFER_META_URL: 'mysql://u:hunter2@db/x' }));
    expect(e.setting).toBe('COFFER_META_URL');
    expect(e.message).not.toContain('hunter2');
  });

  it('COFFER_KMS_STORE_URL: defaults to COFFER_META_URL, may name another database, `local` keeps LevelDB', () => {
    const meta = 'postgres://u:pw@db:5432/coffer';
    expect(loadConfig({ COFFER_META_URL: meta }).kmsStoreUrl).toBe(meta);
    expect(loadConfig({ COFFER_META_URL: meta, COFFER_KMS_STORE_URL: 'postgres://kms-db/k' }).kmsStoreUrl).toBe(
      'postgres://kms-db/k',
    );
    expect(loadConfig({ COFFER_KMS_STORE_URL: 'postgres://kms-db/k' })).toMatchObject({
      kmsStoreUrl: 'postgres://kms-db/k',
    });
    expect(loadConfig({ COFFER_META_URL: meta, COFFER_KMS_STORE_URL: 'local' })).not.toHaveProperty('kmsStoreUrl');
    const e = configError(() => loadConfig({ COFFER_KMS_STORE_URL: 'redis://u:hunter2@db' }));
    expect(e.setting).toBe('COFFER_KMS_STORE_URL');
    expect(e.message).not.toContain('hunter2');
  });

  it('COFFER_DATA_S3_*: all four together, region defaulting to us-east-1', () => {
    const c = loadConfig(S3);
    expect([c.dataS3Endpoint, c.dataS3Bucket, c.dataS3AccessKey, c.dataS3SecretKey, c.dataS3Region]).toEqual([
      'http://127.0.0.1:9100',
      'coffer-data',
      'AKIDEXAMPLE',
      'secret-example-key',
      'us-east-1',
    ]);
    expect(loadConfig({ ...S3, COFFER_DATA_S3_REGION: 'eu-de' }).dataS3Region).toBe('eu-de');
  });

  it('COFFER_DATA_S3_*: a missing or bad setting is named', () => {
    for (const k of ['COFFER_DATA_S3_BUCKET', 'COFFER_DATA_S3_ACCESS_KEY', 'COFFER_DATA_S3_SECRET_KEY'] as const) {
      expect(configError(() => loadConfig({ ...S3, [k]: '' })).setting).toBe(k);
    }
    expect(configError(() => loadConfig({ ...S3, COFFER_DATA_S3_ENDPOINT: 'ftp://x' })).setting).toBe(
      'COFFER_DATA_S3_ENDPOINT',
    );
    expect(configError(() => loadConfig({ ...S3, COFFER_DATA_S3_BUCKET: 'Bad_Bucket' })).setting).toBe(
      'COFFER_DATA_S3_BUCKET',
    );
    expect(configError(() => loadConfig({ ...S3, COFFER_DATA_S3_REGION: 'Not A Region' })).setting).toBe(
      'COFFER_DATA_S3_REGION',
    );
    // Credentials without an endpoint are a mistake, not silently ignored.
    const stray = configError(() => loadConfig({ COFFER_DATA_S3_BUCKET: 'coffer-data' }));
    expect([stray.setting, stray.message]).toEqual([
      'COFFER_DATA_S3_BUCKET',
      'COFFER_DATA_S3_BUCKET: is set but COFFER_DATA_S3_ENDPOINT is not',
    ]);
    // The secret is never part of an error message.
    expect(configError(() => loadConfig({ ...S3, COFFER_DATA_S3_BUCKET: 'x' })).message).not.toContain(
      'secret-example-key',
    );
  });
});
