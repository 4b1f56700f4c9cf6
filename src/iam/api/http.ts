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

export function renderIamError(
  ctx: Context,
  err: unknown,
  log: (msg: string, f: Record<string, unknown>) => void,
): void {
  let status = 500;
  let errorCode = 'INTERNAL_ERROR';
  let errorMessage = 'The service encountered an internal error';
  if (err instanceof IamError) {
    status = err.status;
    errorCode = err.code;
    errorMessage = err.message;
  } else if (err instanceof KmsError) {
    // The KMS core's errors (e.g. creating an instance), in IAM's shape.
    status = err.status;
    errorCode = err.reason;
    errorMessage = err.message;
  } else if (err instanceof TokenError) {
    status = 401;
    errorCode = 'BXNIM0407E';
    errorMessage = 'The bearer token is invalid or expired';
  } else {
    log('iam api internal error', { err: (err as Error)?.message, path: ctx.path });
  }
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
