/**
 * The KMS side of Coffer: the key store and KmsService (with the default
 * instance and root key), IAM (accounts, identities, API keys, S3 access keys,
 * authorizations), the root identity, the audit log, and the KMS REST listener
 * (Key Protect v2 under /api/v2, POST /identity/token, /iam/v1).
 *
 * `coffer kms` runs this alone (split mode): gateways in other processes reach
 * it over HTTP as their gateway service identity. The embedded gateway
 * (gateway.ts) runs exactly this and puts the S3 listener next to it. Either
 * way IAM lives here: its store is one LevelDB directory that one process opens,
 * or - with COFFER_KMS_STORE_URL (by default COFFER_META_URL) - the shared
 * PostgreSQL database that any number of such processes open (sharedKmsStore.ts).
 *
 * Files in the data dir: kms/ (key store), iam/, kms-instance/ (instance
 * policies), kms-audit.log (with its rotated kms-audit.log.N and
 * kms-audit.log.head), root-credentials.json, coffer-data.json (dataDir.ts).
 * The master key file is apart from it (COFFER_MASTER_KEY_FILE, by default
 * ~/.config/coffer/master.key; masterKey.ts), unless COFFER_MASTER_KEY.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CredentialStore } from '../auth/credentials.js';
import type { Config } from '../config.js';
import { IamCredentialStore } from '../iam/iamCredentialStore.js';
import { migrateAuthorizations } from '../iam/authorizationMigration.js';
import { IamKeyAuthorizer } from '../iam/iamKeyAuthorizer.js';
import { openIam, type Iam } from '../iam/openIam.js';
import { loadRootIdentity, type RootIdentity } from '../iam/rootIdentity.js';
import { InstanceStateStore } from '../kms/instanceState.js';
import { AuditLog, readAuditLog } from '../kms/audit.js';
import { InstancePolicies } from '../kms/instancePolicies.js';
import { KmsMetrics, teeAudit } from '../kms/metrics.js';
import { WebhookDispatcher } from '../kms/webhooks.js';
import type { KeyAuthorizer } from '../identity/keyAuthorizer.js';
import type { Logger } from '../util/logger.js';
import { DataDirError, guardDataDir, openingStore, storesOf, type DataDirGuard } from './dataDir.js';
import { BackupSources } from './backup/backupRoute.js';
import { openEmbeddedKms, type EmbeddedKms } from './embeddedKms.js';
import { createKmsApp, listenKms } from './kmsApp.js';
import { openMasterKeySource } from './masterKeySource.js';
import { kmsBindHost, listenerTls } from './listenerTls.js';
import { openSharedKmsStore } from './sharedKmsStore.js';

export interface KmsServer {
  config: Config;
  /** URL of the KMS REST API. */
  url: string;
  kms: EmbeddedKms;
  iam: Iam;
  audit: AuditLog;
  root: RootIdentity;
  /** Root credentials, then IAM access keys: what SigV4 checks (embedded) and what gateways look up (split). */
  credentials: CredentialStore;
  defaultRootKeyCrn: string;
  /** What POST /admin/v1/backup snapshots: the KMS's stores; the embedded gateway adds its metadata store. */
  backup: BackupSources;
  /** The master key file in use; absent when the key came from COFFER_MASTER_KEY. */
  masterKeyFile?: string;
  /** Where the PKCS#11 master key is (token and key label); absent with a file key. */
  masterKeyToken?: string;
  close(): Promise<void>;
}

export interface KmsServerOptions {
  /** The KMS clock (tests); Date.now by default. */
  now?: () => number;
  /** `coffer kms`: give the gateway identity an API key on first start when COFFER_GATEWAY_APIKEY is not set. */
  generateGatewayApiKey?: boolean;
  /**
   * The data dir as the caller checked it for every store of its process (the
   * embedded gateway: KMS and S3 side); that caller marks it ready. Absent: the
   * KMS checks its own stores and marks the dir ready once they are open.
   */
  dataDir?: DataDirGuard;
}

export async function startKmsServer(config: Config, log: Logger, opts: KmsServerOptions = {}): Promise<KmsServer> {
  // Settings that refuse the start are checked before anything is opened.
  const bindHost = kmsBindHost(config);
  const tls = listenerTls(config, true);
  const guard = opts.dataDir ?? (await guardDataDir(config.dataDir, storesOf(config, { kms: true, s3: false })));
  const shared = await openSharedKmsStore(config, log);
  // A data dir whose KMS state is in LevelDB must not silently get a new, empty one in the database.
  if (shared && !shared.keyStoreExists && existsSync(join(config.dataDir, 'kms', 'CURRENT'))) {
    await shared.close();
    throw new DataDirError(
      `refusing to start: ${join(config.dataDir, 'kms')} holds this data dir's KMS key store, but COFFER_KMS_STORE_URL ` +
        '(by default COFFER_META_URL) puts the KMS state in the database, which has none yet. Keep it local with ' +
        'COFFER_KMS_STORE_URL=local; there is no automatic import into the database',
    );
  }
  // What opened so far, closed in reverse if a later step fails (a held LevelDB lock would block the next start).
  const opened: Array<() => Promise<unknown>> = [];
  if (shared) opened.push(() => shared.close());
  let master;
  try {
    // A key store sealed under a key that cannot be found must not get a new one.
    master = await openMasterKeySource(config, shared ? shared.keyStoreExists : guard.present.has('kms'), (m) =>
      log.warn(m),
    );
  } catch (e) {
    await shared?.close();
    throw e;
  }
  let secrets: Buffer | undefined;
  try {
    // The IAM authorizer is bound once IAM is open: the KMS opens first because its
    // key check value is what refuses a wrong master key before anything is written.
    let iamAuthorizer: KeyAuthorizer | undefined;
    const authorizer: KeyAuthorizer = {
      canUse: async (t, k, r) => (iamAuthorizer ? iamAuthorizer.canUse(t, k, r) : false),
    };
    const auditPath = join(config.dataDir, 'kms-audit.log');
    const audit = await AuditLog.open(auditPath, {
      onError: (e) => log.warn('kms audit append failed', { err: e.message }),
      onWarn: (m) => log.warn(m),
      ...(config.auditMaxBytes !== undefined ? { maxBytes: config.auditMaxBytes } : {}),
    });
    opened.push(() => audit.close());
    // Metrics count what the audit log records (both paths), for instances whose
    // metrics policy is on; the policies are read once their store is open.
    let policies: InstancePolicies | undefined;
    const metrics = new KmsMetrics((id) => policies?.metricsEnabled(id) === true);
    const auditAndMetrics = teeAudit(audit, metrics);
    const kms = await openingStore(join(config.dataDir, 'kms'), 'kms', () =>
      openEmbeddedKms({
        dir: join(config.dataDir, 'kms'),
        masterKey: master.sealer,
        region: config.region,
        dekCacheTtlMs: config.dekCacheTtlSeconds * 1000,
        log,
        authorizer,
        audit: auditAndMetrics,
        ...(opts.now ? { now: opts.now } : {}),
        ...(shared ? { sharedKv: shared.kms } : {}),
      }),
    );
    opened.push(() => kms.close());
    const iamNew = shared ? !shared.iamExists : !guard.present.has('iam');
    const m = master;
    const secretsKey = await kms.local.store.locks.run('kms/secrets-key', () => m.secretsKey(kms.local.store, iamNew));
    secrets = secretsKey;
    let root = await loadRootIdentity(config.dataDir, secretsKey, config.rootUser, config.rootPassword);
    if (shared) {
      const accountId = await shared.rootAccountId(root.accountId);
      if (accountId !== root.accountId)
        root = await loadRootIdentity(config.dataDir, secretsKey, config.rootUser, config.rootPassword, accountId);
    }
    const iam = await openingStore(join(config.dataDir, 'iam'), 'iam', () =>
      openIam({
        dir: join(config.dataDir, 'iam'),
        ...(shared ? { kv: shared.iam } : {}),
        masterKey: secretsKey,
        rootAccountId: root.accountId,
        configuredRootApiKey: config.rootApiKey,
        configuredGatewayApiKey: config.gatewayApiKey ?? '',
        generateGatewayApiKey: opts.generateGatewayApiKey === true,
        implicitSameAccountAuthorization: config.implicitSameAccountAuthorization === true,
      }),
    );
    opened.push(() => iam.close());
    // Authorization changes join the key event feed; a revoke also drops the
    // embedded gateway's cached DEKs under it at once (split-mode gateways drop
    // theirs when the event reaches them).
    iam.access.onAuthorizationChange(async (c) => {
      const t = c.authorization.target;
      // A key-ring grant drops its whole instance, an account-wide one every cached DEK: more than needed, never less.
      if (c.kind === 'revoked') {
        if (t.instanceId === undefined) kms.dekCache.clear();
        else kms.dekCache.invalidateTarget(t.instanceId, t.keyRing === undefined ? t.keyId : undefined);
      }
      // An account-wide grant names no instance: its event has none, and a split-mode gateway drops every cached DEK.
      await kms.local.service.events.append({
        type: c.kind === 'revoked' ? 'authorization_revoked' : 'authorization_granted',
        at: (opts.now ?? Date.now)(),
        ...(t.instanceId !== undefined ? { instanceId: t.instanceId } : {}),
        ...(t.keyId !== undefined && t.keyRing === undefined ? { keyId: t.keyId } : {}),
        account: c.authorization.source.accountId,
      });
    });
    const webhooks = new WebhookDispatcher({ feed: kms.local.service.events, log });
    await webhooks.start();
    opened.push(() => webhooks.close());
    // The default key is usable by every tenant.
    const boot = await kms.local.provider.bootstrap();
    iamAuthorizer = new IamKeyAuthorizer(iam.access, {
      defaultKey: () => ({ instanceId: boot.instanceId, keyId: boot.keyId }),
      keyRingOf: async (instanceId, keyId) => (await kms.local.service.store.getKey(instanceId, keyId))?.keyRingID,
    });
    await kms.ensureTenant(root.accountId);
    // Once per IAM store: old account grants to IBM's source-instance model, and the
    // Reader authorization each existing instance's own account needs from now on
    // (on a new data dir: the root account's, for its own instance).
    const migrated = await iam.store.locks.run('iam/bootstrap', async () =>
      migrateAuthorizations(iam.store, await kms.local.service.listInstances(), opts.now),
    );
    if (migrated.converted + migrated.granted > 0)
      log.info('service-to-service authorizations migrated', { ...migrated });
    const defaultRootKeyCrn = await kms.provider.defaultRootKeyCrn({ tenant: root.accountId });
    const instanceDir = join(config.dataDir, 'kms-instance');
    const instanceState = await openingStore(instanceDir, 'kms-instance', () =>
      shared ? InstanceStateStore.openOn(shared.instance) : InstanceStateStore.open(instanceDir),
    );
    opened.push(() => instanceState.close());
    policies = new InstancePolicies(instanceState, kms.local.service, opts.now ?? Date.now);
    // IAM accounts' access keys, with the root credentials first so they keep working as before.
    const credentials = new IamCredentialStore(iam.service, [
      {
        accessKeyId: root.accessKeyId,
        secretAccessKey: root.secretAccessKey,
        principal: { accountId: root.accountId, accessKeyId: root.accessKeyId, displayName: 'root' },
      },
    ]);
    const backup = new BackupSources(config.dataDir, guard.marker.instanceId);
    // A shared KMS store is backed up with the database's own tools, not by this process.
    if (!shared) {
      backup.add('kms', () => kms.local.store.snapshot());
      backup.add('iam', () => iam.store.snapshot());
      backup.add('kms-instance', () => instanceState.snapshot());
    }
    const app = createKmsApp({
      service: kms.local.service,
      iam,
      authorizer,
      state: instanceState,
      audit: auditAndMetrics,
      policies,
      metrics,
      network: {
        ...(config.privateNetworks ? { privateNetworks: config.privateNetworks } : {}),
        ...(config.trustedProxies ? { trustedProxies: config.trustedProxies } : {}),
      },
      log,
      region: config.region,
      ...(opts.now ? { now: opts.now } : {}),
      gateway: { credentials, defaultRootKeyCrn: async () => defaultRootKeyCrn },
      backup,
      readAudit: async (q) => {
        await audit.flush();
        return readAuditLog(auditPath, q);
      },
    });
    const listener = await listenKms(app, bindHost, config.kmsPort, tls);
    opened.push(() => listener.close());
    kms.url = listener.url;
    if (!opts.dataDir) await guard.ready();
    let closed = false;
    return {
      config,
      url: listener.url,
      kms,
      iam,
      audit,
      root,
      credentials,
      defaultRootKeyCrn,
      backup,
      ...(master.path !== undefined ? { masterKeyFile: master.path } : {}),
      ...(master.describe !== undefined ? { masterKeyToken: master.describe } : {}),
      async close() {
        if (closed) return;
        closed = true;
        await listener.close();
        await webhooks.close();
        await kms.close();
        await instanceState.close();
        await iam.close();
        await shared?.close();
        await audit.close();
      },
    };
  } catch (e) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw e;
  } finally {
    // Every store keeps what it needs (derived keys, its own copy).
    master?.wipe();
    secrets?.fill(0);
  }
}
