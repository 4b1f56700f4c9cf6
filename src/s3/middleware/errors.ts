/**
 * Outermost S3 middleware: every error becomes S3 XML with the status from the
 * error table. HEAD and 304 answers carry no body. If the headers already went
 * out (a body stream failed mid-way) the socket is destroyed, so a client never
 * takes a short body for a complete one. Internal errors are logged with the
 * request id and never shown to the client.
 */
import type { Context, Next } from 'koa';
import { S3Error, toS3Error } from '../errors.js';
import { renderXml } from '../xml/encode.js';
import type { Logger } from '../../util/logger.js';

export function errorXml(err: S3Error, resource: string, requestId: string): string {
  return renderXml({
    root: 'Error',
    ns: false,
    body: { Code: err.code, Message: err.message, ...err.fields, Resource: resource, RequestId: requestId },
  });
}

export function errorsMiddleware(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
    } catch (raw) {
      const err = toS3Error(raw);
      const requestId = String(ctx.state.requestId ?? '');
      if (err.code === 'InternalError' || err.status >= 500) {
        log.error('request failed', {
          requestId,
          op: ctx.state.op,
          err: (raw as Error)?.message,
          stack: (raw as Error)?.stack,
        });
      }
      ctx.state.errorCode = err.code;
      if (ctx.headerSent || !ctx.writable) {
        ctx.req.socket.destroy();
        return;
      }
      ctx.status = err.status;
      for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
      // An error in the middle of an upload (a full disk, a bad chunk) leaves body
      // bytes unread. Nothing reads them once the handler has given up, so the
      // client would stall on a full socket and the connection could never carry
      // another request: discard them while the error goes out, and close after it.
      if (!ctx.req.complete) {
        ctx.set('Connection', 'close');
        ctx.req.unpipe();
        ctx.req.resume();
      }
      // No body on HEAD or 304. (Assigning null would make Koa turn the status into 204.)
      if (ctx.method === 'HEAD' || err.status === 304) return;
      ctx.type = 'application/xml';
      ctx.body = errorXml(err, ctx.state.resource ?? ctx.path, requestId);
    }
  };
}
