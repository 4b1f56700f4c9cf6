/** Writing a JSON response (success or error body) the way both REST adapters do. */
import type { Context } from 'koa';

/** `body` null: no body (a HEAD response), the status and type still set. */
export function writeJson(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = body === null ? null : JSON.stringify(body);
}
