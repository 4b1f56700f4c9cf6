/**
 * HTTP helpers of the IAM endpoints: IBM IAM's error shape
 * ({errorCode, errorMessage}; IBM's SDK core reads errorMessage), body reading
 * with a size limit, and bearer authentication.
 */
import type { Context } from 'koa';
import { readBody } from '../../kms/api/schema.js';
import { KmsApiError } from '../../kms/api/errors.js';
import { IamError } from '../errors.js';
import type { Caller, IamService } from '../iamService.js';
import { TokenError } from '../tokens.js';

export const MAX_IAM_BODY_BYTES = 16 * 1024;

export function renderIamError(ctx: Context, err: unknown, log: (msg: string, f: Record<string, unknown>) => void): void {
  let status = 500;
  let errorCode = 'INTERNAL_ERROR';
  let errorMessage = 'The service encountered an internal error';
  if (err instanceof IamError) {
    status = err.status;
    errorCode = err.code;
    errorMessage = err.message;
  } else if (err instanceof KmsApiError || (err instanceof Error && err.name === 'KmsError')) {
    const e = err as KmsApiError;
    status = e.status;
    errorCode = e.reason;
    errorMessage = e.message;
  } else if (err instanceof TokenError) {
    status = 401;
    errorCode = 'BXNIM0407E';
    errorMessage = 'The bearer token is invalid or expired';
  } else {
    log('iam api internal error', { err: (err as Error)?.message, path: ctx.path });
  }
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify({ errorCode, errorMessage, status });
}

export async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  const raw = await readBody(ctx.req, MAX_IAM_BODY_BYTES).catch(() => {
    throw new IamError(400, 'INVALID_INPUT', `The request body is larger than ${MAX_IAM_BODY_BYTES} bytes`);
  });
  if (raw.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new IamError(400, 'INVALID_INPUT', 'The request body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new IamError(400, 'INVALID_INPUT', 'The request body must be a JSON object');
  return v as Record<string, unknown>;
}

export async function readForm(ctx: Context): Promise<URLSearchParams> {
  const raw = await readBody(ctx.req, MAX_IAM_BODY_BYTES).catch(() => {
    throw new IamError(400, 'BXNIM0109E', `The request body is larger than ${MAX_IAM_BODY_BYTES} bytes`);
  });
  return new URLSearchParams(raw.toString('utf8'));
}

export function bearer(ctx: Context, iam: IamService): Caller {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
  if (!m) throw new IamError(401, 'UNAUTHORIZED', 'A bearer token from POST /identity/token is required');
  return iam.verify(m[1] as string);
}

/** Only the named fields; anything else is an error (typos must not be silently ignored). */
export function fields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw new IamError(400, 'INVALID_INPUT', `Unknown field '${k}'`);
  }
}
