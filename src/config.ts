/**
 * Config: the only reader of the environment and of config files.
 *
 * Order: config/default.json (shipped defaults) < a config file named by
 * COFFER_CONFIG (JSON) < environment variables. The result is validated into a
 * frozen, typed object; an invalid setting throws ConfigError naming it, and
 * main.ts turns that into one line on stderr and exit code 2.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { loadClientConfig, type ClientConfig } from './config/client.js';
import { drivesOf, healerOf } from './config/drives.js';
import { lifecycleOf } from './config/lifecycle.js';
import { pkcs11Of } from './config/pkcs11.js';
import { scaleOut } from './config/scaleOut.js';
import { tlsAndNetwork } from './config/tlsNetwork.js';
import { ConfigError, int, str, type Names } from './config/values.js';

export { ConfigError, loadClientConfig, type ClientConfig };

export interface Config {
  host: string;
  s3Port: number;
  kmsPort: number;
  dataDir: string;
  region: string;
  /** Base domain for virtual-host style requests ("" = path-style only). */
  baseDomain: string;
  rootUser: string;
  rootPassword: string;
  /**
   * API key of the root account's owner for the KMS API (COFFER_API_KEY, the
   * variable the CLI reads too; COFFER_ROOT_APIKEY is its deprecated name); "" =
   * generate one on first start (printed once).
   */
  rootApiKey: string;
  /** Base64 of 32 bytes, or "" to use (and create) the master key file (masterKeyFile). */
  masterKey: string;
  /**
   * COFFER_MASTER_KEY_FILE: the master key file, resolved. Absent when not set:
   * then defaultMasterKeyFile(), which is outside the data dir on purpose.
   */
  masterKeyFile?: string;
  /**
   * The master key in a PKCS#11 token (COFFER_PKCS11_*): the module (.so) path,
   * resolved; absent = the file key. The other pkcs11* are read only with it.
   */
  pkcs11Module?: string;
  pkcs11TokenLabel?: string;
  pkcs11Slot?: number;
  /** Label of the AES key object in the token; default coffer-master-key. */
  pkcs11KeyLabel?: string;
  /** The user PIN; never logged. Or a file holding it (pkcs11PinFile, resolved). */
  pkcs11Pin?: string;
  pkcs11PinFile?: string;
  segmentLog2: number;
  dekCacheTtlSeconds: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  maxHeaderBytes: number;
  maxXmlBytes: number;
  /** A connection with no bytes moving for this long is closed (a stalled upload must not hold a request forever). */
  idleTimeoutSeconds: number;
  /** Split mode: URL of a remote KMS; "" = embedded. */
  kmsUrl: string;
  /**
   * API key of the KMS's gateway service identity. A split-mode gateway
   * authenticates with it; the KMS process registers it (replacing a previous
   * one). Absent when not set (`coffer kms` then generates one on first start).
   */
  gatewayApiKey?: string;
  /**
   * Blob drives (COFFER_DRIVES, comma-separated; or a JSON array in the config
   * file), each a directory standing for one disk, resolved. Absent when not
   * set: blobs then live in <dataDir>/blobs. One drive keeps that plain layout;
   * two or more are erasure-coded (src/storage/erasure).
   */
  drives?: readonly string[];
  /** Parity shards m over `drives` (COFFER_PARITY); default half the drives, at least 1 from two drives. Set exactly when `drives` is. */
  parity?: number;
  /**
   * Shard reads per second of the background healer and scrubber, in MiB
   * (COFFER_HEAL_RATE_MIBPS; default 16, 0 = unlimited). Set exactly when `drives` is.
   */
  healRateMiBps?: number;
  /** Seconds between full background scrub passes (COFFER_SCRUB_INTERVAL_SECONDS; default 86400, 0 = none). Set exactly when `drives` is. */
  scrubIntervalSeconds?: number;
  /** PostgreSQL URL of a shared metadata store (postgres://...); absent = LevelDB in the data dir (embedded mode). */
  metaUrl?: string;
  /**
   * PostgreSQL URL of the shared KMS and IAM state (COFFER_KMS_STORE_URL; default: metaUrl). Set: every
   * process started on it with the same master key serves the same keys, accounts and credentials.
   */
  kmsStoreUrl?: string;
  /** S3 endpoint of a shared data tier; absent = blob files in the data dir. The other dataS3* are set with it. */
  dataS3Endpoint?: string;
  dataS3Bucket?: string;
  dataS3AccessKey?: string;
  dataS3SecretKey?: string;
  dataS3Region?: string;
  /**
   * A shared data tier's garbage: seconds a replaced or orphaned blob waits
   * before it may be deleted (COFFER_GC_GRACE_SECONDS; default 600), and between
   * orphan sweeps (COFFER_GC_SWEEP_SECONDS; default 3600). Set only with dataS3Endpoint.
   */
  gcGraceSeconds?: number;
  gcSweepSeconds?: number;
  /** Rotate the KMS audit log before it passes this many bytes (COFFER_AUDIT_MAX_BYTES); absent = 64 MiB. */
  auditMaxBytes?: number;
  /** Address the KMS listener binds (COFFER_KMS_HOST); default `host`. Beyond loopback it needs TLS (or kmsInsecureHttp). */
  kmsHost?: string;
  /** Both listeners speak HTTPS with this PEM certificate (chain) and key (COFFER_TLS_CERT, COFFER_TLS_KEY; both or neither). */
  tlsCert?: string;
  tlsKey?: string;
  /** PEM CA(s) whose client certificates the KMS listener requires (mutual TLS, COFFER_TLS_CLIENT_CA). */
  tlsClientCa?: string;
  /** A split-mode gateway reaching an https KMS: a PEM CA to trust (COFFER_TLS_CA) and a client certificate and key (COFFER_TLS_CLIENT_CERT/KEY). */
  tlsCa?: string;
  tlsClientCert?: string;
  tlsClientKey?: string;
  /** COFFER_KMS_INSECURE_HTTP=true: let the KMS listen beyond loopback without TLS. */
  kmsInsecureHttp?: boolean;
  /** What "private" means for allowedNetwork (and who may read /metrics): CIDR ranges (COFFER_PRIVATE_NETWORKS). */
  privateNetworks?: readonly string[];
  /** Proxies whose X-Forwarded-For the KMS believes (COFFER_TRUSTED_PROXIES, CIDR ranges); none by default. */
  trustedProxies?: readonly string[];
  /**
   * COFFER_SSE_C_REQUIRE_TLS: SSE-C requests over plain HTTP. "auto" (default):
   * refused unless the listener is on a loopback address; "true": always
   * refused (AWS's rule); "false": accepted.
   */
  sseCRequireTls?: 'auto' | 'true' | 'false';
  /**
   * COFFER_KMS_IMPLICIT_SAME_ACCOUNT_AUTHORIZATION=true: an account's S3 side
   * may use the root keys of its own KMS instances without a service-to-service
   * authorization (single-tenant embedded use). Off by default: as in IBM
   * Cloud, COS needs the Reader authorization even inside one account.
   */
  implicitSameAccountAuthorization?: boolean;
  /** Seconds in a lifecycle rule's day (COFFER_LIFECYCLE_DAY_SECONDS; 86400, shorter for tests). */
  lifecycleDaySeconds: number;
  /** Seconds between lifecycle passes (COFFER_LIFECYCLE_SCAN_SECONDS; default 3600, 0 = no worker). */
  lifecycleScanSeconds: number;
  /** Versions the lifecycle worker examines or removes per second (COFFER_LIFECYCLE_RATE; default 200, 0 = unlimited). */
  lifecycleRate: number;
}

const ENV: Record<string, keyof Config> = {
  COFFER_HOST: 'host',
  COFFER_S3_PORT: 's3Port',
  COFFER_KMS_PORT: 'kmsPort',
  COFFER_DATA_DIR: 'dataDir',
  COFFER_REGION: 'region',
  COFFER_BASE_DOMAIN: 'baseDomain',
  COFFER_ROOT_USER: 'rootUser',
  COFFER_ROOT_PASSWORD: 'rootPassword',
  // The root account owner's API key: the same variable the CLI reads its key from.
  COFFER_API_KEY: 'rootApiKey',
  COFFER_MASTER_KEY: 'masterKey',
  COFFER_MASTER_KEY_FILE: 'masterKeyFile',
  COFFER_PKCS11_MODULE: 'pkcs11Module',
  COFFER_PKCS11_TOKEN_LABEL: 'pkcs11TokenLabel',
  COFFER_PKCS11_SLOT: 'pkcs11Slot',
  COFFER_PKCS11_KEY_LABEL: 'pkcs11KeyLabel',
  COFFER_PKCS11_PIN: 'pkcs11Pin',
  COFFER_PKCS11_PIN_FILE: 'pkcs11PinFile',
  COFFER_SEGMENT_LOG2: 'segmentLog2',
  COFFER_DEK_CACHE_TTL_SECONDS: 'dekCacheTtlSeconds',
  COFFER_LOG_LEVEL: 'logLevel',
  COFFER_IDLE_TIMEOUT_SECONDS: 'idleTimeoutSeconds',
  COFFER_KMS_URL: 'kmsUrl',
  COFFER_GATEWAY_APIKEY: 'gatewayApiKey',
  COFFER_DRIVES: 'drives',
  COFFER_PARITY: 'parity',
  COFFER_HEAL_RATE_MIBPS: 'healRateMiBps',
  COFFER_SCRUB_INTERVAL_SECONDS: 'scrubIntervalSeconds',
  COFFER_META_URL: 'metaUrl',
  COFFER_KMS_STORE_URL: 'kmsStoreUrl',
  COFFER_DATA_S3_ENDPOINT: 'dataS3Endpoint',
  COFFER_DATA_S3_BUCKET: 'dataS3Bucket',
  COFFER_DATA_S3_ACCESS_KEY: 'dataS3AccessKey',
  COFFER_DATA_S3_SECRET_KEY: 'dataS3SecretKey',
  COFFER_DATA_S3_REGION: 'dataS3Region',
  COFFER_GC_GRACE_SECONDS: 'gcGraceSeconds',
  COFFER_GC_SWEEP_SECONDS: 'gcSweepSeconds',
  COFFER_AUDIT_MAX_BYTES: 'auditMaxBytes',
  COFFER_KMS_HOST: 'kmsHost',
  COFFER_TLS_CERT: 'tlsCert',
  COFFER_TLS_KEY: 'tlsKey',
  COFFER_TLS_CLIENT_CA: 'tlsClientCa',
  COFFER_TLS_CA: 'tlsCa',
  COFFER_TLS_CLIENT_CERT: 'tlsClientCert',
  COFFER_TLS_CLIENT_KEY: 'tlsClientKey',
  COFFER_KMS_INSECURE_HTTP: 'kmsInsecureHttp',
  COFFER_PRIVATE_NETWORKS: 'privateNetworks',
  COFFER_TRUSTED_PROXIES: 'trustedProxies',
  COFFER_SSE_C_REQUIRE_TLS: 'sseCRequireTls',
  COFFER_KMS_IMPLICIT_SAME_ACCOUNT_AUTHORIZATION: 'implicitSameAccountAuthorization',
  COFFER_LIFECYCLE_DAY_SECONDS: 'lifecycleDaySeconds',
  COFFER_LIFECYCLE_SCAN_SECONDS: 'lifecycleScanSeconds',
  COFFER_LIFECYCLE_RATE: 'lifecycleRate',
};

/** Every environment variable loadConfig reads (deployment manifests are checked against it: a typo there would be ignored silently). */
export const CONFIG_ENV_NAMES: readonly string[] = Object.freeze(['COFFER_CONFIG', ...Object.keys(ENV)]);

/** Old names still read, each with the one that replaced it (deprecatedSettings() warns). */
const DEPRECATED_ENV: Record<string, string> = {
  COFFER_ROOT_APIKEY: 'COFFER_API_KEY',
};

/**
 * `env` with each deprecated variable read as its new name when that one is not
 * set; the same key under both names must agree (a silent pick could lock the
 * root account out).
 */
function withDeprecated(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const [old, now] of Object.entries(DEPRECATED_ENV)) {
    const v = env[old];
    if (v === undefined || v === '') continue;
    if (env[now] !== undefined && env[now] !== '' && env[now] !== v)
      throw new ConfigError(old, `is deprecated and differs from ${now}: set only ${now}`);
    out[now] = v;
  }
  return out;
}

/** One warning per deprecated variable set in `env`, naming the one to use instead (the values are never shown). */
export function deprecatedSettings(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(DEPRECATED_ENV)
    .filter(([old]) => env[old] !== undefined && env[old] !== '')
    .map(([old, now]) => `${old} is deprecated: set ${now} instead (it is read as ${now} for now)`);
}

function defaultsPath(): string {
  // dist/src/config.js and src/config.ts both sit two levels below the repo root or one.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..']) {
    const p = join(here, up, 'config', 'default.json');
    try {
      readFileSync(p);
      return p;
    } catch {
      /* try the next */
    }
  }
  throw new ConfigError('config/default.json', 'not found');
}

function readJson(path: string, setting: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(setting, `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(setting, `invalid JSON in ${path}: ${(e as Error).message}`);
  }
}

/** Load and validate. `env` and `overrides` are injectable for tests. */
export function loadConfig(envIn: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const env = withDeprecated(envIn);
  const raw: Record<string, unknown> = { ...readJson(defaultsPath(), 'config/default.json') };
  if (env.COFFER_CONFIG) Object.assign(raw, readJson(env.COFFER_CONFIG, 'COFFER_CONFIG'));
  const origin: Record<string, string> = {};
  for (const [k, v] of Object.entries(ENV)) {
    if (env[k] !== undefined && env[k] !== '') {
      raw[v] = env[k];
      // A value read from a deprecated name is named by it in errors.
      const sent = envIn[k] !== undefined && envIn[k] !== '';
      origin[v] = sent ? k : (Object.keys(DEPRECATED_ENV).find((o) => DEPRECATED_ENV[o] === k) ?? k);
    }
  }
  Object.assign(raw, overrides);
  const name = (k: keyof Config) => origin[k] ?? k;
  const names: Names = { name, env: envName };

  const logLevel = str(raw.logLevel, name('logLevel')) || 'info';
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    throw new ConfigError(name('logLevel'), 'must be one of debug, info, warn, error, silent');
  }
  const masterKey = str(raw.masterKey, name('masterKey'));
  if (masterKey && Buffer.from(masterKey, 'base64').length !== 32) {
    throw new ConfigError(name('masterKey'), 'must be base64 of exactly 32 bytes');
  }
  const region = str(raw.region, name('region')) || 'us-east-1';
  if (!/^[a-z0-9-]{1,32}$/.test(region)) throw new ConfigError(name('region'), 'must be a region name like us-east-1');
  const rootUser = str(raw.rootUser, name('rootUser'));
  if (rootUser && !/^[A-Za-z0-9]{3,128}$/.test(rootUser))
    throw new ConfigError(name('rootUser'), 'must be 3-128 letters or digits');
  const rootPassword = str(raw.rootPassword, name('rootPassword'));
  if (rootPassword && rootPassword.length < 8)
    throw new ConfigError(name('rootPassword'), 'must be at least 8 characters');
  const rootApiKey = str(raw.rootApiKey, name('rootApiKey'));
  if (rootApiKey && !/^[\x21-\x7e]{16,256}$/.test(rootApiKey))
    throw new ConfigError(name('rootApiKey'), 'must be 16 to 256 printable characters without spaces');
  const gatewayApiKey = str(raw.gatewayApiKey, name('gatewayApiKey'));
  if (gatewayApiKey && !/^[\x21-\x7e]{16,256}$/.test(gatewayApiKey))
    throw new ConfigError(name('gatewayApiKey'), 'must be 16 to 256 printable characters without spaces');
  const kmsUrl = str(raw.kmsUrl, name('kmsUrl'));
  if (kmsUrl && !/^https?:\/\/[^/]+/.test(kmsUrl)) throw new ConfigError(name('kmsUrl'), 'must be an http(s) URL');

  const cfg: Config = {
    host: str(raw.host, name('host')) || '127.0.0.1',
    s3Port: int(raw.s3Port, name('s3Port'), 0, 65535),
    kmsPort: int(raw.kmsPort, name('kmsPort'), 0, 65535),
    dataDir: resolve(str(raw.dataDir, name('dataDir')) || './data'),
    region,
    baseDomain: str(raw.baseDomain, name('baseDomain')).toLowerCase(),
    rootUser,
    rootPassword,
    rootApiKey,
    masterKey,
    segmentLog2: int(raw.segmentLog2, name('segmentLog2'), 12, 24),
    dekCacheTtlSeconds: int(raw.dekCacheTtlSeconds, name('dekCacheTtlSeconds'), 0, 4 * 3600),
    logLevel: logLevel as Config['logLevel'],
    maxHeaderBytes: int(raw.maxHeaderBytes, name('maxHeaderBytes'), 1024, 1 << 20),
    maxXmlBytes: int(raw.maxXmlBytes, name('maxXmlBytes'), 1024, 64 << 20),
    idleTimeoutSeconds: int(raw.idleTimeoutSeconds ?? 120, name('idleTimeoutSeconds'), 1, 3600),
    kmsUrl,
    ...lifecycleOf(raw, names),
  };
  if (gatewayApiKey) cfg.gatewayApiKey = gatewayApiKey;
  const masterKeyFile = str(raw.masterKeyFile, name('masterKeyFile'));
  if (masterKeyFile) cfg.masterKeyFile = resolve(masterKeyFile);
  if (raw.auditMaxBytes !== undefined && raw.auditMaxBytes !== null)
    cfg.auditMaxBytes = int(raw.auditMaxBytes, name('auditMaxBytes'), 4096, 2 ** 40);
  Object.assign(cfg, pkcs11Of(raw, names));
  Object.assign(cfg, drivesOf(raw.drives, raw.parity, name('drives'), name('parity')));
  Object.assign(cfg, healerOf(raw, names, cfg.drives !== undefined));
  Object.assign(cfg, scaleOut(raw, names));
  Object.assign(cfg, tlsAndNetwork(raw, names));
  const implicit = raw.implicitSameAccountAuthorization;
  if (implicit !== undefined && implicit !== null && implicit !== '') {
    if (implicit === true || implicit === 'true' || implicit === '1') cfg.implicitSameAccountAuthorization = true;
    else if (!(implicit === false || implicit === 'false' || implicit === '0'))
      throw new ConfigError(name('implicitSameAccountAuthorization'), 'must be true or false');
  }
  return Object.freeze(cfg);
}

/**
 * Where the master key file goes when COFFER_MASTER_KEY_FILE is not set: the
 * user's configuration directory ($XDG_CONFIG_HOME/coffer/master.key, else
 * ~/.config/coffer/master.key), writable by `npm start` as a normal user and
 * by root alike, and never inside the data dir that holds the ciphertext.
 */
export function defaultMasterKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  // The XDG spec ignores a relative XDG_CONFIG_HOME.
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'coffer', 'master.key');
}

/** A setting that is not set anywhere is named by its environment variable, the usual way to set it. */
function envName(k: keyof Config): string {
  return Object.keys(ENV).find((e) => ENV[e] === k) ?? k;
}
