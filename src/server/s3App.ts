/**
 * The Koa app for the S3 API. The middleware order lives here and nowhere else:
 * requestId -> errors -> health -> target -> CORS (preflight, headers) -> route -> authenticate (or anonymous)
 * -> authorize (bucket policy, public access block, ACLs) -> dispatch -> respond.
 */
import Koa from 'koa';
import type { Context } from 'koa';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CredentialStore } from '../auth/credentials.js';
import { createBodyDecoder, declaredLength } from '../auth/sigv4/bodyDecoder.js';
import { isAnonymous, verifySigV4, type PayloadMode, type VerifiedAuth } from '../auth/sigv4/verify.js';
import type { Config } from '../config.js';
import type { HandlerResult, S3RequestContext, Services } from '../s3/context.js';
import type { BucketRecord } from '../services/types.js';
import { S3Error } from '../s3/errors.js';
import { dispatch } from '../s3/handlers/index.js';
import { handlePostObject } from '../s3/handlers/postObject.js';
import { header } from '../s3/headers.js';
import { actualRequestHeaders, handlePreflight } from '../s3/middleware/cors.js';
import { errorsMiddleware } from '../s3/middleware/errors.js';
import { resolveTarget } from '../s3/middleware/hostStyle.js';
import { requestIdMiddleware } from '../s3/middleware/requestId.js';
import { withParams } from '../s3/operations.js';
import { ANONYMOUS_PRINCIPAL, authorizeRequest } from '../s3/authorizeRequest.js';
import { route } from '../s3/router.js';
import { renderXml } from '../s3/xml/encode.js';
import type { Logger } from '../util/logger.js';
import { answerHealthDetail } from './healthDetail.js';

/** The 100-continue expectation, as Node recognises it. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

export interface S3AppDeps {
  config: Config;
  services: Services;
  credentials: CredentialStore;
  log: Logger;
  now?: () => Date;
  /** Whether an access key is an admin one (GET /health?detail=1); default: none is. */
  isAdmin?: (accessKeyId: string) => boolean;
  /** The document GET /health?detail=1 answers (healthDetail.ts). */
  health?: () => Record<string, unknown>;
}

export function createS3App(deps: S3AppDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  app.on('error', (err: Error) => deps.log.debug('koa error', { err: err.message }));
  app.use(requestIdMiddleware(deps.log));
  app.use(errorsMiddleware(deps.log));
  app.use(async (ctx) => handle(ctx, deps));
  return app;
}

async function handle(ctx: Context, deps: S3AppDeps): Promise<void> {
  const { config, log } = deps;
  const url = ctx.req.url ?? '/';
  const target = resolveTarget(url, header(ctx.req.headers, 'host'), config.baseDomain);
  const unsigned = isAnonymous({
    method: ctx.method,
    rawPath: target.rawPath,
    rawQuery: target.rawQuery,
    headers: ctx.req.headers,
  });
  const isHealth = target.bucket === 'health' && !target.key && ctx.method === 'GET';
  if (isHealth && new URLSearchParams(target.rawQuery).get('detail') === '1') {
    return answerHealthDetail(
      ctx,
      {
        config,
        credentials: deps.credentials,
        isAdmin: deps.isAdmin ?? (() => false),
        health: deps.health ?? (() => ({ status: 'ok' })),
        ...(deps.now ? { now: deps.now } : {}),
      },
      target,
      unsigned,
    );
  }
  // Liveness: an unauthenticated GET /health (an authenticated one is ListObjects on a bucket named "health").
  if (isHealth && unsigned) {
    ctx.type = 'application/json';
    ctx.body = JSON.stringify({ status: 'ok' });
    return;
  }
  ctx.state.resource = target.bucket ? `/${target.bucket}${target.key ? '/' + target.key : ''}` : '/';
  // CORS: a preflight is answered from the bucket's rules alone; any other
  // request with an Origin gets its Access-Control-* headers now, so that its
  // error answers carry them too.
  if (ctx.method === 'OPTIONS' && target.bucket) {
    ctx.state.op = 'Preflight';
    const allowed = await handlePreflight(deps.services.buckets, target.bucket, target.key, ctx.req.headers);
    ctx.status = 200;
    for (const [k, v] of Object.entries(allowed)) ctx.set(k, v);
    ctx.body = '';
    return;
  }
  const cors = await actualRequestHeaders(deps.services.buckets, target.bucket, ctx.method, ctx.req.headers, log);
  for (const [k, v] of Object.entries(cors)) ctx.set(k, v);
  const expectation = header(ctx.req.headers, 'expect');
  if (expectation !== undefined && !CONTINUE.test(expectation))
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', {
      Header: 'Expect',
    });
  ctx.state.bucket = target.bucket;
  const query = new URLSearchParams(target.rawQuery);
  const routed = route(ctx.method, target.bucket, target.key, query, ctx.req.headers);
  ctx.state.op = routed.name;
  if (routed.name === 'PostObject') {
    await respond(ctx, await postObject(ctx, deps, routed.bucket), log, String(ctx.state.requestId));
    return;
  }
  // An unsigned request goes on as the anonymous principal: access control
  // (authorizeRequest) lets it through exactly where an ACL or policy allows it.
  const auth = unsigned
    ? anonymousAuth(ctx.req.headers, config.region)
    : await verifySigV4(
        // headersDistinct keeps repeated headers apart: SigV4 joins their values with
        // ",", where Node's joined form uses ", " and would never verify.
        { method: ctx.method, rawPath: target.rawPath, rawQuery: target.rawQuery, headers: ctx.req.headersDistinct },
        deps.credentials,
        {
          region: config.region,
          service: 's3',
          now: deps.now?.() ?? new Date(),
          maxSkewSeconds: 900,
          maxPresignSeconds: 604800,
        },
      );
  ctx.state.accessKeyId = auth.accessKeyId;
  const op = withParams(routed, query);
  const abort = new AbortController();
  ctx.req.once('close', () => {
    if (!ctx.req.complete) abort.abort();
  });
  const rctx = buildContext(ctx, deps, auth, unsigned, op, query, abort.signal);
  await authorizeRequest(rctx);
  const result = await dispatch(rctx);
  await respond(ctx, result, log, rctx.requestId);
}

/**
 * The auth of an unsigned request: no key, no signature. Its body is checked
 * against x-amz-content-sha256 when that is a digest, read as an unsigned
 * aws-chunked body with trailers when it says so, else taken as sent; a body
 * that claims chunk signatures cannot be anonymous.
 */
function anonymousAuth(headers: Context['req']['headers'], region: string): VerifiedAuth {
  const sha = header(headers, 'x-amz-content-sha256');
  let payloadMode: PayloadMode = 'unsigned';
  if (sha !== undefined && /^[0-9a-f]{64}$/i.test(sha)) payloadMode = 'sha256';
  else if (sha === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') payloadMode = 'streaming-unsigned-trailer';
  else if (sha !== undefined && sha.startsWith('STREAMING-'))
    throw new S3Error('AccessDenied', 'A signed streaming body needs a signed request.');
  return {
    principal: ANONYMOUS_PRINCIPAL,
    accessKeyId: '',
    region,
    scope: '',
    amzDate: '',
    signingKey: Buffer.alloc(0),
    signature: '',
    presigned: false,
    payloadMode,
    ...(payloadMode === 'sha256' ? { payloadHash: sha!.toLowerCase() } : {}),
  };
}

/** A browser form upload: its form fields, not its headers, carry the signature (handlePostObject). */
function postObject(ctx: Context, deps: S3AppDeps, bucket: string): Promise<HandlerResult> {
  const abort = new AbortController();
  ctx.req.once('close', () => {
    if (!ctx.req.complete) abort.abort();
  });
  return handlePostObject({
    requestId: String(ctx.state.requestId),
    bucket,
    req: ctx.req,
    services: deps.services,
    credentials: deps.credentials,
    config: deps.config,
    now: deps.now?.() ?? new Date(),
    signal: abort.signal,
    writeContinue: () => {
      if (!ctx.res.headersSent) ctx.res.writeContinue();
    },
  });
}

function buildContext(
  ctx: Context,
  deps: S3AppDeps,
  auth: VerifiedAuth,
  anonymous: boolean,
  op: S3RequestContext['op'],
  query: URLSearchParams,
  signal: AbortSignal,
): S3RequestContext {
  let decoder: ReturnType<typeof createBodyDecoder> | undefined;
  const getDecoder = () => {
    if (!decoder) {
      // Expect: 100-continue is answered here: after authentication, and only
      // when a handler wants the body (a request refused first never sends it).
      const expectation = header(ctx.req.headers, 'expect');
      if (expectation !== undefined && CONTINUE.test(expectation) && !ctx.res.headersSent) ctx.res.writeContinue();
      decoder = createBodyDecoder(auth, ctx.req.headers);
      const d = decoder.stream;
      ctx.req.on('error', (e) => d.destroy(e));
      ctx.req.on('aborted', () => d.destroy(new S3Error('IncompleteBody')));
      ctx.req.pipe(d);
    }
    return decoder;
  };
  const buckets = new Map<string, Promise<BucketRecord>>();
  const bucketRecord = (name: string): Promise<BucketRecord> => {
    let b = buckets.get(name);
    if (b === undefined) {
      b = deps.services.buckets.lookup(name);
      buckets.set(name, b);
    }
    return b;
  };
  const rctx: S3RequestContext = {
    requestId: String(ctx.state.requestId),
    op,
    principal: auth.principal,
    anonymous,
    account: auth.principal.accountId,
    bucketRecord,
    bucket: async (name) => {
      const b = await bucketRecord(name);
      // Only ever after authorizeRequest allowed this bucket: a handler reached any other way gets nothing.
      if (b.owner !== rctx.account) throw new S3Error('AccessDenied', 'Access Denied');
      return b;
    },
    query,
    headers: ctx.req.headers,
    req: ctx.req,
    services: deps.services,
    config: deps.config,
    log: deps.log.child({ requestId: ctx.state.requestId }),
    signal,
    body: () => getDecoder().stream,
    bodyLength: () => declaredLength(auth.payloadMode, ctx.req.headers),
    readText: async () => {
      const limit = deps.config.maxXmlBytes;
      const declared = Number(header(ctx.req.headers, 'content-length') ?? 0);
      if (declared > limit) throw new S3Error('MaxMessageLengthExceeded');
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of getDecoder().stream as AsyncIterable<Buffer>) {
        n += c.length;
        if (n > limit) throw new S3Error('MaxMessageLengthExceeded');
        chunks.push(c);
      }
      return Buffer.concat(chunks).toString('utf8');
    },
    trailers: () => decoder?.result().trailers ?? {},
  };
  return rctx;
}

/**
 * Write a HandlerResult. Stream bodies bypass Koa's responder: headers go out
 * only after the first plaintext chunk has been authenticated, and a failure
 * after that destroys the socket instead of ending the response cleanly.
 */
async function respond(ctx: Context, r: HandlerResult, log: Logger, requestId: string): Promise<void> {
  const status = r.status ?? 200;
  if (r.body && typeof r.body === 'object' && 'pipe' in r.body) {
    const body = r.body as Readable;
    const it = body[Symbol.asyncIterator]();
    const first = await it.next();
    ctx.respond = false;
    const res = ctx.res;
    res.statusCode = status;
    for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
    try {
      await pipeline(async function* () {
        if (!first.done) yield first.value as Buffer;
        for (;;) {
          const n = await it.next();
          if (n.done) return;
          yield n.value as Buffer;
        }
      }, res);
    } catch (e) {
      log.error('response stream failed; socket destroyed', { requestId, err: (e as Error).message });
      res.destroy();
      ctx.req.socket.destroy();
    }
    return;
  }
  ctx.status = status;
  if (r.xml) {
    ctx.type = 'application/xml';
    ctx.body = renderXml(r.xml);
  } else if (r.body !== undefined) {
    ctx.body = r.body;
  } else if (ctx.method !== 'HEAD' && status !== 204 && status !== 304) {
    ctx.body = '';
  }
  for (const [k, v] of Object.entries(r.headers ?? {})) ctx.set(k, v);
}
