/**
 * Composition root of a split-mode gateway (`coffer server --kms-url URL`): the
 * S3 side of s3Server.ts - the same services and data path as embedded mode -
 * over a KMS in another process (`coffer kms`), reached as the KMS's gateway
 * service identity (COFFER_GATEWAY_APIKEY):
 *
 *   keys         RemoteKeyProvider: Key Protect v2 wrap/unwrap/rewrap and
 *                registrations, with x-coffer-tenant per call
 *   credentials  RemoteCredentialStore: S3 secrets looked up at the KMS (which
 *                owns IAM), cached for a few seconds
 *   key events   KeyEventStream: the KMS pushes every key lifecycle change and
 *                revoked authorization (server-sent events, resumed from the
 *                last sequence); the DEK cache drops the affected DEKs at once.
 *                Cut off from the KMS for longer than the DEK cache TTL, the
 *                gateway fails closed: S3 requests needing a DEK answer 503
 *                (FailClosedKeyProvider) until the stream is back.
 *
 * The gateway holds no key material of its own and needs no master key.
 */
import { RemoteAccountDirectory } from '../iam/remoteAccountDirectory.js';
import type { Server } from 'node:http';
import { ConfigError, type Config } from '../config.js';
import { RemoteCredentialStore } from '../iam/remoteCredentialStore.js';
import { ServiceAuthError, ServiceClient, ServiceUnavailableError } from '../keys/serviceClient.js';
import { DekCache } from '../keys/dekCache.js';
import type { MetaStore } from '../meta/MetaStore.js';
import { RemoteKeyProvider } from '../keys/remoteKeyProvider.js';
import { FailClosedKeyProvider } from '../keys/failClosedKeyProvider.js';
import { KeyEventStream } from '../keys/keyEventStream.js';
import type { BucketService } from '../services/bucketService.js';
import type { Logger } from '../util/logger.js';
import { readTlsClientFiles, tlsFetch } from '../util/tlsFetch.js';
import { startS3Server } from './s3Server.js';

export interface RemoteGateway {
  config: Config;
  s3Url: string;
  kmsUrl: string;
  defaultRootKeyCrn: string;
  provider: RemoteKeyProvider;
  dekCache: DekCache;
  /** The push channel from the KMS. */
  events: KeyEventStream;
  credentials: RemoteCredentialStore;
  server: Server;
  meta: MetaStore;
  buckets: BucketService;
  close(): Promise<void>;
}

export interface RemoteGatewayOptions {
  /** How long to wait for the KMS to answer at start (it may still be starting). Default 15 s. */
  startupWaitMs?: number;
  /** Credential cache TTL (default 10 s). */
  credentialTtlMs?: number;
}

export async function startRemoteGateway(
  config: Config,
  log: Logger,
  opts: RemoteGatewayOptions = {},
): Promise<RemoteGateway> {
  if (!config.kmsUrl) throw new ConfigError('COFFER_KMS_URL', 'split mode needs the URL of the KMS (--kms-url)');
  if (!config.gatewayApiKey) {
    throw new ConfigError(
      'COFFER_GATEWAY_APIKEY',
      "split mode needs the API key of the KMS's gateway identity (printed once by `coffer kms`)",
    );
  }
  // An https KMS: a private CA and, for mutual TLS, the gateway's client certificate.
  const tls = readTlsClientFiles({
    ...(config.tlsCa ? { ca: config.tlsCa } : {}),
    ...(config.tlsClientCert ? { cert: config.tlsClientCert } : {}),
    ...(config.tlsClientKey ? { key: config.tlsClientKey } : {}),
  });
  const client = new ServiceClient({
    url: config.kmsUrl,
    apiKey: config.gatewayApiKey,
    ...(Object.keys(tls).length ? { fetch: tlsFetch(tls) } : {}),
  });
  await waitForKms(client, opts.startupWaitMs ?? 15_000);
  const provider = new RemoteKeyProvider(client, { log });
  const defaultRootKeyCrn = await provider.defaultRootKeyCrn({ tenant: '' });
  const ttlMs = config.dekCacheTtlSeconds * 1000;
  const dekCache = new DekCache({ ttlMs });
  const events = new KeyEventStream(
    { client, staleAfterMs: ttlMs > 0 ? ttlMs : Infinity, log },
    {
      key: (crn) => dekCache.invalidateKey(crn),
      // An account-wide grant names no instance (nor the keys' account): every DEK goes, more than needed, never less.
      revoked: (instanceId, keyId) =>
        instanceId === undefined ? dekCache.clear() : dekCache.invalidateTarget(instanceId, keyId),
      reset: () => dekCache.clear(),
    },
  );
  dekCache.setUsable(() => events.isLive());
  events.start();
  // Serve only once the push channel is up (bounded: a slow stream start must not keep the gateway down).
  await Promise.race([events.connected, new Promise((r) => setTimeout(r, opts.startupWaitMs ?? 15_000).unref())]);
  const keys = new FailClosedKeyProvider(provider, () => events.isLive());
  const sweeper = setInterval(() => dekCache.sweep(), 60_000);
  sweeper.unref();
  const credentials = new RemoteCredentialStore(
    client,
    opts.credentialTtlMs !== undefined ? { ttlMs: opts.credentialTtlMs } : {},
  );
  let s3;
  try {
    s3 = await startS3Server({
      config,
      log,
      keys,
      dekCache,
      credentials,
      keyEvents: events,
      accounts: new RemoteAccountDirectory(client),
    });
  } catch (e) {
    clearInterval(sweeper);
    await events.close();
    dekCache.clear();
    throw e;
  }
  let closed = false;
  return {
    config,
    s3Url: s3.url,
    kmsUrl: client.url,
    defaultRootKeyCrn,
    provider,
    dekCache,
    events,
    credentials,
    server: s3.server,
    meta: s3.meta,
    buckets: s3.buckets,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      await events.close();
      await s3.close();
      dekCache.clear();
    },
  };
}

/** The first token exchange, retried while the KMS is unreachable; a refused API key fails at once. */
async function waitForKms(client: ServiceClient, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await client.token();
      return;
    } catch (e) {
      if (e instanceof ServiceAuthError)
        throw new Error(
          `the KMS at ${client.url} refused COFFER_GATEWAY_APIKEY: use the gateway API key \`coffer kms\` printed or was given`,
        );
      if (!(e instanceof ServiceUnavailableError) || Date.now() >= deadline)
        throw new Error(`cannot reach the KMS at ${client.url}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
