/**
 * The KMS as the gateway sees it in embedded mode: the in-process Key Protect
 * compatible service behind the KeyProvider seam, the unwrapped-DEK cache wired
 * to its lifecycle events (a disable drops cached DEKs before the call returns),
 * and the few tenant helpers the composition root and tests need.
 *
 * On a shared store (COFFER_KMS_STORE_URL) other processes change keys too:
 * every event of the shared feed (pgKeyEvents.ts) is applied here as if it were
 * ours (the key's DEKs are dropped, an authorization revoke drops its scope's),
 * and while the feed has not been read for longer than the DEK cache TTL the
 * process cannot know what it missed, so DEKs are refused with 503
 * (FailClosedKeyProvider; the cache is gated the same way).
 */
import { AuditingKeyProvider, type AuditSink } from '../kms/audit.js';
import type { KeyAuthorizer } from '../identity/keyAuthorizer.js';
import { formatKeyCrn } from '../keys/crn.js';
import { DekCache } from '../keys/dekCache.js';
import { openLocalKms, type LocalKms } from '../kms/localKms.js';
import type { KeyProvider } from '../keys/KeyProvider.js';
import type { Logger } from '../util/logger.js';
import type { MasterKeySealer } from '../kms/masterKeySealer.js';
import { FailClosedKeyProvider } from '../keys/failClosedKeyProvider.js';
import type { JsonKv } from '../meta/kv/jsonKv.js';
import type { PgJsonKv } from '../meta/kv/pgJsonKv.js';
import { PgKeyEvents } from '../kms/pgKeyEvents.js';

export interface EmbeddedKms {
  provider: KeyProvider;
  dekCache: DekCache;
  local: LocalKms;
  /** Instance segment of bucket CRNs registered on keys. */
  gatewayInstance: string;
  /** URL of the KMS REST API when it listens (split or API mode). */
  url?: string;
  /** Make sure the tenant owns a KMS instance (for its own root keys). */
  ensureTenant(account: string): Promise<string>;
  /** Create a root key in the tenant's instance; returns its CRN. */
  createRootKey(account: string, name: string): Promise<string>;
  close(): Promise<void>;
}

export interface EmbeddedKmsOptions {
  dir: string;
  /** The file key (copied) or a token sealer (owned by the key store from here on). */
  masterKey: Buffer | MasterKeySealer;
  region: string;
  dekCacheTtlMs: number;
  log: Logger;
  /** Who may use which root key (the IAM authorizer; the core's OwnerAuthorizer when omitted). */
  authorizer?: KeyAuthorizer;
  /** Where every wrap/unwrap/rewrap the gateway makes is audited. */
  audit?: AuditSink;
  /** The KMS's clock (tests cross the 30 s / 4 h / 30 d rules with a manual one). */
  now?: () => number;
  /** The key store in the shared database instead of `dir`. */
  sharedKv?: PgJsonKv;
}

export async function openEmbeddedKms(o: EmbeddedKmsOptions): Promise<EmbeddedKms> {
  const ttl = o.dekCacheTtlMs > 0 ? o.dekCacheTtlMs : Infinity;
  const local = await openLocalKms({
    dir: o.dir,
    ...(o.sharedKv
      ? {
          kv: {
            kv: o.sharedKv,
            feed: (kv: JsonKv) =>
              new PgKeyEvents(kv as PgJsonKv, {
                staleAfterMs: ttl,
                onError: (e) => o.log.warn('key event feed read failed', { err: e.message }),
              }),
          },
        }
      : {}),
    masterKey: o.masterKey,
    defaultInstance: { region: o.region, name: 'coffer-default' },
    ...(o.authorizer ? { authorizer: o.authorizer } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  const dekCache = new DekCache({ ttlMs: o.dekCacheTtlMs });
  dekCache.attachTo(local.provider);
  let provider: KeyProvider = local.provider;
  let unfollow = () => {};
  const feed = local.store.storeFeed;
  if (feed instanceof PgKeyEvents) {
    unfollow = feed.subscribe((ev) => {
      local.service.applyFeedEvent(ev);
      // An account-wide revoke names no instance: every cached DEK goes (more than needed, never less).
      if (ev.type === 'authorization_revoked')
        if (ev.instanceId === undefined) dekCache.clear();
        else dekCache.invalidateTarget(ev.instanceId, ev.keyId);
    });
    dekCache.setUsable(() => feed.isLive());
    provider = new FailClosedKeyProvider(local.provider, () => feed.isLive());
  }
  const sweeper = setInterval(() => {
    dekCache.sweep();
    void local.service.sweep().catch((e: unknown) => o.log.warn('kms sweep failed', { err: (e as Error).message }));
  }, 60_000);
  sweeper.unref();

  // Under the store's lock: two processes sharing it must not each create the tenant's instance.
  const ensureTenant = (account: string): Promise<string> =>
    local.store.locks.run(`kms/tenant/${account}`, async () => {
      const mine = await local.service.listInstances(account);
      if (mine.length) return mine[0].id;
      const inst = await local.service.createInstance({ account, region: o.region, name: `${account}-kms` });
      return inst.id;
    });

  return {
    provider: o.audit ? new AuditingKeyProvider(provider, o.audit) : provider,
    dekCache,
    local,
    gatewayInstance: 'coffer-s3',
    ensureTenant,
    async createRootKey(account, name) {
      const instanceId = await ensureTenant(account);
      const inst = await local.service.getInstance(instanceId);
      const key = await local.service.createKey(instanceId, { name, extractable: false });
      return formatKeyCrn({ region: inst.region, account: inst.account, instanceId, keyId: key.id });
    },
    async close() {
      clearInterval(sweeper);
      unfollow();
      dekCache.clear();
      await local.close();
    },
  };
}
