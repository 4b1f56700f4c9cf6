/**
 * HTTP helpers of the IAM endpoints: IBM IAM's error shape
 * ({errorCode, errorMessage}; IBM's SDK core reads errorMessage), and IAM's
 * errors for the shared body reading and bearer authentication (src/restApi/).
 */
import type { Context } from 'koa';
import { KmsError } from '../../keys/errors.js';
import { callerFromBearer } from '../../restApi/bearer.js';
import { BodyError, parseJsonObject, readBody } from '../../restApi/body.js';
import { writeJson } from '../../restApi/response.js';
import { IamError } from '../errors.js';
import type { Caller } from '../../identity/caller.js';
import { TokenError } from '../../identity/tokenError.js';
import type { IamService } from '../iamService.js';

export const MAX_IAM_BODY_BYTES = 16 * 1024;

/** The status and IBM IAM error body for an error; `internal` when it is none of ours (it is then logged, not shown). */
export function iamErrorOf(err: unknown): {
  status: number;
  errorCode: string;
  errorMessage: string;
  internal: boolean;
} {
  if (err instanceof IamError)
    return { status: err.status, errorCode: err.code, errorMessage: err.message, internal: false };
  // The KMS core's errors (e.g. creating an instance), in IAM's shape.
  if (err instanceof KmsError)
    return { status: err.status, errorCode: err.reason, errorMessage: err.message, internal: false };
  if (err instanceof TokenError)
    return {
      status: 401,
      errorCode: 'BXNIM0407E',
      errorMessage: 'The bearer token is invalid or expired',
      internal: false,
    };
  return {
    status: 500,
    errorCode: 'INTERNAL_ERROR',
    errorMessage: 'The service encountered an internal error',
    internal: true,
  };
}

export function renderIamError(
  ctx: Context,
  err: unknown,
  log: (msg: string, f: Record<string, unknown>) => void,
): void {
  const { status, errorCode, errorMessage, internal } = iamErrorOf(err);
  if (internal) log('iam api internal error', { err: (err as Error)?.message, path: ctx.path });
  writeJson(ctx, status, { errorCode, errorMessage, status });
}

export async function readJson(ctx: Context): Promise<Record<string, unknown>> {
  const raw = await readBody(ctx.req, MAX_IAM_BODY_BYTES).catch(() => {
    throw new IamError(400, 'INVALID_INPUT', `The request body is larger than ${MAX_IAM_BODY_BYTES} bytes`);
  });
  try {
    return parseJsonObject(raw) ?? {};
  } catch (e) {
    throw e instanceof BodyError ? new IamError(400, 'INVALID_INPUT', e.message) : e;
  }
}

export async function readForm(ctx: Context): Promise<URLSearchParams> {
  const raw = await readBody(ctx.req, MAX_IAM_BODY_BYTES).catch(() => {
    throw new IamError(400, 'BXNIM0109E', `The request body is larger than ${MAX_IAM_BODY_BYTES} bytes`);
  });
  return new URLSearchParams(raw.toString('utf8'));
}

export function bearer(ctx: Context, iam: IamService): Caller {
  return callerFromBearer(
    iam,
    ctx.get('authorization'),
    () => new IamError(401, 'UNAUTHORIZED', 'A bearer token from POST /identity/token is required'),
  );
}

/** Only the named fields; anything else is an error (typos must not be silently ignored). */
export function fields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw new IamError(400, 'INVALID_INPUT', `Unknown field '${k}'`);
  }
}
