/**
 * The scale-out topology on one machine: one `coffer kms` process and N
 * `coffer server --kms-url` gateways over one PostgreSQL database (metadata)
 * and one S3 data tier (ciphertext). The database and the tier are the
 * caller's (a throwaway PostgreSQL, s3rver or another Coffer); this starts and
 * stops the Coffer processes. Used by test/integration/s3/multiGateway.test.ts
 * and `npm run bench -- --cluster`.
 */
import { join } from 'node:path';
import { banner, startCli, stopCli, type CliProcess } from './processes.js';

/** Where the gateways keep their blobs: an S3 endpoint and a bucket that exists there. */
export interface DataTier {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
}

export interface ClusterOptions {
  /** postgres://... of an empty (or already migrated) database. */
  metaUrl: string;
  tier: DataTier;
  gateways: number;
  /** Parent of the processes' data dirs (kms, gw1, gw2, ...), the caller's temp dir. */
  dir: string;
  /** The S3 root credentials and the root API key the KMS starts with, and the gateways' API key. */
  rootUser: string;
  rootPassword: string;
  rootApiKey: string;
  gatewayApiKey: string;
  /** Extra environment for every gateway (e.g. the garbage collector's timings). */
  gatewayEnv?: Record<string, string>;
  /** The built CLI (default: dist/src/cli/main.js of this checkout). */
  cli?: string;
  /** Called as each process is spawned (before it is up), so a caller's signal handler can stop it. */
  onSpawn?(p: CliProcess, name: string, dataDir: string): void;
}

export interface Cluster {
  kmsUrl: string;
  /** http://127.0.0.1:port of each gateway's S3 API, in start order. */
  gatewayUrls: string[];
  kms: CliProcess;
  gateways: CliProcess[];
  /** Gateways first, then the KMS; resolves with their exit codes in that order (0 each on a clean shutdown). */
  stop(): Promise<(number | null | undefined)[]>;
}

const KMS_BANNER = /KMS API:\s+(http:\/\/127\.0\.0\.1:\d+)/;
const S3_BANNER = /S3 endpoint:\s+(http:\/\/127\.0\.0\.1:\d+)/;

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const gateways: CliProcess[] = [];
  let kms: CliProcess | undefined;
  let stopped: Promise<(number | null | undefined)[]> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      const codes = [];
      for (const g of gateways) codes.push(await stopCli(g));
      codes.push(await stopCli(kms));
      return codes;
    })());
  try {
    kms = startCli(
      ['kms'],
      {
        COFFER_DATA_DIR: join(o.dir, 'kms'),
        COFFER_KMS_PORT: '0',
        COFFER_ROOT_USER: o.rootUser,
        COFFER_ROOT_PASSWORD: o.rootPassword,
        COFFER_ROOT_APIKEY: o.rootApiKey,
        COFFER_GATEWAY_APIKEY: o.gatewayApiKey,
      },
      o.cli,
    );
    o.onSpawn?.(kms, 'kms', join(o.dir, 'kms'));
    const kmsUrl = await banner(kms, KMS_BANNER, 'coffer kms');
    const shared = {
      COFFER_S3_PORT: '0',
      COFFER_GATEWAY_APIKEY: o.gatewayApiKey,
      COFFER_META_URL: o.metaUrl,
      COFFER_DATA_S3_ENDPOINT: o.tier.endpoint,
      COFFER_DATA_S3_BUCKET: o.tier.bucket,
      COFFER_DATA_S3_ACCESS_KEY: o.tier.accessKeyId,
      COFFER_DATA_S3_SECRET_KEY: o.tier.secretAccessKey,
      COFFER_DATA_S3_REGION: o.tier.region ?? 'us-east-1',
      ...o.gatewayEnv,
    };
    // Started together: they also race to migrate an empty database.
    for (let n = 1; n <= o.gateways; n++) {
      const dataDir = join(o.dir, `gw${n}`);
      const g = startCli(['server', '--kms-url', kmsUrl], { ...shared, COFFER_DATA_DIR: dataDir }, o.cli);
      gateways.push(g);
      o.onSpawn?.(g, `gateway ${n}`, dataDir);
    }
    const gatewayUrls: string[] = [];
    for (const [i, g] of gateways.entries()) gatewayUrls.push(await banner(g, S3_BANNER, `gateway ${i + 1}`));
    return { kmsUrl, gatewayUrls, kms, gateways, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
