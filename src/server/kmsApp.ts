/**
 * The Koa app for the Key Protect compatible KMS API, and its listener. The
 * middleware order lives here: last-resort errors -> GET /metrics -> POST /identity/token ->
 * /iam/v1 management -> /iam/v1 gateway lookups and audit -> /api/v2 Key
 * Protect -> not found. Each route family
 * renders its own errors (Key Protect's body under /api/v2, IBM IAM's under
 * /identity and /iam); nothing here logs a header or a body.
 */
import type { Server } from 'node:http';
import Koa from 'koa';
import type { Context, Next } from 'koa';
import type { CredentialStore } from '../auth/credentials.js';
import type { AuditEntry, AuditQuery, AuditSink } from '../kms/audit.js';
import type { KeyAuthorizer } from '../identity/keyAuthorizer.js';
import type { KmsService } from '../kms/kmsService.js';
import type { KmsApiDeps } from '../kms/api/context.js';
import { ImportTokens } from '../kms/importTokens.js';
import { InstancePolicies } from '../kms/instancePolicies.js';
import type { InstanceStateStore } from '../kms/instanceState.js';
import { KeyRings } from '../kms/keyRings.js';
import { eventStreamRouter } from '../iam/api/keyEventsRoute.js';
import { metricsRoute } from '../kms/api/metricsRoute.js';
import { network, type NetworkSettings } from '../kms/api/network.js';
import { kmsRouter, notFoundError, renderKmsError } from '../kms/api/routes.js';
import type { KmsMetrics } from '../kms/metrics.js';
import { auditRouter } from '../iam/api/auditRoutes.js';
import { gatewayRouter } from '../iam/api/gatewayRoutes.js';
import { iamRouter } from '../iam/api/iamRoutes.js';
import { policyRouter } from '../iam/api/policyRoutes.js';
import { renderIamError } from '../iam/api/http.js';
import { tokenRouter } from '../iam/api/tokenRoute.js';
import { IamError } from '../iam/errors.js';
import type { Iam } from '../iam/openIam.js';
import type { Logger } from '../util/logger.js';
import { backupRouter, type BackupSources } from './backup/backupRoute.js';
import { createListener, listenerUrl, type ListenerTls } from './listenerTls.js';

export interface KmsAppDeps {
  service: KmsService;
  iam: Iam;
  authorizer: KeyAuthorizer;
  state: InstanceStateStore;
  audit: AuditSink;
  log: Logger;
  /** Region of instances created through /iam/v1/instances. */
  region: string;
  importTokens?: ImportTokens;
  now?: () => number;
  /** What split-mode gateways look up here: S3 credentials and the default root key (gatewayRoutes.ts). */
  gateway?: { credentials: CredentialStore; defaultRootKeyCrn: () => Promise<string> };
  /** Reads the audit log for GET /iam/v1/audit. */
  readAudit?: (q: AuditQuery) => Promise<AuditEntry[]>;
  /** The stores POST /admin/v1/backup snapshots (backup/backupRoute.ts). */
  backup?: BackupSources;
  /** Private networks and trusted proxies (allowedNetwork, allowedIP, /metrics). */
  network?: NetworkSettings;
  /** Served on GET /metrics when given. */
  metrics?: KmsMetrics;
  /** The instance policies, when the caller needs the same object (the metrics policy). */
  policies?: InstancePolicies;
}

export function createKmsApp(d: KmsAppDeps): Koa {
  const now = d.now ?? Date.now;
  const api: KmsApiDeps = {
    service: d.service,
    iam: d.iam.service,
    access: d.iam.access,
    authorizer: d.authorizer,
    keyRings: new KeyRings(d.state, d.service, now),
    policies: d.policies ?? new InstancePolicies(d.state, d.service, now),
    importTokens: d.importTokens ?? new ImportTokens(now),
    audit: d.audit,
    log: d.log,
    now,
    network: network(d.network),
  };
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  app.use(async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (e) {
      renderKmsError(ctx, api, e);
    }
  });
  if (d.metrics) app.use(metricsRoute(d.metrics, api.network));
  const token = tokenRouter(d.iam.service, d.audit, d.log);
  const iam = iamRouter({
    iam: d.iam.service,
    access: d.iam.access,
    kms: d.service,
    region: d.region,
    audit: d.audit,
    log: d.log,
  });
  const policies = policyRouter({
    iam: d.iam.service,
    access: d.iam.access,
    kms: d.service,
    audit: d.audit,
    log: d.log,
  });
  const kms = kmsRouter(api);
  app.use(token.routes());
  app.use(iam.routes());
  app.use(policies.routes());
  if (d.gateway)
    app.use(
      gatewayRouter({
        iam: d.iam.service,
        credentials: d.gateway.credentials,
        defaultRootKeyCrn: d.gateway.defaultRootKeyCrn,
        log: d.log,
      }).routes(),
    );
  // The push channel to split-mode gateways (the key event feed as server-sent events).
  if (d.gateway) app.use(eventStreamRouter({ iam: d.iam.service, feed: d.service.events, log: d.log }).routes());
  if (d.backup) app.use(backupRouter({ iam: d.iam.service, sources: d.backup, log: d.log }).routes());
  if (d.readAudit) app.use(auditRouter({ iam: d.iam.service, kms: d.service, read: d.readAudit, log: d.log }).routes());
  app.use(kms.routes());
  app.use(async (ctx: Context) => {
    if (ctx.path.startsWith('/iam/') || ctx.path.startsWith('/identity/')) {
      renderIamError(ctx, new IamError(404, 'NOT_FOUND', 'The requested resource could not be found'), () => undefined);
      return;
    }
    renderKmsError(ctx, api, notFoundError());
  });
  return app;
}

export interface KmsListener {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Listens on host:port (0 = ephemeral); HTTPS with `tls`. */
export async function listenKms(app: Koa, host: string, port: number, tls?: ListenerTls): Promise<KmsListener> {
  const server = createListener(
    { requestTimeout: 60_000, headersTimeout: 30_000, keepAliveTimeout: 65_000 },
    app.callback(),
    tls,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = listenerUrl(server, tls !== undefined);
  return {
    server,
    url,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
