/**
 * The push channel from the KMS to split-mode gateways:
 *
 *   GET /iam/v1/key-events[?heartbeatMs=N]     (text/event-stream)
 *
 * Server-sent events of the key event feed (src/kms/keyEvents.ts), for gateway service
 * identities only (their bearer token, as for the other gateway lookups; a user
 * or another service gets 403). Each feed event is one SSE message
 * `id: <seq>` / `event: key` / `data: <FeedEvent JSON>`. A client that sends
 * `Last-Event-ID: <seq>` gets every event after it first (replay), then the live
 * ones, in order and without gaps. Also:
 *
 *   event: hello      on a connection without Last-Event-ID; `id` is the newest
 *                     sequence (nothing older is replayed: the client has no cache yet)
 *   event: reset      the client's Last-Event-ID is older than the oldest kept
 *                     event (or newer than the newest: another store); it must drop
 *                     every cached DEK; `id` is the newest sequence
 *   event: heartbeat  every heartbeatMs (100..15000, default 5000): how a
 *                     gateway tells "nothing happened" from "cut off"
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { IamService } from '../iamService.js';
import { IamError } from '../errors.js';
import { bearer, renderIamError } from './http.js';
import type { Logger } from '../../util/logger.js';
import type { FeedEvent, KeyEventFeed } from '../../kms/keyEvents.js';

export interface EventStreamDeps {
  iam: IamService;
  feed: KeyEventFeed;
  log: Logger;
}

export const KEY_EVENTS_PATH = '/iam/v1/key-events';
const DEFAULT_HEARTBEAT_MS = 5000;

function heartbeatOf(v: unknown): number {
  const n = typeof v === 'string' && /^\d{1,6}$/.test(v) ? Number(v) : DEFAULT_HEARTBEAT_MS;
  return Math.min(15_000, Math.max(100, n));
}

function lastEventIdOf(ctx: Context): number | undefined {
  const v = ctx.get('last-event-id');
  if (v === '') return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new IamError(400, 'INVALID_INPUT', 'Last-Event-ID must be a sequence number');
  return Number(v);
}

export function eventStreamRouter(deps: EventStreamDeps): Router {
  const router = new Router();
  router.get(KEY_EVENTS_PATH, async (ctx: Context) => {
    let last: number | undefined;
    try {
      const caller = bearer(ctx, deps.iam);
      if (caller.identity.kind !== 'service' || caller.identity.gateway !== true)
        throw new IamError(403, 'FORBIDDEN', 'Only a gateway service identity may follow the key events');
      last = lastEventIdOf(ctx);
    } catch (e) {
      renderIamError(ctx, e, (m) => deps.log.error(m, { path: KEY_EVENTS_PATH }));
      return;
    }
    const heartbeatMs = heartbeatOf(ctx.query.heartbeatMs);
    const { req, res } = ctx;
    ctx.respond = false;
    req.socket.setNoDelay(true);
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    let open = true;
    let sent = 0;
    let live = false;
    const buffered: FeedEvent[] = [];
    const write = (s: string) => {
      if (open) res.write(s);
    };
    const sendEvent = (ev: FeedEvent) => {
      if (ev.seq <= sent) return;
      sent = ev.seq;
      write(`id: ${ev.seq}\nevent: key\ndata: ${JSON.stringify(ev)}\n\n`);
    };
    // Subscribe first, then replay: an event committed meanwhile is buffered, never lost.
    const unsubscribe = deps.feed.subscribe((ev) => (live ? sendEvent(ev) : buffered.push(ev)));
    const timer = setInterval(() => write(`event: heartbeat\ndata: {"seq":${deps.feed.lastSeq}}\n\n`), heartbeatMs);
    const done = () => {
      open = false;
      clearInterval(timer);
      unsubscribe();
    };
    req.on('close', done);
    res.on('close', done);
    res.on('error', done);
    try {
      if (last === undefined || last > deps.feed.lastSeq || last < deps.feed.firstSeq - 1) {
        sent = deps.feed.lastSeq;
        write(`id: ${sent}\nevent: ${last === undefined ? 'hello' : 'reset'}\ndata: {"seq":${sent}}\n\n`);
      } else {
        sent = last;
        for (;;) {
          const page = await deps.feed.listAfter(sent, 500);
          if (page.length === 0 || !open) break;
          for (const ev of page) sendEvent(ev);
        }
      }
      for (const ev of buffered.splice(0)) sendEvent(ev);
      live = true;
    } catch (e) {
      deps.log.warn('key event replay failed', { err: (e as Error).message });
      done();
      res.destroy();
    }
  });
  return router;
}
