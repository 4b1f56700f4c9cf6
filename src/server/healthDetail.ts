/**
 * GET /health?detail=1: the state of the blob store's drives (online, missing,
 * healing, with counts), the heal queue and the background scrub, for an
 * operator. Authenticated: a SigV4-signed request by an admin credential (the
 * root S3 credentials). An unsigned ?detail=1 gets 403 AccessDenied in S3 XML;
 * plain unsigned GET /health stays the `{"status":"ok"}` liveness answer.
 *
 * This shadows ListObjects with a `detail=1` query on a bucket named "health";
 * a listing never needs that parameter.
 */
import type { Context } from 'koa';
import type { CredentialStore } from '../auth/credentials.js';
import { verifySigV4 } from '../auth/sigv4/verify.js';
import type { Config } from '../config.js';
import { S3Error } from '../s3/errors.js';
import type { BackgroundHealer } from '../storage/erasure/backgroundHealer.js';

export interface HealthSource {
  /** What kind of blob store runs: 'erasure', 'files', 's3', 'memory'. */
  blobStore: string;
  healer?: BackgroundHealer;
}

/** The JSON document; "degraded" when some drive is not online. */
export function healthDocument(src: HealthSource): Record<string, unknown> {
  if (!src.healer) return { status: 'ok', blobStore: src.blobStore };
  const s = src.healer.status();
  const degraded = s.drives.some((d) => d.state !== 'online');
  return { status: degraded ? 'degraded' : 'ok', blobStore: src.blobStore, ...s };
}

export async function answerHealthDetail(
  ctx: Context,
  d: {
    config: Config;
    credentials: CredentialStore;
    isAdmin: (accessKeyId: string) => boolean;
    health: () => Record<string, unknown>;
    now?: () => Date;
  },
  target: { rawPath: string; rawQuery: string },
  unsigned: boolean,
): Promise<void> {
  ctx.state.resource = '/health';
  ctx.state.op = 'HealthDetail';
  if (unsigned) throw new S3Error('AccessDenied', 'GET /health?detail=1 must be signed by an admin credential.');
  const auth = await verifySigV4(
    { method: ctx.method, rawPath: target.rawPath, rawQuery: target.rawQuery, headers: ctx.req.headersDistinct },
    d.credentials,
    {
      region: d.config.region,
      service: 's3',
      now: d.now?.() ?? new Date(),
      maxSkewSeconds: 900,
      maxPresignSeconds: 604800,
    },
  );
  ctx.state.accessKeyId = auth.accessKeyId;
  if (!d.isAdmin(auth.accessKeyId)) throw new S3Error('AccessDenied', 'Drive health is for admin credentials.');
  ctx.type = 'application/json';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = JSON.stringify(d.health());
}
