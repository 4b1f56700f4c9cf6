/**
 * GET /metrics on the KMS listener: the Prometheus exposition of KmsMetrics
 * (instances whose metrics policy is on). Instance ids are not public, so it
 * answers clients on a private network only (network.ts; 403 otherwise).
 * No bearer token: a Prometheus scraper holds no IAM identity, and with mutual
 * TLS on the listener it must present a client certificate anyway.
 */
import type { Context, Next } from 'koa';
import type { KmsMetrics } from '../metrics.js';
import type { Network } from './network.js';

export function metricsRoute(metrics: KmsMetrics, net: Network) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (ctx.path !== '/metrics') return next();
    ctx.set('cache-control', 'no-store');
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('allow', 'GET, HEAD');
      return;
    }
    if (!net.clientOf(ctx).isPrivate) {
      ctx.status = 403;
      ctx.type = 'text/plain';
      ctx.body = 'metrics are served to private networks only (COFFER_PRIVATE_NETWORKS)\n';
      return;
    }
    const { contentType, body } = await metrics.render();
    ctx.status = 200;
    ctx.type = contentType;
    ctx.body = body;
  };
}
