/** The shared stores of a scale-out deployment: PostgreSQL metadata and an S3 data tier. */
import type { Config } from '../config.js';
import type { Names } from './values.js';
import { ConfigError, int, str } from './values.js';

/**
 * The shared stores of a scale-out deployment; only the settings that are set
 * appear, so an embedded configuration is exactly what it was before them.
 */
export function scaleOut(raw: Record<string, unknown>, { name, env: envName }: Names): Partial<Config> {
  const out: Partial<Config> = {};
  const metaUrl = str(raw.metaUrl, name('metaUrl'));
  if (metaUrl) {
    // The URL may hold a password, so the error never repeats it.
    if (!/^postgres(ql)?:\/\/[^/]/.test(metaUrl))
      throw new ConfigError(name('metaUrl'), 'must be a postgres:// or postgresql:// URL');
    out.metaUrl = metaUrl;
  }
  // The KMS and IAM state follow the metadata into the shared database unless told otherwise.
  // `local` keeps them in the data dir (LevelDB) next to a shared metadata database.
  const configured = str(raw.kmsStoreUrl, name('kmsStoreUrl'));
  const kmsStoreUrl = configured === 'local' ? '' : configured || metaUrl;
  if (kmsStoreUrl) {
    if (!/^postgres(ql)?:\/\/[^/]/.test(kmsStoreUrl))
      throw new ConfigError(name('kmsStoreUrl'), 'must be a postgres:// or postgresql:// URL');
    out.kmsStoreUrl = kmsStoreUrl;
  }
  const s3 = {
    dataS3Endpoint: str(raw.dataS3Endpoint, name('dataS3Endpoint')),
    dataS3Bucket: str(raw.dataS3Bucket, name('dataS3Bucket')),
    dataS3AccessKey: str(raw.dataS3AccessKey, name('dataS3AccessKey')),
    dataS3SecretKey: str(raw.dataS3SecretKey, name('dataS3SecretKey')),
    dataS3Region: str(raw.dataS3Region, name('dataS3Region')),
  };
  if (!s3.dataS3Endpoint) {
    const stray = (Object.keys(s3) as Array<keyof typeof s3>).find((k) => s3[k] !== '');
    if (stray) throw new ConfigError(name(stray), `is set but ${envName('dataS3Endpoint')} is not`);
    for (const k of ['gcGraceSeconds', 'gcSweepSeconds'] as const)
      if (raw[k] !== undefined && raw[k] !== '')
        throw new ConfigError(name(k), `is set but ${envName('dataS3Endpoint')} is not`);
    return out;
  }
  // The grace must outlast a GET on another gateway and a PUT's blob-to-commit gap; a second is for tests.
  out.gcGraceSeconds = int(raw.gcGraceSeconds ?? 600, name('gcGraceSeconds'), 1, 30 * 86_400);
  out.gcSweepSeconds = int(raw.gcSweepSeconds ?? 3600, name('gcSweepSeconds'), 1, 30 * 86_400);
  if (!/^https?:\/\/[^/]+/.test(s3.dataS3Endpoint))
    throw new ConfigError(name('dataS3Endpoint'), 'must be an http(s) URL');
  for (const k of ['dataS3Bucket', 'dataS3AccessKey', 'dataS3SecretKey'] as const) {
    if (!s3[k]) throw new ConfigError(envName(k), `is required with ${name('dataS3Endpoint')}`);
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s3.dataS3Bucket))
    throw new ConfigError(
      name('dataS3Bucket'),
      'must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)',
    );
  s3.dataS3Region ||= 'us-east-1';
  if (!/^[a-z0-9-]{1,32}$/.test(s3.dataS3Region))
    throw new ConfigError(name('dataS3Region'), 'must be a region name like us-east-1');
  return { ...out, ...s3 };
}
