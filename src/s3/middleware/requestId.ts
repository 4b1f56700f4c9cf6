/**
 * Request id (also x-amz-request-id) and one structured log line per request.
 * The line names the operation, bucket and status; never headers, the query
 * (presigned URLs carry signatures) or any body.
 */
import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../../util/logger.js';

export function requestIdMiddleware(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const id = randomBytes(8).toString('hex').toUpperCase();
    const started = process.hrtime.bigint();
    ctx.state.requestId = id;
    ctx.set('x-amz-request-id', id);
    ctx.set('x-amz-id-2', randomBytes(24).toString('base64'));
    ctx.set('server', 'Coffer');
    const done = () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info('request', {
        requestId: id,
        method: ctx.method,
        op: ctx.state.op,
        bucket: ctx.state.bucket,
        status: ctx.res.statusCode,
        error: ctx.state.errorCode,
        ms: Math.round(ms * 10) / 10,
        access: ctx.state.accessKeyId,
      });
    };
    ctx.res.once('close', done);
    await next();
  };
}
